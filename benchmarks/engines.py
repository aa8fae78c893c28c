"""One engine on one table, in its own process: fit on the training rows, sample, save.

The parent (``run.py``) starts this script once per table and engine, so that wall time
and peak memory belong to one engine only, and an engine that crashes or runs out of
memory loses its own row of results, not the run. Usage::

    python benchmarks/engines.py --engine synthlake --work <table work folder> --out <result.json>

The work folder holds ``real.parquet`` (the typed table), ``schema.json`` and
``split.json`` (training and holdout positions). The engine writes
``synthetic_<engine>.parquet`` there and its timings to ``--out``.

Engines:
    synthlake: :class:`synthlake.synthesis.Synthesizer` with the pipeline's defaults
        (CTGAN through the fast path with early stopping, heuristic epochs and batch
        size, ``k=10``, threads from ``configure_threads``).
    synthlake_tvae, synthlake_copula: the same step with ``synthesizer: tvae`` or
        ``synthesizer: gaussian_copula``.
    fastctgan: :class:`synthlake.fastpath.FastCTGAN` on exactly what the ``ctgan``
        engine gets (same columns, epochs and batch size, no early stopping): the fast
        path's speed and quality at equal settings.
    sdv: SDV's ``CTGANSynthesizer`` with its defaults (300 epochs, batch 500) on metadata
        that SDV detects itself.
    ctgan: ``ctgan.CTGAN`` at synthlake's epochs and batch size, categorical and boolean
        columns declared discrete, nothing else.
"""

from __future__ import annotations

import argparse
import logging
import platform
import time
from pathlib import Path
from typing import Any

import pandas as pd
from common import current_rss_mib, peak_rss_mib, read_json, setup_logging, write_json

log = logging.getLogger("bench.engine")

ENGINES = ("synthlake", "synthlake_tvae", "synthlake_copula", "sdv", "ctgan", "fastctgan")
SEED = 42


def _seed(seed: int) -> None:
    from synthlake.synthesis import seed_everything

    seed_everything(seed)


