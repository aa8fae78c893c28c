"""A small OpenAI-compatible HTTP server for tests (stdlib only).

Serves the Chat Completions endpoint in both the OpenAI form (``POST /v1/chat/completions``) and the Azure form
(``POST /openai/deployments/<name>/chat/completions?api-version=...``), answering with scripted responses and
recording every request.

Example::

    with FakeOpenAIServer(responses=['{"a": 1}', 500]) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

ResponseItem = str | int | Callable[[dict[str, Any]], str]
"""One scripted answer: content string, HTTP error status, or callable mapping the request JSON to content."""

_CHAT_SUFFIX = "/chat/completions"


class FakeOpenAIServer:
    """OpenAI-compatible Chat Completions server bound to ``127.0.0.1`` on an ephemeral port.

    Responses are consumed in order, one per chat completion request; once the list is exhausted the last item is
    repeated. Each item is either a ``str`` (the assistant message content), an ``int`` HTTP status (answered with
    an OpenAI-style JSON error body), or a callable that takes the parsed request JSON and returns the content.

    Attributes:
        requests: Recorded requests, in arrival order. Each is a dict with keys ``"path"`` (URL path without the
            query string), ``"query"`` (raw query string, possibly empty), ``"headers"`` (lowercased names) and
            ``"json"`` (parsed body, or ``None`` if the body was empty or not valid JSON).
        host: Bound host (``"127.0.0.1"``).
        port: Bound port; ``0`` until the server is started.
    """

    def __init__(self, responses: Sequence[ResponseItem] | None = None, model: str | None = None) -> None:
        """Initialize the server without starting it.

        Args:
            responses: Scripted answers, consumed in order; the last one repeats. Defaults to ``[""]``.
            model: Model name to report in responses. Defaults to echoing the request's ``model`` field.
        """
        self._responses: list[ResponseItem] = list(responses) if responses else [""]
        self._model = model
        self._lock = threading.Lock()
        self._index = 0
        self.requests: list[dict[str, Any]] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, e.g. ``http://127.0.0.1:12345/v1``."""
        return f"{self.endpoint}/v1"

    @property
    def endpoint(self) -> str:
        """The bare server URL (no path), suitable as ``azure_endpoint``."""
        return f"http://{self.host}:{self.port}"

    @property
    def call_count(self) -> int:
        """Number of chat completion requests answered so far."""
        with self._lock:
            return self._index

    def start(self) -> Self:
        """Binds the socket and starts serving in a background thread.

        Returns:
            The server itself.

        Raises:
            RuntimeError: If the server is already running.
        """
        if self._httpd is not None:
            raise RuntimeError("FakeOpenAIServer is already running")
        httpd = ThreadingHTTPServer((self.host, 0), _make_handler(self))
        httpd.daemon_threads = True
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, name="FakeOpenAIServer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the background thread. Safe to call twice."""
        httpd, thread = self._httpd, self._thread
        self._httpd, self._thread = None, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> Self:
        """Start the server.

        Returns:
            The running server.
        """
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    def _record(self, path: str, query: str, headers: dict[str, str], body: object) -> None:
        with self._lock:
            self.requests.append({"path": path, "query": query, "headers": headers, "json": body})

    def _next_response(self) -> ResponseItem:
        with self._lock:
            item = self._responses[min(self._index, len(self._responses) - 1)]
            self._index += 1
            return item

    def _completion(self, request: object, content: str) -> dict[str, Any]:
        model = self._model
        if model is None:
            model = request.get("model") if isinstance(request, dict) else None
        prompt_tokens = len(json.dumps(request.get("messages", []))) // 4 if isinstance(request, dict) else 0
        completion_tokens = len(content) // 4
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model or "fake-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


def _error_body(status: int, message: str) -> dict[str, Any]:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Silence default request logging."""

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _read_and_record(self) -> tuple[str, Any]:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            server._record(parts.path, parts.query, headers, body)
            return parts.path, body

        def do_POST(self) -> None:
            """Answer chat completion requests; anything else gets a 404."""
            path, body = self._read_and_record()
            if not path.rstrip("/").endswith(_CHAT_SUFFIX):
                self._send_json(HTTPStatus.NOT_FOUND, _error_body(404, f"Unknown path: {path}"))
                return
            item = server._next_response()
            try:
                result = item(body) if callable(item) else item
            except Exception as exc:  # noqa: BLE001 - surfaced to the client as a 500
                self._send_json(500, _error_body(500, f"Response callable failed: {exc!r}"))
                return
            if isinstance(result, int) and not isinstance(result, bool):
                self._send_json(result, _error_body(result, f"Fake error with status {result}"))
                return
            self._send_json(HTTPStatus.OK, server._completion(body, str(result)))

        def do_GET(self) -> None:
            """Record the request and answer 404."""
            path, _ = self._read_and_record()
            self._send_json(HTTPStatus.NOT_FOUND, _error_body(404, f"Unknown path: {path}"))

    return _Handler
