"""synthlake against SDV's CTGANSynthesizer and raw ctgan, on real public tables, in one run.

For every table, each engine runs in its own process (``engines.py``): synthlake's
synthesis step with its defaults, SDV's ``CTGANSynthesizer`` with its defaults, and raw
``ctgan.CTGAN`` at synthlake's epochs and batch size. The parent records each process's
wall time and peak memory, then scores every synthetic table the same way: SDMetrics
``QualityReport`` against the real training rows, and a decision tree trained on synthetic
vs on real rows, both tested on a real holdout that no engine saw.

It also runs the whole pipeline (papermill notebooks, reports) on one table to measure what
everything but fit and sample costs, and times profiling and sampling at growing row counts.

Results go to ``benchmarks/results/latest.{json,md,png}`` (``quick.*`` with ``--quick``);
scratch (synthetic tables, run folders, logs per process) to ``benchmarks/results/raw/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from common import read_json, setup_logging, write_json
from datasets import TABLES, load_table
from engines import ENGINES
from scoring import align, quality, utility

from synthlake import hyperparameters
from synthlake.holdout import split_indices
from synthlake.orchestration import installed_versions

log = logging.getLogger("bench")

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SEED = 42
HOLDOUT_FRACTION = 0.2
TARGET_MIN_ROWS = 5000
TARGET_TIME_SHARE = 0.25
FULL = {
    "tables": "healthinsurance,cps1988,diamonds,penguins",
    "max_rows": 30000,
    "scaling_rows": "10000,100000,1000000,5000000",
    "sample_rows": "10000,100000,1000000,10000000",
    "scaling_epochs": 10,
    "overhead_table": "cps1988",
    "overhead_rows": 20000,
    "workers_rows": 2000,
    "workers_epochs": 50,
}
QUICK = {
    "tables": "penguins,healthinsurance",
    "max_rows": 2000,
    "epochs": 2,
    "scaling_rows": "10000,100000",
    "sample_rows": "10000,100000",
    "scaling_epochs": 1,
    "overhead_table": "healthinsurance",
    "overhead_rows": 2000,
    "workers_rows": 500,
    "workers_epochs": 2,
}
VERSIONED = ("synthlake", "ctgan", "sdv", "sdmetrics", "rdt", "torch", "pandas", "numpy", "scikit-learn", "papermill")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark synthlake against SDV's CTGANSynthesizer and raw ctgan on real public tables."
    )
    parser.add_argument("--quick", action="store_true", help="two small tables, 2 epochs for every engine (minutes)")
    parser.add_argument("--tables", help=f"comma-separated, from: {', '.join(TABLES)}")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated, from: " + ", ".join(ENGINES))
    parser.add_argument("--max-rows", type=int, help="cap each table at this many rows, a seeded sample (full: 30000)")
    parser.add_argument("--epochs", type=int, help="force these epochs on every engine (default: each engine's own)")
    parser.add_argument("--scaling-rows", help="row counts for profiling (full: 10000,100000,1000000,5000000)")
    parser.add_argument("--sample-rows", help="row counts for sampling (full: 10000,100000,1000000,10000000)")
    parser.add_argument("--overhead-table", help="table for the pipeline-overhead run (full: cps1988, 20000 rows)")
    parser.add_argument("--skip-overhead", action="store_true", help="do not run the whole pipeline")
    parser.add_argument("--skip-scaling", action="store_true", help="do not measure scaling with rows")
    parser.add_argument("--skip-workers", action="store_true", help="do not compare --workers 2 with one worker")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds before one engine process is stopped")
    parser.add_argument("--output-dir", type=Path, default=HERE / "results", help="where results go")
    parser.add_argument("--name", help="results file stem (default: latest, or quick with --quick)")
    parser.add_argument(
        "--update", action="store_true",
        help="measure only what is asked and replace it in the existing results file (e.g. one table whose run "
        "was disturbed); the rest is kept, and meta.updates records what was re-measured and when",
    )  # fmt: skip
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    for key in ("tables", "max_rows", "scaling_rows", "sample_rows", "overhead_table", "epochs"):
        if getattr(args, key, None) is None:
            setattr(args, key, preset.get(key))
    args.scaling_epochs = preset["scaling_epochs"]
    args.overhead_rows = preset["overhead_rows"]
    args.workers_rows, args.workers_epochs = preset["workers_rows"], preset["workers_epochs"]
    args.name = args.name or ("quick" if args.quick else "latest")
    args.tables = [name.strip() for name in args.tables.split(",") if name.strip()]
    args.engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    args.scaling_rows = [int(value) for value in args.scaling_rows.split(",") if value.strip()]
    args.sample_rows = [int(value) for value in args.sample_rows.split(",") if value.strip()]
    unknown = [name for name in args.tables if name not in TABLES] + [e for e in args.engines if e not in ENGINES]
    if unknown:
        parser.error(f"unknown table or engine: {', '.join(unknown)}")
    return args


def child(command: list[str], log_path: Path, timeout: int) -> tuple[str, float, str | None]:
    """Run a child process with its output in ``log_path``.

    Returns:
        Status (``ok``, ``failed``, ``timeout``), wall seconds, and the error's last lines.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(log_path, "w") as output:
        try:
            process = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, timeout=timeout, cwd=REPO)
            status = "ok" if process.returncode == 0 else "failed"
        except subprocess.TimeoutExpired:
            status = "timeout"
    seconds = time.perf_counter() - started
    error = None
    if status != "ok":
        lines = log_path.read_text(errors="replace").strip().splitlines()
        error = f"{status} after {seconds:.0f} s: " + " | ".join(lines[-3:])
    return status, seconds, error