def run_synthlake(
    train: pd.DataFrame, work: Path, rows: int, epochs: int, batch_size: int, engine: str = "ctgan"
) -> dict[str, Any]:
    """The pipeline's synthesis step: Synthesizer with its defaults (k=10)."""
    from synthlake.schema import TableSchema
    from synthlake.synthesis import Synthesizer, configure_threads

    schema = TableSchema.from_json(work / "schema.json")
    threads = configure_threads(batch_size)
    synthesizer = Synthesizer(schema, epochs=epochs, batch_size=batch_size, seed=SEED, k=10, engine=engine)
    started = time.perf_counter()
    synthesizer.fit(train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = synthesizer.sample(rows)
    sample_seconds = time.perf_counter() - started
    settings = {"epochs": epochs, "batch_size": batch_size, "k": 10, "torch_threads": threads, "engine": engine,
                **synthesizer.training_facts()}  # fmt: skip
    return {"synthetic": synthetic, "fit_seconds": fit_seconds, "sample_seconds": sample_seconds, "settings": settings}


def run_sdv(train: pd.DataFrame, work: Path, rows: int, epochs: int | None, batch_size: int | None) -> dict[str, Any]:
    """SDV's CTGANSynthesizer with its defaults, on the metadata SDV detects."""
    import sdv
    import torch
    from sdv.metadata import Metadata
    from sdv.single_table import CTGANSynthesizer

    started = time.perf_counter()
    if hasattr(Metadata, "detect_from_dataframe"):  # SDV 1.x
        metadata = Metadata.detect_from_dataframe(train, table_name=work.name)
    else:  # SDV 2.x: the multi-table detector only
        metadata = Metadata.detect_from_dataframes({work.name: train})
    overrides = {name: value for name, value in (("epochs", epochs), ("batch_size", batch_size)) if value}
    synthesizer = CTGANSynthesizer(metadata, **overrides)
    _seed(SEED)
    # SDV 2.x takes and returns {table name: frame} even for one table; 1.x a frame
    sdv_2 = int(sdv.__version__.split(".")[0]) >= 2
    synthesizer.fit({work.name: train} if sdv_2 else train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    sampled = synthesizer.sample(rows)
    synthetic = sampled[work.name] if isinstance(sampled, dict) else sampled
    sample_seconds = time.perf_counter() - started
    parameters = synthesizer.get_parameters()
    settings = {
        "epochs": parameters.get("epochs"),
        "batch_size": parameters.get("batch_size"),
        "torch_threads": torch.get_num_threads(),
        "sdv_version": sdv.__version__,
        "overrides": overrides,
        "detected_sdtypes": {
            name: info.get("sdtype") for name, info in metadata.to_dict()["tables"][work.name]["columns"].items()
        },
    }
    return {"synthetic": synthetic, "fit_seconds": fit_seconds, "sample_seconds": sample_seconds, "settings": settings}


def run_ctgan(
    train: pd.DataFrame, work: Path, rows: int, epochs: int, batch_size: int, fast: bool = False
) -> dict[str, Any]:
    """Raw ctgan.CTGAN (or, with ``fast``, FastCTGAN): synthlake's epochs and batch size, no column handling.

    ctgan refuses missing values in continuous columns, so rows with one are dropped (the
    least a user of raw ctgan has to do); how many is recorded.
    """
    import joblib
    import torch
    from ctgan import CTGAN

    from synthlake.fastpath import FastCTGAN
    from synthlake.synthesis import configure_threads

    configure_threads(batch_size)  # the same threads for both, as synthlake would choose

    discrete = [
        name for name in train.columns if not pd.api.types.is_numeric_dtype(train[name]) or train[name].dtype == bool
    ]
    continuous = [name for name in train.columns if name not in discrete]
    complete = train.dropna(subset=continuous)
    dropped = len(train) - len(complete)
    if dropped:
        log.warning("raw ctgan: dropping %d rows with missing numbers (ctgan refuses them)", dropped)
    train = complete.reset_index(drop=True)
    model = (FastCTGAN if fast else CTGAN)(epochs=epochs, batch_size=batch_size)
    model.set_random_state(SEED)
    _seed(SEED)
    started = time.perf_counter()
    with joblib.parallel_config(backend="threading"):  # as synthlake runs it: no process pool start-up
        model.fit(train, discrete_columns=discrete)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = model.sample(rows)
    sample_seconds = time.perf_counter() - started
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "torch_threads": torch.get_num_threads(),
        "discrete": discrete,
        "rows_dropped_for_missing_numbers": dropped,
    }
    return {"synthetic": synthetic, "fit_seconds": fit_seconds, "sample_seconds": sample_seconds, "settings": settings}


RUNNERS = {
    "synthlake": run_synthlake,
    "synthlake_tvae": lambda *args: run_synthlake(*args, engine="tvae"),
    "synthlake_copula": lambda *args: run_synthlake(*args, engine="gaussian_copula"),
    "sdv": run_sdv,
    "ctgan": run_ctgan,
    "fastctgan": lambda *args: run_ctgan(*args, fast=True),
}


def main(argv: list[str] | None = None) -> int:
    """Run one engine on one table and write its result JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, required=True)
    parser.add_argument("--work", type=Path, required=True, help="the table's work folder")
    parser.add_argument("--out", type=Path, required=True, help="where to write the result JSON")
    parser.add_argument("--rows", type=int, required=True, help="synthetic rows to sample")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args(argv)
    setup_logging()
    began = time.perf_counter()
    real = pd.read_parquet(args.work / "real.parquet")
    train = real.iloc[read_json(args.work / "split.json")["train"]].reset_index(drop=True)
    baseline = current_rss_mib()
    log.info("%s on %s: %d training rows, baseline RSS %.0f MiB", args.engine, args.work.name, len(train), baseline)
    result = RUNNERS[args.engine](train, args.work, args.rows, args.epochs, args.batch_size)
    synthetic_path = args.work / f"synthetic_{args.engine}.parquet"
    synthetic = result.pop("synthetic")
    synthetic.to_parquet(synthetic_path)
    record = {
        "engine": args.engine,
        "table": args.work.name,
        "training_rows": len(train),
        "synthetic_rows": len(synthetic),
        **{key: round(value, 3) if isinstance(value, float) else value for key, value in result.items()},
        "baseline_rss_mib": baseline,
        "peak_rss_mib": peak_rss_mib(),
        "inner_seconds": round(time.perf_counter() - began, 3),
        "synthetic_path": str(synthetic_path),
        "python": platform.python_version(),
    }
    write_json(args.out, record)
    log.info("%s on %s: fit %.1f s, sample %.1f s, peak RSS %.0f MiB", args.engine, args.work.name,
             record["fit_seconds"], record["sample_seconds"], record["peak_rss_mib"])  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
