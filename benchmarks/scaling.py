"""Scaling with rows, one measurement per process: profiling or sampling at N rows.

Usage::

    python benchmarks/scaling.py fit --work <folder> --out <json> --epochs 10
    python benchmarks/scaling.py prepare --work <folder> --rows 5000000 --out <json>
    python benchmarks/scaling.py profile --work <folder> --rows 5000000 --out <json>
    python benchmarks/scaling.py sample --work <folder> --rows 10000000 --out <json>

``prepare`` writes a Delta table of N rows drawn with replacement from the real table
(in chunks, so that it needs little memory itself). ``profile`` times what the pipeline's
summary step runs on it: :func:`synthlake.profiling.summarize_lakehouse` (``k=10``, the
pipeline default), one column at a time. ``sample`` times what the synthesis step runs:
:meth:`synthlake.synthesis.Synthesizer.sample_batches` of N rows from a small model that
``fit`` trained once, streamed into a Delta table with ``Lakehouse.write_frames``. Each
run is its own process, so its peak memory is its own.
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


CHUNK_ROWS = 500_000


def _lakehouse(work: Path, name: str):
    from synthlake.lakehouse import Lakehouse

    return Lakehouse(work / name)


def prepare(work: Path, rows: int) -> dict:
    """Write a Delta table of ``rows`` rows drawn with replacement from the real table."""
    real = pd.read_parquet(work / "real.parquet")
    rng = np.random.default_rng(0)

    def chunks():
        for start in range(0, rows, CHUNK_ROWS):
            picks = rng.integers(0, len(real), size=min(CHUNK_ROWS, rows - start))
            yield real.iloc[picks].reset_index(drop=True)

    started = time.perf_counter()
    _lakehouse(work, "profile_lake").write_frames(f"rows_{rows}", chunks())
    return {"operation": "prepare", "rows": rows, "seconds": time.perf_counter() - started}


def profile(work: Path, rows: int) -> dict:
    """Time the summary step's summarize_lakehouse() on the Delta table ``prepare`` wrote."""
    from synthlake.profiling import summarize_lakehouse
    from synthlake.schema import TableSchema

    schema = TableSchema.from_json(work / "schema.json")
    lakehouse = _lakehouse(work, "profile_lake")
    with RssWatch() as watch:
        started = time.perf_counter()
        summary = summarize_lakehouse(lakehouse, f"rows_{rows}", schema, k=10)
        seconds = time.perf_counter() - started
    assert int(summary["count"].max()) <= rows
    return {"operation": "profile", "rows": rows, "seconds": seconds, **_memory(watch)}


def sample(work: Path, rows: int) -> dict:
    """Time sample_batches(rows) streamed into a Delta table, from the model that ``fit`` saved."""
    from synthlake.synthesis import Synthesizer, configure_threads

    synthesizer = Synthesizer.load(work / "scaling_model.pkl")
    configure_threads(synthesizer.batch_size)
    lakehouse = _lakehouse(work, "sample_lake")
    with RssWatch() as watch:
        started = time.perf_counter()
        lakehouse.write_frames(f"rows_{rows}", synthesizer.sample_batches(rows))
        seconds = time.perf_counter() - started
    written = lakehouse.count(f"rows_{rows}")
    assert written == rows, f"wrote {written} rows, not {rows}"
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
    parser.add_argument("operation", choices=("fit", "prepare", "profile", "sample"))
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    setup_logging()
    if args.operation == "fit":
        record = fit(args.work, args.out, args.epochs)
    elif args.operation == "prepare":
        record = prepare(args.work, args.rows)
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
