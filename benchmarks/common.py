"""Helpers shared by the benchmark's parent process and its per-engine child processes."""

from __future__ import annotations

import json
import logging
import math
import resource
import sys
from pathlib import Path
from typing import Any

import numpy as np

MIB = 1024 * 1024


def peak_rss_mib() -> float:
    """Peak resident memory of this process and of any children it waited for, in MiB.

    ``ru_maxrss`` is in KiB on Linux. Children count too because ctgan's transformer may
    spread work over joblib worker processes.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def current_rss_mib() -> float:
    """Resident memory now, in MiB (for a baseline before the measured work)."""
    import psutil

    return round(psutil.Process().memory_info().rss / MIB, 1)


class RssWatch:
    """Peak resident memory of this process while a block runs, polled from a thread.

    ``ru_maxrss`` is the peak over the whole process life (loading the input included);
    this is the peak during the block only. Use as ``with RssWatch() as watch: ...``,
    then read ``watch.baseline_mib`` and ``watch.peak_mib``.
    """

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.baseline_mib = 0.0
        self.peak_mib = 0.0

    def __enter__(self) -> RssWatch:
        import threading

        import psutil

        process = psutil.Process()
        self.baseline_mib = self.peak_mib = process.memory_info().rss / MIB
        self._stop = threading.Event()

        def poll() -> None:
            while not self._stop.is_set():
                self.peak_mib = max(self.peak_mib, process.memory_info().rss / MIB)
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        import psutil

        self.peak_mib = max(self.peak_mib, psutil.Process().memory_info().rss / MIB)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (NumPy scalars as numbers, NaN as null)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(data), indent=2, default=str) + "\n")


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(path.read_text())


def setup_logging(level: int = logging.INFO) -> None:
    """Log to stderr with timestamps (the parent captures a child's stderr into its log)."""
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
