"""The run loop: every table through every notebook, with a manifest as the audit record.

Each activity is a parameterised notebook executed with papermill into the run folder
(``<output-dir>/<run-id>/<table>/notebooks/``). A table whose notebook fails is recorded
as failed, with the failing cell and error, and the run goes on with the next table.
The manifest, not the presence of a notebook, says what completed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from synthlake.config import TABLE_NAME, RunConfig
from synthlake.errors import ConfigError, DataError, RunExistsError, SourceError, SynthlakeError
from synthlake.lakehouse import discover_tables, source_columns
from synthlake.products import read_json, sha256, write_json
from synthlake.steps import RUN_PARAMETERS

log = logging.getLogger(__name__)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
STEP_PARAMETERS = {"table", "run_dir"}
KERNEL = "python3"
PART = "manifest.part.json"  # a worker's record of its table, merged into manifest.json when it ends
PACKAGES = ("synthlake", "ctgan", "torch", "pandas", "numpy", "scikit-learn", "deltalake", "papermill",
            "openai", "pydantic", "reportlab", "rdt")  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One activity: its name, notebook and the products that prove it completed."""

    name: str
    notebook: str
    products: tuple[str, ...]


IMPORT = Step(
    "import_data_to_lakehouse", "01_import_data_to_lakehouse.ipynb", ("schema.json", "split.json", "import.json")
)
SUMMARY_RAW = Step("summary_raw_data", "02_summary_raw_data.ipynb", ("summary_raw_data.csv",))
HYPERPARAMETERS = Step("gpt_prompting_configuration", "03_gpt_prompting_configuration.ipynb", ("hyperparameters.json",))
SYNTHESIS = Step(
    "synthetic_data_generation",
    "04_synthetic_data_generation.ipynb",
    ("synthesis.json", "model/synthesizer.pkl", "privacy.json", "release.json"),
)
SUMMARY_SYN = Step("summary_synthetic_data", "05_summary_synthetic_data.ipynb", ("summary_synthetic_data.csv",))
CLASSIFIER = Step("decision_tree_classifier", "08_decision_tree_classifier.ipynb", ("model_metrics.json",))
REGRESSOR = Step("decision_tree_regressor", "08_decision_tree_regressor.ipynb", ("model_metrics.json",))
REPORT_PROMPT = Step(
    "report_prompting", "06_report_prompting.ipynb", ("comparison.json", "evaluation.json", "prompt.json")
)
NARRATIVE = Step("gpt_prompting", "07_gpt_prompting.ipynb", ("narrative.md", "narrative.json"))
REPORT = Step("generate_reports", "09_generate_reports.ipynb", ("report.pdf",))


def plan(model_step: Step | None) -> list[Step]:
    """The steps of one table, in run order.

    The decision tree runs before the two prompting steps so that the narrative can
    state its scores; the file numbers keep the Fabric activity numbering.
    """
    steps = [IMPORT, SUMMARY_RAW, HYPERPARAMETERS, SYNTHESIS, SUMMARY_SYN]
    if model_step is not None:
        steps.append(model_step)
    return steps + [REPORT_PROMPT, NARRATIVE, REPORT]


def choose_model_step(config: RunConfig, run_dir: Path, table: str) -> Step | None:
    """Classifier, regressor, or none: the branch the Fabric pipeline took per table."""
    from synthlake.models import choose_task
    from synthlake.schema import TableSchema

    label = config.table(table).label_variable
    if label is None:
        return None
    schema = TableSchema.from_json(run_dir / table / "schema.json")
    return CLASSIFIER if choose_task(schema, label) == "classification" else REGRESSOR


