"""Scaling with rows, one measurement per process: profiling or sampling at N rows.

Usage::

    python benchmarks/scaling.py fit --work <folder> --out <json> --epochs 10
    python benchmarks/scaling.py profile --work <folder> --rows 1000000 --out <json>
    python benchmarks/scaling.py sample --work <folder> --rows 1000000 --out <json>

``profile`` times :func:`synthlake.profiling.summarize` (``k=10``, the pipeline default) on
a table of N rows drawn with replacement from the real table. ``sample`` times
:meth:`synthlake.synthesis.Synthesizer.sample` of N rows from a small model that ``fit``
trained once and saved. Each run is its own process, so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import RssWatch, peak_rss_mib, read_json, setup_logging, write_json

log = logging.getLogger("bench.scaling")
FIT_ROWS = 2000
FIT_BATCH = 200


def fit(work: Path, out: Path, epochs: int) -> dict:
    """Train a small synthesizer (2,000 rows) once, for the sampling measurements."""
    from synthlake.schema import TableSchema
    from synthlake.synthesis import Synthesizer, configure_threads

    schema = TableSchema.from_json(work / "schema.json")
    real = pd.read_parquet(work / "real.parquet")
    train = real.iloc[read_json(work / "split.json")["train"]].head(FIT_ROWS).reset_index(drop=True)
    configure_threads(FIT_BATCH)
    synthesizer = Synthesizer(schema, epochs=epochs, batch_size=FIT_BATCH, seed=42, k=10)
    started = time.perf_counter()
    synthesizer.fit(train)
    seconds = time.perf_counter() - started
    synthesizer.save(work / "scaling_model.pkl")
    return {"operation": "fit", "rows": len(train), "epochs": epochs, "batch_size": FIT_BATCH, "seconds": seconds}


def profile(work: Path, rows: int) -> dict:
    """Time summarize() on ``rows`` rows drawn with replacement from the real table."""
    from synthlake.profiling import summarize
    from synthlake.schema import TableSchema

    schema = TableSchema.from_json(work / "schema.json")
    real = pd.read_parquet(work / "real.parquet")
    picks = np.random.default_rng(0).integers(0, len(real), size=rows)
    frame = real.iloc[picks].reset_index(drop=True)
    del real
    with RssWatch() as watch:
        started = time.perf_counter()
        summarize(frame, schema, k=10)
        seconds = time.perf_counter() - started
    return {"operation": "profile", "rows": rows, "seconds": seconds, **_memory(watch)}


def sample(work: Path, rows: int) -> dict:
    """Time Synthesizer.sample(rows) from the model that ``fit`` saved."""
    from synthlake.synthesis import Synthesizer, configure_threads

    synthesizer = Synthesizer.load(work / "scaling_model.pkl")
    configure_threads(synthesizer.batch_size)
    with RssWatch() as watch:
        started = time.perf_counter()
        synthetic = synthesizer.sample(rows)
        seconds = time.perf_counter() - started
    assert len(synthetic) == rows
    return {"operation": "sample", "rows": rows, "seconds": seconds, **_memory(watch)}


def _memory(watch: RssWatch) -> dict:
    return {
        "baseline_rss_mib": round(watch.baseline_mib, 1),
        "call_peak_rss_mib": round(watch.peak_mib, 1),
        "call_extra_mib": round(watch.peak_mib - watch.baseline_mib, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run one scaling measurement and write it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("operation", choices=("fit", "profile", "sample"))
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    setup_logging()
    if args.operation == "fit":
        record = fit(args.work, args.out, args.epochs)
    elif args.operation == "profile":
        record = profile(args.work, args.rows)
    else:
        record = sample(args.work, args.rows)
    record["seconds"] = round(record["seconds"], 3)
    record["peak_rss_mib"] = peak_rss_mib()
    write_json(args.out, record)
    log.info("%s %d rows: %.2f s, peak RSS %.0f MiB", args.operation, record["rows"], record["seconds"],
             record["peak_rss_mib"])  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
