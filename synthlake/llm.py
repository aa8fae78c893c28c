"""The OpenAI-compatible model: client set-up and JSON-answer calls.

Works with OpenAI, Azure OpenAI and any server that speaks the Chat Completions API
(vLLM, Ollama, LM Studio...). The key is read from the environment only:
``OPENAI_API_KEY``, or ``AZURE_OPENAI_API_KEY`` when ``azure_endpoint`` is set. A local
server that needs no key gets a placeholder.

Callers send aggregates only (counts, statistics, scores), never rows.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from synthlake.config import LLMSettings
from synthlake.errors import ConfigError

log = logging.getLogger(__name__)


KEY_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY")


def redact(text: str) -> str:
    """``text`` with any API key from the environment replaced by ``***``.

    Some servers and proxies quote the rejected key in their error message; such a
    message must not reach a log, a product or a notebook.
    """
    for variable in KEY_VARIABLES:
        key = os.environ.get(variable)
        if key and len(key) >= 4:
            text = text.replace(key, "***")
    return text


def describe_failure(exc: BaseException) -> str:
    """A short, key-free description of a failed model call, for records and logs."""
    return redact(f"{type(exc).__name__}: {str(exc)[:300]}")


def make_client(settings: LLMSettings) -> Any:
    """An ``openai`` client for ``settings``.

    Raises:
        ConfigError: no key in the environment for a hosted endpoint.
    """
    import openai

    common = {"timeout": settings.timeout_s, "max_retries": settings.max_retries}
    if settings.azure_endpoint:
        key = os.environ.get("AZURE_OPENAI_API_KEY")
        if not key:
            raise ConfigError("llm.azure_endpoint is set but AZURE_OPENAI_API_KEY is not in the environment")
        return openai.AzureOpenAI(
            azure_endpoint=settings.azure_endpoint,
            api_version=settings.api_version or "2024-10-21",
            api_key=key,
            **common,
        )
    key = os.environ.get("OPENAI_API_KEY")
    if not key:
        if settings.base_url is None:
            raise ConfigError(
                "The openai provider needs OPENAI_API_KEY in the environment "
                "(or llm.base_url pointing at a local OpenAI-compatible server)"
            )
        key = "not-needed"  # local servers accept any key
    return openai.OpenAI(api_key=key, base_url=settings.base_url, **common)


def ask_json(
    client: Any, model: str, messages: list[dict[str, str]], schema: dict[str, Any], *, name: str
) -> tuple[dict[str, Any], str, float]:
    """Ask for a JSON answer that follows ``schema``.

    Returns:
        The parsed answer, the raw text, and the seconds the call took.

    Raises:
        ValueError: the answer is not a JSON object.
        openai.OpenAIError: the call failed.
    """
    started = time.perf_counter()
    response = client.chat.completions.create(
        model=model,
        messages=messages,
        response_format={"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}},
    )
    text = response.choices[0].message.content or ""
    elapsed = time.perf_counter() - started
    answer = json.loads(text)
    if not isinstance(answer, dict):
        raise ValueError("the model's answer is not a JSON object")
    return answer, text, elapsed


def ask_text(client: Any, model: str, messages: list[dict[str, str]]) -> tuple[str, float]:
    """Ask for free text; returns the text and the seconds the call took."""
    started = time.perf_counter()
    response = client.chat.completions.create(model=model, messages=messages)
    text = (response.choices[0].message.content or "").strip()
    if not text:
        raise ValueError("the model returned an empty answer")
    return text, time.perf_counter() - started