def installed_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """The installed version of each package (``None`` where it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def package_versions() -> dict[str, str | None]:
    return {"python": platform.python_version(), **installed_versions(PACKAGES)}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class RunLock:
    """An exclusive lock on a run folder, so that two runs never write into one."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / "run.lock"

    def __enter__(self) -> RunLock:
        try:
            handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            if not self._holder_alive():  # left by a run that was killed: take it over
                log.warning("lock file %s was left by a run that no longer runs; taking it over", self.path)
                self.path.unlink(missing_ok=True)
                return self.__enter__()
            raise RunExistsError(
                f"Run folder '{self.path.parent}' is in use by another run (lock file {self.path.name}); "
                "wait for it to finish"
            ) from None
        with os.fdopen(handle, "w") as lock:
            lock.write(f"{os.getpid()}\n")
        return self

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)

    def _holder_alive(self) -> bool:
        """Whether the process named in the lock file still runs (on this machine)."""
        try:
            pid = int(self.path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return True  # being written, or unreadable: assume a live run
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # another user's live process
        return True


class Manifest:
    """``manifest.json``: parameters, versions, and per table and step what happened."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data

    @classmethod
    def new(cls, run_dir: Path, config: RunConfig, tables: list[str]) -> Manifest:
        data = {
            "run_id": run_dir.name,
            "status": "running",
            "started": _now(),
            "finished": None,
            "parameters": config.public_dict(),
            "seed": config.seed,
            "versions": package_versions(),
            "tables": {name: {"status": "pending", "model_step": None, "steps": {}} for name in tables},
        }
        manifest = cls(run_dir / "manifest.json", data)
        manifest.save()
        return manifest

    @classmethod
    def load(cls, run_dir: Path) -> Manifest:
        """Read a run's manifest, with the records of tables whose worker was interrupted."""
        path = run_dir / "manifest.json"
        if not path.exists():
            raise ConfigError(f"'{run_dir}' holds no manifest.json; it is not a synthlake run")
        manifest = cls(path, read_json(path))
        for table in manifest.data["tables"]:
            part = run_dir / table / PART
            if part.exists():  # written by a worker that never handed its record back
                manifest.data["tables"][table] = read_json(part)["tables"][table]
        return manifest

    def save(self) -> None:
        write_json(self.path, self.data)

    def step(self, table: str, step: Step) -> dict[str, Any]:
        return self.data["tables"][table]["steps"].setdefault(step.name, {"status": "pending"})


Runner = Callable[[Path, Path, dict[str, Any], Path, bool], None]


def execute_notebook(source: Path, output: Path, parameters: dict[str, Any], cwd: Path, progress: bool) -> None:
    """Execute one notebook with papermill (the default runner).

    The kernel talks to us over Unix sockets in a private temporary folder (IPC
    transport) rather than over TCP ports that any local user could reach.
    """
    import papermill
    from jupyter_client.manager import KernelManager

    with tempfile.TemporaryDirectory(prefix="synthlake-kernel-") as sockets:
        kernel = KernelManager(kernel_name=KERNEL, transport="ipc", ip=os.path.join(sockets, "kernel"))
        try:
            papermill.execute_notebook(
                str(source),
                str(output),
                parameters=parameters,
                kernel_name=KERNEL,
                km=kernel,
                progress_bar=progress,
                cwd=str(cwd),
                request_save_on_cell_execute=True,
            )
        finally:
            # the notebook is saved; a polite shutdown request races ipykernel's own
            # teardown and prints ZMQ errors, so the finished kernel is simply stopped
            if kernel.has_kernel:
                kernel.shutdown_kernel(now=True)


def check_notebook_parameters(source: Path, parameters: dict[str, Any]) -> None:
    """Refuse parameters the notebook does not declare (papermill would only warn).

    Raises:
        ConfigError: naming the unknown parameter and the notebook.
    """
    import papermill

    declared = set(papermill.inspect_notebook(str(source)))
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise ConfigError(
            f"Notebook '{source.name}' has no parameter '{unknown[0]}'; it declares: {', '.join(sorted(declared))}"
        )


def _error_of(exc: BaseException) -> dict[str, Any]:
    """What failed, for the manifest: the cell and the error, never the notebook's data."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return {"cell": exc.exec_count, "type": exc.ename, "message": str(exc.evalue)[:1000]}
    return {"cell": None, "type": type(exc).__name__, "message": str(exc)[:1000]}


class Orchestrator:
    """Runs the pipeline for every table of a source.

    Args:
        config: validated run parameters.
        run_id: the run folder's name under ``config.output_dir``.
        runner: executes one notebook (papermill by default; tests may pass another).
        notebooks: the folder of source notebooks.
        workers: tables run at once, each in its own process (papermill changes the
            working directory, which threads would share) with its own kernels.
        expected_tables: tables that must be in the source (those named by ``--label``).
    """

    def __init__(
        self,
        config: RunConfig,
        run_id: str,
        *,
        runner: Runner = execute_notebook,
        notebooks: Path = NOTEBOOKS,
        workers: int = 1,
        expected_tables: tuple[str, ...] = (),
    ):
        self.config = config
        self.expected_tables = expected_tables
        self.run_dir = Path(config.output_dir).resolve() / run_id
        self.runner = runner
        self.notebooks = notebooks
        self.workers = max(1, workers if workers > 1 else config.workers)

    # -- starting -----------------------------------------------------------------------
    def preflight(self) -> list[str]:
        """Check the parameters against every table's columns before any table is trained.

        Reads headers and schemas only. A table name the lakehouse cannot hold, a column
        named twice, a label that is not a column, or a label given for a table that the
        source does not hold stops the run here, instead of after other tables trained.

        Returns:
            The names of the tables to run.

        Raises:
            ConfigError, SourceError, DataError: naming the table and column.
        """
        everything = discover_tables(self.config.source)
        names = [table.name for table in everything]
        unknown = sorted(set(self.expected_tables) - set(names))
        if unknown:
            raise ConfigError(
                f"--label names table '{unknown[0]}', which the source does not hold; it holds: {', '.join(names)}"
            )
        for name in sorted(set(self.config.tables) - set(names)):
            log.warning("parameters set 'tables.%s', but the source holds no table '%s'; ignored", name, name)
        tables = discover_tables(self.config.source, include=self.config.include) if self.config.include else everything
        for table in tables:
            if not TABLE_NAME.match(table.name):
                raise SourceError(
                    f"Table '{table.name}' ({table.location}) cannot be a lakehouse table name: use letters, digits, "
                    "'_', '.' and '-' only (rename the file)"
                )
            label = self.config.table(table.name).label_variable
            if label is not None and label not in source_columns(table):
                raise DataError(
                    f"Label '{label}' is not a column of table '{table.name}'; set "
                    f"'tables.{table.name}.label_variable' to one of its columns",
                    table=table.name,
                    column=label,
                )
        return [table.name for table in tables]

    def start(self) -> Manifest:
        """Check the parameters, then create the run folder (refusing an existing one) and its manifest."""
        tables = self.preflight()
        self.run_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.run_dir.mkdir()
        except FileExistsError:
            raise RunExistsError(
                f"Run folder '{self.run_dir}' already exists; choose another --run-id, or use "
                f"--resume {self.run_dir.name} to finish it"
            ) from None
        write_json(self.run_dir / RUN_PARAMETERS, self.config.public_dict())
        return Manifest.new(self.run_dir, self.config, tables)

    def run(self, *, resume: bool = False) -> Manifest:
        """Run (or resume) every table; returns the final manifest."""
        if resume:
            if not self.run_dir.is_dir():
                raise ConfigError(f"Cannot resume: run folder '{self.run_dir}' does not exist")
            manifest = Manifest.load(self.run_dir)
        else:
            manifest = self.start()
        with RunLock(self.run_dir):
            manifest.data["status"] = "running"
            manifest.data.setdefault("resumed", [])
            if resume:
                manifest.data["resumed"].append(_now())
            manifest.save()
            tables = list(manifest.data["tables"])
            if self.workers > 1 and len(tables) > 1:
                self._run_parallel(manifest, tables)
            else:
                for number, table in enumerate(tables, start=1):
                    self._run_table(manifest, table, f"[{number}/{len(tables)} {table}]")
            statuses = {info["status"] for info in manifest.data["tables"].values()}
            if statuses - {"completed", "quarantined"}:
                manifest.data["status"] = "failed"
            else:
                manifest.data["status"] = "quarantined" if "quarantined" in statuses else "completed"
            manifest.data["finished"] = _now()
            manifest.save()
        return manifest

    # -- tables in parallel ----------------------------------------------------------------
    def _run_parallel(self, manifest: Manifest, tables: list[str]) -> None:
        """Run tables in worker processes; merge each table's record as its worker ends."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        workers = min(self.workers, len(tables))
        log.info("running %d tables on %d workers", len(tables), workers)
        context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
        level = logging.getLogger("synthlake").getEffectiveLevel()
        threads = max(1, (os.cpu_count() or 1) // workers)
        log.info("each worker's kernels use %d thread(s) for torch and BLAS", threads)
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(level, threads))
        with pool:
            futures = {}
            for number, table in enumerate(tables, start=1):
                info = manifest.data["tables"][table]
                if info["status"] != "completed":
                    info["status"] = "queued"
                worker = Orchestrator(self.config, self.run_dir.name, runner=self.runner, notebooks=self.notebooks)
                prefix = f"[{number}/{len(tables)} {table}]"
                futures[pool.submit(_table_worker, worker, manifest.data, table, prefix)] = table
            manifest.save()
            for future in as_completed(futures):
                table = futures[future]
                try:
                    manifest.data["tables"][table] = future.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker fails its table only
                    info = manifest.data["tables"][table]
                    info.update({"status": "failed", "failed_step": "worker", "error": _error_of(exc)})
                    log.error("[%s] worker process failed: %s", table, type(exc).__name__)
                (self.run_dir / table / PART).unlink(missing_ok=True)
                manifest.save()

    # -- one table ----------------------------------------------------------------------
    def _run_table(self, manifest: Manifest, table: str, prefix: str) -> None:
        info = manifest.data["tables"][table]
        info["status"] = "running"
        table_dir = self.run_dir / table
        (table_dir / "notebooks").mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        labelled = self.config.table(table).label_variable is not None
        steps = plan(REGRESSOR if labelled else None)  # the branch is settled after the import
        index = 0
        rerun = False  # once a step runs again, every later step must run again too
        while index < len(steps):
            step = steps[index]
            ok, ran = self._run_step(manifest, table, step, prefix, f"{index + 1}/{len(steps)}", force=rerun)
            rerun = rerun or ran
            if not ok:
                info["status"] = "failed"
                info["failed_step"] = step.name
                info["error"] = manifest.step(table, step).get("error")
                for later in steps[index + 1 :]:
                    record = manifest.step(table, later)
                    if record["status"] != "completed":
                        record["status"] = "not run"
                manifest.save()
                log.error("%s FAILED at %s: %s", prefix, step.name, (info["error"] or {}).get("message"))
                return
            if step is IMPORT:
                model_step = choose_model_step(self.config, self.run_dir, table)
                info["model_step"] = model_step.name if model_step else None
                if model_step is None:
                    info["steps"]["decision_tree"] = {"status": "skipped", "reason": "no label_variable set"}
                steps = plan(model_step)
            index += 1
        info["status"] = "completed"
        info.pop("failed_step", None)
        info.pop("error", None)
        info.update(evaluation_summary(table_dir))
        if info.get("released") is False:
            info["status"] = "quarantined"
            log.error(
                "%s QUARANTINED: its synthetic table failed the privacy gate: %s",
                prefix, "; ".join(info.get("quarantine_reasons") or []),
            )  # fmt: skip
        if rerun:  # something ran in this session; otherwise keep the earlier duration
            info["duration_s"] = round(time.perf_counter() - started, 2)
        manifest.save()
        log.info("%s completed%s", prefix, f" in {info['duration_s']:.1f} s" if rerun else " (nothing to re-run)")

    def _run_step(
        self, manifest: Manifest, table: str, step: Step, prefix: str, position: str, *, force: bool
    ) -> tuple[bool, bool]:
        """Run one step unless it already completed; returns (succeeded, executed)."""
        record = manifest.step(table, step)
        table_dir = self.run_dir / table
        if not force and record.get("status") == "completed" and self._products_intact(table_dir, record):
            log.debug("%s %s %s: already completed, products intact", prefix, position, step.name)
            return True, False
        source = self.notebooks / step.notebook
        output = table_dir / "notebooks" / step.notebook
        parameters = {"table": table, "run_dir": str(self.run_dir)}
        record.clear()
        record.update({"status": "running", "notebook": str(output.relative_to(self.run_dir)), "started": _now()})
        manifest.save()
        log.info("%s %s %s ...", prefix, position, step.name)
        began = time.perf_counter()
        try:
            check_notebook_parameters(source, parameters)
            self.runner(source, output, parameters, table_dir, self.config.progress)
            missing = [name for name in step.products if not (table_dir / name).exists()]
            if missing:
                raise SynthlakeError(f"step {step.name} finished without writing {', '.join(missing)}")
        except Exception as exc:  # noqa: BLE001 - a failed table must not stop the others
            duration = round(time.perf_counter() - began, 2)
            record.update({"status": "failed", "duration_s": duration, "error": _error_of(exc)})
            manifest.save()
            return False, True
        record.update(
            {
                "status": "completed",
                "duration_s": round(time.perf_counter() - began, 2),
                "products": {name: sha256(table_dir / name) for name in step.products},
            }
        )
        manifest.save()
        log.info("%s %s %s: done in %.1f s", prefix, position, step.name, record["duration_s"])
        return True, True

    @staticmethod
    def _products_intact(table_dir: Path, record: dict[str, Any]) -> bool:
        """Every product is there with its recorded hash, and so is every Delta table a product names."""
        products = record.get("products") or {}
        if not all(
            (table_dir / name).exists() and sha256(table_dir / name) == digest for name, digest in products.items()
        ):
            return False
        for name in products:  # import.json and release.json name the Delta table they wrote
            if name.endswith(".json"):
                data = read_json(table_dir / name)
                if isinstance(data, dict) and data.get("delta_sha256"):
                    table = Path(data["delta_path"])
                    if not table.is_dir() or sha256(table) != data["delta_sha256"]:
                        return False
        return True


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _init_worker(level: int, threads: int) -> None:
    # workers share the cores: each kernel keeps to its share, since BLAS threads that
    # outnumber the cores spin against each other (measured: a 4 s step took 146 s with
    # two workers of two threads each on 2 cores); a value the user set is kept
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    quiet_libraries()


def quiet_libraries() -> None:
    """Keep the libraries' own chatter out of the progress log (the CLI and every worker)."""
    for noisy in ("papermill", "rdt", "httpx", "openai", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("traitlets").setLevel(logging.ERROR)  # kernel clients' teardown chatter


def _table_worker(orchestrator: Orchestrator, data: dict[str, Any], table: str, prefix: str) -> dict[str, Any]:
    """Run one table in a worker process, recording it in the table's own manifest part."""
    (orchestrator.run_dir / table / "notebooks").mkdir(parents=True, exist_ok=True)
    manifest = Manifest(orchestrator.run_dir / table / PART, data)
    orchestrator._run_table(manifest, table, prefix)
    return manifest.data["tables"][table]


def evaluation_summary(table_dir: Path) -> dict[str, Any]:
    """The manifest's per-table record of the verdict and the figures behind it."""
    path = table_dir / "evaluation.json"
    if not path.exists():
        return {}
    evaluation = read_json(path)
    release, verdict = evaluation.get("release") or {}, evaluation.get("verdict") or {}
    privacy, fidelity = evaluation.get("privacy") or {}, evaluation.get("fidelity") or {}
    utility = (verdict.get("utility") or {}).get("figures") or {}
    summary = {
        "released": release.get("released"),
        "evaluation": {
            "verdict": {name: part.get("status") for name, part in verdict.items()},
            "quality_score": fidelity.get("quality_score"),
            "detection_auc": fidelity.get("detection_auc"),
            "utility_ratio": utility.get("ratio"),
            "dcr_share": privacy.get("dcr_share"),
            "dcr_threshold": privacy.get("dcr_threshold"),
            "identical_train_sample_share": privacy.get("identical_train_sample_share"),
            "identical_holdout_share": privacy.get("identical_holdout_share"),
        },
    }
    synthesis_path = table_dir / "synthesis.json"
    if synthesis_path.exists():
        synthesis = read_json(synthesis_path)
        summary["timing"] = {
            key: synthesis.get(key) for key in ("epochs", "batch_size", "fit_seconds", "predicted_fit_seconds")
        }
    if release.get("released") is False:
        summary["quarantine_reasons"] = release.get("reasons") or []
        summary["quarantine_path"] = release.get("delta_path")
    return summary


def _elapsed(data: dict[str, Any]) -> str:
    try:
        seconds = (dt.datetime.fromisoformat(data["finished"]) - dt.datetime.fromisoformat(data["started"])).seconds
    except (KeyError, TypeError, ValueError):
        return ""
    return f" in {seconds // 60} min {seconds % 60} s"


def summary_lines(manifest: Manifest) -> list[str]:
    """A few lines saying which tables completed, and which failed where and why."""
    lines = [f"Run {manifest.data['run_id']}: {manifest.data['status']}" + _elapsed(manifest.data)]
    for name, info in manifest.data["tables"].items():
        if info["status"] == "completed":
            verdict = (info.get("evaluation") or {}).get("verdict") or {}
            judged = ", ".join(f"{part} {status}" for part, status in verdict.items() if part != "overall")
            lines.append(f"  {name}: completed in {info.get('duration_s', '?')} s" + (f" ({judged})" if judged else ""))
        elif info["status"] == "quarantined":
            lines.append(
                f"  {name}: QUARANTINED (failed the privacy gate; not released): "
                + "; ".join(info.get("quarantine_reasons") or [])
            )
        else:
            error = info.get("error") or {}
            lines.append(
                f"  {name}: {info['status']} at {info.get('failed_step', '?')}: "
                f"{error.get('type', '')}: {error.get('message', '')}"
            )
    return lines