def synthlake_hyperparameters(schema: Any, n_train: int) -> dict[str, Any]:
    """Epochs and batch size the pipeline would choose (the facts of ``steps.choose_hyperparameters``)."""
    kinds = pd.Series([c.kind for c in schema.columns]).value_counts().to_dict()
    facts = {
        "training_rows": n_train,
        "columns": len(schema.learned),
        **{f"{kind}_columns": count for kind, count in sorted(kinds.items())},
        "categories_to_encode": sum(c.n_unique for c in schema.columns if c.kind == "categorical"),
    }
    return hyperparameters.propose(provider="heuristic", n_rows=n_train, table_facts=facts)


def bench_table(name: str, args: argparse.Namespace, raw: Path) -> dict[str, Any]:
    """Run every engine on one table and score what each produced."""
    table = TABLES[name]
    real, schema, full_rows = load_table(name, max_rows=args.max_rows, seed=SEED)
    train_idx, holdout_idx = split_indices(len(real), HOLDOUT_FRACTION, SEED)
    work = raw / name
    work.mkdir(parents=True, exist_ok=True)
    real.to_parquet(work / "real.parquet")
    schema.to_json(work / "schema.json")
    write_json(work / "split.json", {"train": train_idx.tolist(), "holdout": holdout_idx.tolist()})
    chosen = synthlake_hyperparameters(schema, len(train_idx))
    epochs, batch = (args.epochs or chosen["epochs"]), chosen["batch_size"]
    real_train, real_holdout = real.iloc[train_idx], real.iloc[holdout_idx]
    result: dict[str, Any] = {
        "name": name,
        "source": table.source,
        "label": table.label,
        "rows_available": full_rows,
        "rows": len(real),
        "training_rows": len(train_idx),
        "holdout_rows": len(holdout_idx),
        "columns": {c.name: c.kind for c in schema.columns},
        "synthlake_hyperparameters": {"epochs": epochs, "batch_size": batch, "reason": chosen["reason"]},
        "engines": {},
    }
    log.info("%s: %d rows (of %d), %d training, %d holdout; synthlake would use %d epochs, batch %d",
             name, len(real), full_rows, len(train_idx), len(holdout_idx), epochs, batch)  # fmt: skip
    for engine in args.engines:
        command = [sys.executable, str(HERE / "engines.py"), "--engine", engine, "--work", str(work),
                   "--out", str(work / f"{engine}.json"), "--rows", str(len(train_idx))]  # fmt: skip
        if engine != "sdv":
            command += ["--epochs", str(epochs), "--batch-size", str(batch)]
        elif args.epochs:
            command += ["--epochs", str(args.epochs)]
        log.info("%s: %s starting", name, engine)
        status, seconds, error = child(command, work / f"{engine}.log", args.timeout)
        record: dict[str, Any] = {"status": status, "wall_seconds": round(seconds, 2), "error": error}
        # above the core count, something else competed for the CPUs and the times are inflated
        record["load_average_1min_after"] = round(os.getloadavg()[0], 2)
        if status == "ok":
            record.update({key: value for key, value in read_json(work / f"{engine}.json").items()
                           if key not in ("engine", "table", "synthetic_path")})  # fmt: skip
            synthetic = align(pd.read_parquet(work / f"synthetic_{engine}.parquet"), real)
            started = time.perf_counter()
            try:
                record["quality"] = quality(real_train, synthetic, schema)
            except Exception as exc:  # noqa: BLE001 - a scoring failure is a result, not the end of the run
                record["quality"] = {"error": f"{type(exc).__name__}: {exc}"}
            try:
                record["utility"] = utility(schema, table.label, real_train, real_holdout, synthetic)
            except Exception as exc:  # noqa: BLE001
                record["utility"] = {"error": f"{type(exc).__name__}: {exc}"}
            record["scoring_seconds"] = round(time.perf_counter() - started, 2)
            log.info("%s: %s done in %.0f s; quality %s, utility %s %s (TRTR %s)", name, engine, seconds,
                     _fmt(record["quality"].get("score")), record["utility"].get("metric"),
                     _fmt(record["utility"].get("tstr")), _fmt(record["utility"].get("trtr")))  # fmt: skip
        else:
            log.error("%s: %s %s", name, engine, error)
        result["engines"][engine] = record
    result["target"] = compare_to_sdv(result)
    return result


