"""The command line: ``python orchestrator.py [options]``."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path
from typing import Any

from synthlake.config import build_config, read_parameters_file
from synthlake.errors import ConfigError, SynthlakeError
from synthlake.products import read_json

DEFAULT_PARAMS = Path(__file__).resolve().parent.parent / "parameters" / "mainflow.yaml"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="orchestrator.py",
        description=(
            "Turn every table of a source into a synthetic Delta table, with an executed notebook per "
            "step, summary CSVs and a PDF report per table. With no options it runs parameters/mainflow.yaml "
            "on the bundled sample data. Exit status: 0 all released, 1 a table failed, 2 bad parameters, "
            "3 a table quarantined by the privacy gate."
        ),
    )
    p.add_argument("--params", type=Path, default=DEFAULT_PARAMS, help="YAML parameters file (default: %(default)s)")
    p.add_argument("--source", help="a file, a folder of tables, or a SQLAlchemy URL")
    p.add_argument("--destination", help="lakehouse root; tables go to <destination>/Tables/<table>")
    p.add_argument("--output-dir", help="where run folders go (default outputs/runs)")
    p.add_argument("--run-id", help="name of this run's folder (default: a UTC timestamp)")
    p.add_argument("--resume", metavar="RUN_ID", help="re-run only the steps of RUN_ID that did not complete")
    p.add_argument("--tables", help="comma-separated table names to run (default: every table of the source)")
    p.add_argument(
        "--label", action="append", default=[], metavar="TABLE=COLUMN",
        help="the label column of a table, for the decision-tree step (repeatable)",
    )  # fmt: skip
    p.add_argument("--synthetic-dataset-len", type=int, help="synthetic rows to sample per table")
    p.add_argument("--epochs", type=int, help="CTGAN epochs for every table (overrides the proposal)")
    p.add_argument("--batch-size", type=int, help="CTGAN batch size for every table (a multiple of 10)")
    p.add_argument(
        "--time-budget-minutes", type=float,
        help="CTGAN training time per table: epochs are lowered to fit it, from a short timed probe",
    )  # fmt: skip
    p.add_argument(
        "--synthesizer", choices=["ctgan", "tvae", "gaussian_copula"],
        help="the model for every table (default ctgan; gaussian_copula trains in seconds)",
    )  # fmt: skip
    p.add_argument(
        "--no-early-stopping", action="store_true",
        help="train CTGAN for every epoch instead of stopping once a fidelity check stops improving",
    )  # fmt: skip
    p.add_argument("--hyperparameters", choices=["heuristic", "openai"], help="who proposes epochs and batch size")
    p.add_argument("--narrative", choices=["template", "openai"], help="who writes the narrative")
    p.add_argument("--k", type=int, help="privacy threshold: rare categories and extremes protected below k rows (10)")
    p.add_argument(
        "--privacy-repair", action="store_true",
        help="when a table fails the privacy gate, drop rows that copy or hug a training row, redraw and re-check",
    )  # fmt: skip
    p.add_argument("--seed", type=int, help="random seed (same seed and parameters: same synthetic table on CPU)")
    p.add_argument(
        "--workers", type=int,
        help="tables to run at once, each in its own process (default 1; at most the number of cores helps)",
    )  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="hide progress bars (step progress is still logged)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """The command-line options as a nested parameters mapping."""
    overrides: dict[str, Any] = {}
    for option in ("source", "destination", "output_dir", "synthetic_dataset_len", "epochs", "batch_size", "seed",
                   "workers", "time_budget_minutes", "synthesizer"):  # fmt: skip
        value = getattr(args, option)
        if value is not None:
            overrides[option] = value
    if args.tables:
        overrides["include"] = [name.strip() for name in args.tables.split(",") if name.strip()]
    if args.hyperparameters:
        overrides["hyperparameters"] = {"provider": args.hyperparameters}
    if args.narrative:
        overrides["narrative"] = {"provider": args.narrative}
    if args.no_early_stopping:
        overrides["early_stopping"] = False
    if args.no_progress:
        overrides["progress"] = False
    if args.k is not None:
        overrides.setdefault("privacy", {})["k"] = args.k
    if args.privacy_repair:
        overrides.setdefault("privacy", {})["repair"] = True
    for item in args.label:
        table, sep, column = item.partition("=")
        if not sep or not table or not column:
            raise ConfigError(f"--label '{item}' must look like TABLE=COLUMN")
        overrides.setdefault("tables", {}).setdefault(table, {})["label_variable"] = column
    return overrides


def main(argv: list[str] | None = None) -> int:
    """Run the pipeline; returns the exit code.

    0: every table completed and was released; 1: a table failed; 2: the parameters or
    the run folder are unusable; 3: every table completed but one or more failed the
    privacy gate and were quarantined.
    """
    from synthlake.orchestration import Orchestrator, quiet_libraries, summary_lines

    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    quiet_libraries()
    log = logging.getLogger("synthlake")
    try:
        if args.resume:
            data = read_parameters_file(args.params) if args.params != DEFAULT_PARAMS else {}
            output_dir = Path(args.output_dir or data.get("output_dir") or "outputs/runs")
            run_dir = output_dir / args.resume
            saved = run_dir / "run_parameters.json"
            if not saved.exists():
                raise ConfigError(f"Cannot resume '{args.resume}': {saved} does not exist")
            config = build_config(read_json(saved))
            run_id = args.resume
        else:
            config = build_config(read_parameters_file(args.params), overrides_from(args)).with_absolute_paths()
            run_id = args.run_id or dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
        labelled = tuple(item.partition("=")[0] for item in args.label)
        orchestrator = Orchestrator(config, run_id, workers=args.workers or 0, expected_tables=labelled)
        log.info("run %s -> %s", run_id, orchestrator.run_dir)
        manifest = orchestrator.run(resume=bool(args.resume))
    except SynthlakeError as exc:
        log.error("%s", exc)
        return 2
    for line in summary_lines(manifest):
        print(line)
    print(f"Products and executed notebooks: {orchestrator.run_dir}")
    return {"completed": 0, "quarantined": 3}.get(manifest.data["status"], 1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