def _fmt(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def compare_to_sdv(result: dict[str, Any]) -> dict[str, Any]:
    """Ratios to SDV, and whether synthlake met its target on this table."""
    engines = result["engines"]
    sdv = engines.get("sdv", {})
    for record in engines.values():
        if record.get("status") == "ok" and sdv.get("status") == "ok":
            record["wall_ratio_to_sdv"] = round(record["wall_seconds"] / sdv["wall_seconds"], 3)
            own, peer = record.get("quality", {}).get("score"), sdv.get("quality", {}).get("score")
            record["quality_minus_sdv"] = None if own is None or peer is None else round(own - peer, 4)
    ours = engines.get("synthlake", {})
    target: dict[str, Any] = {
        "applies": result["rows"] > TARGET_MIN_ROWS,
        "rule": f"quality above SDV's in at most {TARGET_TIME_SHARE:.0%} of SDV's wall time, tables above "
        f"{TARGET_MIN_ROWS} rows",
    }
    if "wall_ratio_to_sdv" in ours and ours.get("quality_minus_sdv") is not None:
        target.update(
            {
                "wall_ratio": ours["wall_ratio_to_sdv"],
                "quality_minus_sdv": ours["quality_minus_sdv"],
                "time_met": ours["wall_ratio_to_sdv"] <= TARGET_TIME_SHARE,
                "quality_met": ours["quality_minus_sdv"] > 0,
            }
        )
        target["met"] = target["time_met"] and target["quality_met"]
    return target


def bench_overhead(args: argparse.Namespace, raw: Path) -> dict[str, Any]:
    """Run the whole pipeline on one table: what does everything but fit and sample cost?"""
    name = args.overhead_table
    table = TABLES[name]
    real, _, _ = load_table(name, max_rows=args.overhead_rows, seed=SEED)
    base = raw / "overhead"
    if base.exists():
        shutil.rmtree(base)
    (base / "source").mkdir(parents=True)
    real.to_csv(base / "source" / f"{name}.csv", index=False)
    run_id = "bench"
    command = [sys.executable, "orchestrator.py", "--params", "parameters/mainflow.yaml",
               "--source", str(base / "source"), "--tables", name, "--label", f"{name}={table.label}",
               "--output-dir", str(base / "runs"), "--destination", str(base / "lakehouse"),
               "--run-id", run_id, "--no-progress"]  # fmt: skip
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    log.info("overhead: the whole pipeline on %s (%d rows)", name, len(real))
    status, seconds, error = child(command, base / "orchestrator.log", args.timeout)
    record: dict[str, Any] = {"table": name, "rows": len(real), "status": status, "process_seconds": round(seconds, 2)}
    manifest_path = base / "runs" / run_id / "manifest.json"
    if not manifest_path.exists():
        record["error"] = error
        return record
    info = read_json(manifest_path)["tables"][name]
    steps = {step: info_["duration_s"] for step, info_ in info["steps"].items() if "duration_s" in info_}
    table_seconds = info.get("duration_s") or sum(steps.values())
    record.update({"table_status": info["status"], "table_seconds": table_seconds, "steps": steps, "error": error})
    synthesis_path = base / "runs" / run_id / name / "synthesis.json"
    if synthesis_path.exists():
        synthesis = read_json(synthesis_path)
        fit, sample = synthesis.get("fit_seconds") or 0.0, synthesis.get("sample_seconds") or 0.0
        overhead = table_seconds - fit - sample
        record.update(
            {
                "epochs": synthesis.get("epochs"),
                "batch_size": synthesis.get("batch_size"),
                "synthetic_rows": synthesis.get("synthetic_rows"),
                "fit_seconds": round(fit, 2),
                "sample_seconds": round(sample, 3),
                "overhead_seconds": round(overhead, 2),
                "overhead_share": round(overhead / table_seconds, 4) if table_seconds else None,
                "report_share": round(steps.get("generate_reports", 0.0) / table_seconds, 4) if table_seconds else None,
            }
        )
        log.info("overhead: %.0f s for the table, fit %.0f s + sample %.1f s; the rest is %.0f%%",
                 table_seconds, fit, sample, 100 * record["overhead_share"])  # fmt: skip
    return record


WORKER_TABLES = ("penguins", "healthinsurance", "cps1988", "diamonds")


def bench_workers(args: argparse.Namespace, raw: Path) -> dict[str, Any]:
    """Four tables through the whole pipeline, with one worker and then with two."""
    base = raw / "workers"
    if base.exists():
        shutil.rmtree(base)
    (base / "source").mkdir(parents=True)
    labels = []
    for name in WORKER_TABLES:
        real, _, _ = load_table(name, max_rows=args.workers_rows, seed=SEED)
        real.to_csv(base / "source" / f"{name}.csv", index=False)
        labels += ["--label", f"{name}={TABLES[name].label}"]
    result: dict[str, Any] = {"tables": list(WORKER_TABLES), "rows": args.workers_rows, "epochs": args.workers_epochs}
    for workers in (1, 2):
        command = [sys.executable, "orchestrator.py", "--params", "parameters/mainflow.yaml",
                   "--source", str(base / "source"), "--output-dir", str(base / "runs"),
                   "--destination", str(base / f"lakehouse_{workers}"), "--run-id", f"workers_{workers}",
                   "--epochs", str(args.workers_epochs), "--workers", str(workers), "--no-progress",
                   *labels]  # fmt: skip
        log.info("workers: %d table(s) at a time, %d tables of %d rows", workers, len(WORKER_TABLES), args.workers_rows)
        status, seconds, error = child(command, base / f"workers_{workers}.log", args.timeout)
        manifest = base / "runs" / f"workers_{workers}" / "manifest.json"
        statuses = {}
        if manifest.exists():
            statuses = {name: info["status"] for name, info in read_json(manifest)["tables"].items()}
        result[f"workers_{workers}"] = {"status": status, "wall_seconds": round(seconds, 2), "tables": statuses,
                                        "error": error}  # fmt: skip
        log.info("workers: %d at a time took %.0f s", workers, seconds)
    one, two = result["workers_1"]["wall_seconds"], result["workers_2"]["wall_seconds"]
    result["ratio"] = round(two / one, 3) if one else None
    return result


def bench_scaling(args: argparse.Namespace, raw: Path) -> dict[str, Any]:
    """Profiling and sampling at growing row counts, each in its own process."""
    name = "diamonds" if "diamonds" in args.tables or not args.quick else args.tables[-1]
    work = raw / "scaling"
    work.mkdir(parents=True, exist_ok=True)
    real, schema, _ = load_table(name, max_rows=None, seed=SEED)
    real.to_parquet(work / "real.parquet")
    schema.to_json(work / "schema.json")
    train_idx, holdout_idx = split_indices(len(real), HOLDOUT_FRACTION, SEED)
    write_json(work / "split.json", {"train": train_idx.tolist(), "holdout": holdout_idx.tolist()})
    script = str(HERE / "scaling.py")
    result: dict[str, Any] = {"table": name, "profile": [], "sample": []}
    status, seconds, error = child(
        [sys.executable, script, "fit", "--work", str(work), "--out", str(work / "fit.json"),
         "--epochs", str(args.scaling_epochs)], work / "fit.log", args.timeout)  # fmt: skip
    result["fit"] = read_json(work / "fit.json") if status == "ok" else {"status": status, "error": error}
    for rows in args.scaling_rows:  # the Delta tables to profile, written beforehand (not measured)
        state, _, problem = child(
            [sys.executable, script, "prepare", "--work", str(work), "--rows", str(rows),
             "--out", str(work / f"prepare_{rows}.json")], work / f"prepare_{rows}.log", args.timeout)  # fmt: skip
        if state != "ok":
            log.error("scaling: preparing %d rows: %s", rows, problem)
    for operation, counts in (("profile", args.scaling_rows), ("sample", args.sample_rows)):
        if operation == "sample" and status != "ok":
            break
        for rows in counts:
            out = work / f"{operation}_{rows}.json"
            state, wall, problem = child(
                [sys.executable, script, operation, "--work", str(work), "--rows", str(rows), "--out", str(out)],
                work / f"{operation}_{rows}.log", args.timeout)  # fmt: skip
            entry = read_json(out) if state == "ok" else {"rows": rows, "status": state, "error": problem}
            entry["process_seconds"] = round(wall, 2)
            result[operation].append(entry)
            log.info("scaling: %s %d rows: %s s, peak RSS %s MiB", operation, rows, entry.get("seconds"),
                     entry.get("peak_rss_mib"))  # fmt: skip
    return result


def merge_update(previous: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``previous`` results with the tables and sections measured in ``update`` replacing theirs."""
    merged = dict(previous)
    fresh = {table["name"]: table for table in update["tables"]}
    merged["tables"] = [fresh.pop(table["name"], table) for table in previous["tables"]] + list(fresh.values())
    for section in ("overhead", "workers", "scaling"):
        if section in update:
            merged[section] = update[section]
    meta = dict(previous["meta"])
    meta["updates"] = [
        *meta.get("updates", []),
        {
            "started": update["meta"]["started"],
            "finished": update["meta"]["finished"],
            "tables": [table["name"] for table in update["tables"]],
            "sections": [section for section in ("overhead", "workers", "scaling") if section in update],
            "wall_seconds": update["meta"]["wall_seconds"],
        },
    ]
    meta["wall_seconds"] = previous["meta"]["wall_seconds"] + update["meta"]["wall_seconds"]
    merged["meta"] = meta
    return merged


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging()
    raw = args.output_dir / "raw" / (args.name + ("_update" if args.update else ""))
    if raw.exists():
        shutil.rmtree(raw)
    raw.mkdir(parents=True)
    handler = logging.FileHandler(raw / "bench.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    began = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "name": args.name,
            "mode": "quick" if args.quick else "full",
            "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "arguments": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
            "versions": installed_versions(VERSIONED),
            "seed": SEED,
        },
        "tables": [],
    }
    log.info("benchmark %s: tables %s, engines %s, max rows %s, epochs %s", args.name, ", ".join(args.tables),
             ", ".join(args.engines), args.max_rows, args.epochs or "each engine's own")  # fmt: skip
    for name in args.tables:
        results["tables"].append(bench_table(name, args, raw))
        write_json(raw / "partial.json", results)
    if not args.skip_overhead:
        results["overhead"] = bench_overhead(args, raw)
        write_json(raw / "partial.json", results)
    if not args.skip_workers:
        results["workers"] = bench_workers(args, raw)
        write_json(raw / "partial.json", results)
    if not args.skip_scaling:
        results["scaling"] = bench_scaling(args, raw)
    results["meta"]["wall_seconds"] = round(time.perf_counter() - began, 1)
    results["meta"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    results["meta"]["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    from reporting import plot, render_markdown

    out = args.output_dir
    if args.update:
        results = merge_update(read_json(out / f"{args.name}.json"), results)
    write_json(out / f"{args.name}.json", results)
    markdown = render_markdown(results)
    (out / f"{args.name}.md").write_text(markdown)
    plot(results, out / f"{args.name}.png")
    log.info("wrote %s.json, .md and .png in %s (%.0f s in all)", args.name, out, results["meta"]["wall_seconds"])
    print(markdown)  # noqa: T201 - the final table is the command's output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
