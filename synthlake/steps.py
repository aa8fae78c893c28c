"""One function per pipeline activity; each notebook validates its parameters and calls one.

Steps hand over files, not notebook state: each reads its inputs from the lakehouse
or the table's folder in the run, and writes named products there.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator

from synthlake import hyperparameters, narrative
from synthlake.config import TABLE_NAME, RunConfig, TableSettings
from synthlake.errors import ConfigError, DataError, StepError, SynthlakeError
from synthlake.evaluation import Comparison
from synthlake.holdout import split_indices
from synthlake.lakehouse import Lakehouse, discover_tables, read_source_table
from synthlake.products import read_json, sha256, write_csv, write_json, write_text
from synthlake.profiling import summarize, summarize_lakehouse
from synthlake.schema import TableSchema, infer_schema

log = logging.getLogger(__name__)

RUN_PARAMETERS = "run_parameters.json"
SYNTHETIC_SUFFIX = "_synthetic"
QUARANTINE = "Quarantine"
SYNTHETIC_READ_ROWS = 200_000  # synthetic rows read back by the steps after sampling


def guarded(step: str):
    """Keep third-party error messages, which may quote a cell value, out of notebooks.

    A synthlake error passes through (its messages name tables and columns, never
    values). Any other error is replaced by one that names its type, the step and the
    table, without its message. Set ``SYNTHLAKE_DEBUG=1`` to see the original.
    """

    def decorate(function):
        @functools.wraps(function)
        def wrapper(ctx: StepContext, *args: Any, **kwargs: Any):
            try:
                return function(ctx, *args, **kwargs)
            except SynthlakeError:
                raise
            except Exception as exc:
                if os.environ.get("SYNTHLAKE_DEBUG") == "1":
                    raise
                raise StepError(
                    f"{type(exc).__name__} in step {step} for table '{ctx.table}'. Its message is withheld "
                    "because it may quote data; re-run with SYNTHLAKE_DEBUG=1 in a safe place to see it."
                ) from None

        return wrapper

    return decorate


class StepParameters(BaseModel):
    """The parameters every notebook receives from the orchestrator."""

    model_config = ConfigDict(extra="forbid")

    table: str
    run_dir: str

    @field_validator("table")
    @classmethod
    def _table_name(cls, value: str) -> str:
        if not TABLE_NAME.match(value):
            raise ValueError(f"'{value}' is not a valid table name")
        return value

    @field_validator("run_dir")
    @classmethod
    def _run_dir(cls, value: str) -> str:
        if not (Path(value) / RUN_PARAMETERS).is_file():
            raise ValueError(
                f"'{value}' is not a run folder (no {RUN_PARAMETERS}); run the orchestrator, or point "
                "run_dir at an existing run"
            )
        return value

    def context(self) -> StepContext:
        """The run's settings and this table's paths."""
        config = RunConfig.model_validate(read_json(Path(self.run_dir) / RUN_PARAMETERS))
        return StepContext(self.table, Path(self.run_dir), config)


def validate(**parameters: Any) -> StepContext:
    """Validate a notebook's parameters and return the step's context.

    Raises:
        ConfigError: a parameter is unknown or invalid (named in the message).
    """
    from pydantic import ValidationError

    try:
        return StepParameters(**parameters).context()
    except ValidationError as exc:
        problems = "; ".join(f"parameter '{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in exc.errors())
        raise ConfigError(f"Invalid notebook parameters: {problems}") from None


@dataclass
class StepContext:
    """Where one table's products live, and the run settings that apply to it."""

    table: str
    run_dir: Path
    config: RunConfig

    @property
    def settings(self) -> TableSettings:
        return self.config.table(self.table)

    @property
    def dir(self) -> Path:
        return self.run_dir / self.table

    @property
    def lakehouse(self) -> Lakehouse:
        return Lakehouse(self.config.destination)

    @property
    def synthetic_table(self) -> str:
        return self.table + SYNTHETIC_SUFFIX

    def path(self, name: str) -> Path:
        return self.dir / name

    def schema(self) -> TableSchema:
        return TableSchema.from_json(self.path("schema.json"))

    def real(self) -> pd.DataFrame:
        return self.lakehouse.read(self.table)

    def split(self) -> tuple[list[int], list[int]]:
        data = read_json(self.path("split.json"))
        return data["train"], data["holdout"]

    @property
    def released(self) -> bool:
        """Whether the synthetic table passed the privacy gate (``Tables``) or is quarantined."""
        path = self.path("release.json")
        return not path.exists() or bool(read_json(path)["released"])

    def synthetic(self, max_rows: int | None = SYNTHETIC_READ_ROWS) -> pd.DataFrame:
        """The synthetic table, from ``Tables`` or, when it failed the privacy gate, ``Quarantine``.

        At most its first ``max_rows`` rows: synthetic rows are drawn independently, so
        they are a random sample of the table, and statistics, the model check and the
        report need no more, however many rows were sampled.
        """
        area = self.lakehouse if self.released else Lakehouse(self.config.destination, area=QUARANTINE)
        return area.read(self.synthetic_table, max_rows=max_rows)


# 1 -------------------------------------------------------------------------------------
@guarded("import_data_to_lakehouse")
def import_data(ctx: StepContext) -> TableSchema:
    """Read the source table, type its columns, check it, write it to the lakehouse.

    Raises:
        SourceError: the source table cannot be read.
        DataError: the table is empty or too small, or its label is unusable.
    """
    (source,) = discover_tables(ctx.config.source, include=[ctx.table])
    frame = read_source_table(source)
    table, settings = ctx.table, ctx.settings
    if len(frame) == 0:
        raise DataError(f"Table '{table}' is empty: it has no rows", table=table)
    if len(frame) < ctx.config.min_rows:
        raise DataError(
            f"Table '{table}' has {len(frame)} rows; at least {ctx.config.min_rows} are needed to train "
            "and keep a holdout (lower 'min_rows' only for tests)",
            table=table,
        )
    schema, typed = infer_schema(frame, table, identifier_columns=settings.identifier_columns)
    if settings.label_variable is not None:
        from synthlake.models import check_label  # scikit-learn loads only where needed

        check_label(schema, settings.label_variable)
    version = ctx.lakehouse.write(table, typed)
    train, holdout = split_indices(len(typed), ctx.config.holdout_fraction, ctx.config.seed)
    ctx.dir.mkdir(parents=True, exist_ok=True)
    write_json(ctx.path("split.json"), {"seed": ctx.config.seed, "train": train.tolist(), "holdout": holdout.tolist()})
    schema.to_json(ctx.path("schema.json"))
    write_json(
        ctx.path("import.json"),
        {"source_kind": source.kind, "rows": len(typed), "columns": typed.shape[1], "delta_version": version,
         "delta_path": str(ctx.lakehouse.table_path(table)),
         "delta_sha256": sha256(ctx.lakehouse.table_path(table))},
    )  # fmt: skip
    return schema


def schema_table(schema: TableSchema) -> pd.DataFrame:
    """The schema as a table for display: kinds and counts, no values."""
    return pd.DataFrame(
        [
            {"column": c.name, "kind": c.kind, "integer": c.integer, "missing": c.n_missing,
             "distinct": c.n_unique, "format": c.format or "", "why": c.reason}
            for c in schema.columns
        ]
    )  # fmt: skip


# 2 and 5 -------------------------------------------------------------------------------
@guarded("summary_raw_data")
def summarize_real(ctx: StepContext) -> pd.DataFrame:
    # one column at a time: a table of millions of rows needs the memory of one column
    summary = summarize_lakehouse(ctx.lakehouse, ctx.table, ctx.schema(), k=ctx.config.privacy.k)
    write_csv(ctx.path("summary_raw_data.csv"), summary)
    return summary


@guarded("summary_synthetic_data")
def summarize_synthetic(ctx: StepContext) -> pd.DataFrame:
    summary = summarize(ctx.synthetic(), ctx.schema(), k=ctx.config.privacy.k)
    write_csv(ctx.path("summary_synthetic_data.csv"), summary)
    return summary


# 3 -------------------------------------------------------------------------------------
@guarded("gpt_prompting_configuration")
def choose_hyperparameters(ctx: StepContext) -> dict[str, Any]:
    schema = ctx.schema()
    train, _ = ctx.split()
    kinds = pd.Series([c.kind for c in schema.columns]).value_counts().to_dict()
    facts = {
        "training_rows": len(train),
        "columns": len(schema.learned),
        **{f"{kind}_columns": count for kind, count in sorted(kinds.items())},
        "categories_to_encode": sum(c.n_unique for c in schema.columns if c.kind == "categorical"),
    }
    record = hyperparameters.propose(
        provider=ctx.config.hyperparameters.provider,
        n_rows=len(train),
        table_facts=facts,
        llm=ctx.config.llm,
        epochs=ctx.settings.epochs,
        batch_size=ctx.settings.batch_size,
    )
    minutes = ctx.settings.time_budget_minutes
    if minutes is not None:
        from synthlake.synthesis import configure_threads, probe

        configure_threads(record["batch_size"])
        real = ctx.real().iloc[train].reset_index(drop=True)
        probed = probe(
            schema, real, batch_size=record["batch_size"], seed=ctx.config.seed, k=ctx.config.privacy.k,
            engine=ctx.settings.synthesizer,
        )  # fmt: skip
        record = hyperparameters.fit_budget(record, minutes=minutes, probed=probed, n_rows=len(train))
        log.info("time budget %.1f min for %s: %s", minutes, ctx.table, record["time_budget"])
    write_json(ctx.path("hyperparameters.json"), record)
    return record


# 4 -------------------------------------------------------------------------------------
REPAIR_ROUNDS = 3


def _epochs_trained(synthesis: dict[str, Any]) -> str:
    """How many epochs the model trained, in words (early stopping, or none for a copula)."""
    if synthesis.get("synthesizer") == "gaussian_copula":
        return "none (a Gaussian copula is fitted, not trained)"
    trained, most = synthesis.get("epochs_trained"), synthesis.get("epochs")
    if trained is None or trained == most:
        return f"{most}"
    best = synthesis.get("best_epoch")
    return f"{trained} of {most} (early stop; best fidelity check at epoch {best + 1 if best is not None else '?'})"


@guarded("synthetic_data_generation")
def generate_synthetic(ctx: StepContext) -> dict[str, Any]:
    """Train CTGAN on the training rows, sample, check privacy, then release or quarantine.

    The synthetic rows are checked against the real holdout (:mod:`synthlake.privacy`).
    A table that passes is written to ``Tables/<table>_synthetic``; one that fails goes
    to ``Quarantine/<table>_synthetic`` with the reasons in ``release.json``, and the run
    will exit non-zero. With ``privacy.repair``, rows that copy or hug a training row are
    dropped and replaced by new draws (up to three rounds) before the final check.
    """
    from synthlake.privacy import PrivacyReport, repair_mask
    from synthlake.synthesis import Synthesizer, configure_threads

    schema = ctx.schema()
    chosen = read_json(ctx.path("hyperparameters.json"))
    train, holdout = ctx.split()
    real = ctx.real()
    real_train = real.iloc[train].reset_index(drop=True)
    real_holdout = real.iloc[holdout].reset_index(drop=True)
    threads = configure_threads(chosen["batch_size"])
    k = ctx.config.privacy.k
    synthesizer = Synthesizer(
        schema,
        epochs=chosen["epochs"],
        batch_size=chosen["batch_size"],
        seed=ctx.config.seed,
        verbose=ctx.config.progress,
        k=k,
        locale=ctx.config.privacy.faker_locale,
        engine=ctx.settings.synthesizer,
        early_stopping=ctx.settings.early_stopping,
        transformer_cache=ctx.path("model/cache"),
    )
    synthesizer.fit(real_train)
    started = time.perf_counter()
    rows = int(ctx.settings.synthetic_dataset_len)
    stream = synthesizer.sample_batches(rows)
    synthetic = next(stream)  # the first frame (all rows, unless the table is larger than a frame)
    model_path = ctx.path("model/synthesizer.pkl")
    digest = synthesizer.save(model_path)

    def check(frame: pd.DataFrame) -> dict[str, Any]:
        report = PrivacyReport().generate(real_train, real_holdout, frame, schema, k=k, seed=ctx.config.seed)
        return report.get_details()

    def repaired(frame: pd.DataFrame, round_: int) -> tuple[pd.DataFrame, dict[str, Any]]:
        """``frame`` without the rows that copy or hug a training row, topped up with new draws."""
        keep, figures = repair_mask(real_train, real_holdout, frame, schema, k=k)
        dropped = int((~keep).sum())
        if dropped:
            fresh = synthesizer.sample(dropped * 2, seed=ctx.config.seed + 1000 * round_ + len(frame))
            fresh_keep, _ = repair_mask(real_train, real_holdout, fresh, schema, k=k)
            frame = pd.concat([frame[keep], fresh[fresh_keep]], ignore_index=True).head(len(frame))
        return frame, {**figures, "dropped": dropped}

    # the rows are drawn independently, so the first frame stands for the whole table
    privacy = check(synthetic)
    repairs: list[dict[str, Any]] = []
    if not privacy["passed"] and ctx.config.privacy.repair:
        for round_ in range(1, REPAIR_ROUNDS + 1):
            synthetic, figures = repaired(synthetic, round_)
            repairs.append({"round": round_, **figures})
            log.info("privacy repair round %d for %s: %d rows dropped", round_, ctx.table, figures["dropped"])
            if not figures["dropped"]:
                break
        if rows > len(synthetic):  # one frame of several: numbered identifiers stay unique across frames
            synthetic = synthesizer.number_identifiers(synthetic, 0)
        else:
            synthetic = synthesizer.refresh_identifiers(synthetic)
        privacy = check(synthetic)
    write_json(ctx.path("privacy.json"), {**privacy, "repair": repairs or None})

    released = bool(privacy["passed"])
    lakehouse = ctx.lakehouse if released else Lakehouse(ctx.config.destination, area=QUARANTINE)
    written = [len(synthetic)]

    def frames():
        yield synthetic
        for number, frame in enumerate(stream, start=1):
            if repairs:  # a repaired table is repaired in every frame
                frame, _ = repaired(frame.reset_index(drop=True), REPAIR_ROUNDS + number)
                frame = synthesizer.number_identifiers(frame, sum(written))
            written.append(len(frame))
            log.info("sampled %s of %s synthetic rows for %s", f"{sum(written):,}", f"{rows:,}", ctx.table)
            yield frame

    version = lakehouse.write_frames(ctx.synthetic_table, frames())
    sample_seconds = time.perf_counter() - started
    release = {
        "released": released,
        "area": lakehouse.area,
        "delta_path": str(lakehouse.table_path(ctx.synthetic_table)),
        "reasons": privacy["reasons"],
        "repaired": bool(repairs),
        "rows": sum(written),
        # resume re-runs this step when the table was changed or removed since
        "delta_sha256": sha256(lakehouse.table_path(ctx.synthetic_table)),
    }
    write_json(ctx.path("release.json"), release)
    # why a quarantined table is there, beside it, for whoever finds it in the lakehouse
    reasons_path = Lakehouse(ctx.config.destination, area=QUARANTINE).table_path(ctx.synthetic_table + ".reasons.json")
    if released:
        reasons_path.unlink(missing_ok=True)
    else:
        write_json(reasons_path, {"table": ctx.table, "run_id": ctx.run_dir.name, **release})
        log.warning(
            "table %s failed the privacy gate; its synthetic table is quarantined at %s: %s",
            ctx.table, release["delta_path"], "; ".join(privacy["reasons"]),
        )  # fmt: skip
    losses = synthesizer.loss_values()
    if losses is not None and len(losses):
        write_csv(ctx.path("training_losses.csv"), losses)
    record = {
        **synthesizer.get_parameters(),
        "torch_threads": threads,
        "sample_seconds": round(sample_seconds, 3),
        "synthetic_rows": sum(written),
        "model_path": str(model_path.relative_to(ctx.dir)),
        "model_sha256": digest,
        "predicted_fit_seconds": (chosen.get("time_budget") or {}).get("predicted_fit_seconds"),
        "released": released,
        "delta_path": release["delta_path"],
        "delta_version": version,
    }
    write_json(ctx.path("synthesis.json"), record)
    return record


def privacy_table(record: dict[str, Any]) -> pd.DataFrame:
    """The privacy figures for display: each with what it is compared with."""
    rows = [
        ("synthetic rows compared", record["n_compared"], ""),
        ("copies of a training row (same-size sample)", record["identical_train_sample_share"],
         f"vs {record['identical_holdout_share']:.3f} equal to a holdout row"),
        ("DCR share: closer to training than holdout", record["dcr_share"],
         f"0.5 is ideal; limit {record['dcr_threshold']:.3f}"),
        ("NNDR p10, synthetic vs training", record["nndr_p10_synthetic"],
         f"holdout vs training: {record['nndr_p10_holdout']}"),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["figure", "value", "compared with"])


# 8 -------------------------------------------------------------------------------------
@guarded("decision_tree")
def train_decision_tree(ctx: StepContext, task: str) -> dict[str, Any]:
    """Train-synthetic-test-real against train-real-test-real, on the real holdout."""
    from synthlake import models

    label = ctx.settings.label_variable
    if label is None:
        raise ConfigError(f"Table '{ctx.table}' has no label_variable; the model step does not apply")
    schema = ctx.schema()
    real = ctx.real()
    train, holdout = ctx.split()
    record = models.evaluate(
        schema=schema,
        label=label,
        real_train=real.iloc[train],
        real_holdout=real.iloc[holdout],
        synthetic=ctx.synthetic(),
        seed=ctx.config.seed,
        task=task,  # type: ignore[arg-type]
        k=ctx.config.privacy.k,
    )
    write_json(ctx.path("model_metrics.json"), record)
    return record


def model_metrics(ctx: StepContext) -> dict[str, Any] | None:
    """The model record, ``None`` when no label is set."""
    if ctx.settings.label_variable is None:
        return None
    path = ctx.path("model_metrics.json")
    if not path.exists():
        return {"skipped": "the decision-tree step did not complete"}
    return read_json(path)


def metrics_table(record: dict[str, Any]) -> pd.DataFrame:
    """Synthetic-trained vs real-trained scores side by side, for display."""
    rows = [
        {"metric": metric, "train synthetic": record["synthetic"][metric], "train real": value,
         "ratio": (record.get("ratio") or {}).get(metric)}
        for metric, value in record["real"].items()
    ]  # fmt: skip
    return pd.DataFrame(rows)


# 6 -------------------------------------------------------------------------------------
@guarded("report_prompting")
def prepare_prompt(ctx: StepContext) -> dict[str, Any]:
    """Compare real and synthetic, judge fidelity, utility and privacy, and build the prompt.

    Writes ``comparison.json`` (column shapes and correlations), ``evaluation.json``
    (SDMetrics quality and detection, the decision tree's ratio, the privacy checks,
    the protections applied, and the verdict) and ``prompt.json`` (aggregates only).
    """
    from synthlake.fidelity import FidelityReport
    from synthlake.verdict import verdict

    schema = ctx.schema()
    k = ctx.config.privacy.k
    real, synthetic = ctx.real(), ctx.synthetic()
    comparison = Comparison().generate(real, synthetic, schema, k=k).get_details()
    write_json(ctx.path("comparison.json"), comparison)
    fidelity = FidelityReport().generate(real, synthetic, schema, k=k, seed=ctx.config.seed).get_details()
    privacy = read_json(ctx.path("privacy.json"))
    release = read_json(ctx.path("release.json"))
    metrics = model_metrics(ctx)
    judged = verdict(fidelity, metrics, {**privacy, "released": release["released"]})
    evaluation = {
        "fidelity": fidelity,
        "utility": _utility_record(metrics),
        "privacy": privacy,
        "release": release,
        "protection": protection_record(ctx, schema),
        "verdict": judged,
    }
    write_json(ctx.path("evaluation.json"), evaluation)
    table_facts = narrative.facts(ctx.table, comparison, metrics, verdict=judged)
    record = {"facts": table_facts, "messages": narrative.build_prompt(table_facts)}
    write_json(ctx.path("prompt.json"), record)
    return record


def _utility_record(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    if metrics is None or metrics.get("skipped"):
        return metrics
    return {key: metrics.get(key) for key in ("task", "label", "synthetic", "real", "ratio", "holdout_rows")}


def protection_record(ctx: StepContext, schema: TableSchema) -> dict[str, Any]:
    """What was done to protect individuals: k, regenerated columns and why, carried columns."""
    return {
        "k": ctx.config.privacy.k,
        "rare_categories": f"labels held by fewer than {ctx.config.privacy.k} rows merged into '(other)'",
        "extremes": f"numbers and dates clipped to the k-th most extreme real value (k = {ctx.config.privacy.k})",
        "regenerated_columns": [
            {"column": c.name, "format": c.format, "why": c.reason} for c in schema.columns if c.kind == "identifier"
        ],
        "not_learned_columns": [
            {"column": c.name, "kind": c.kind} for c in schema.columns if c.kind in ("empty", "constant")
        ],
        "faker_locale": ctx.config.privacy.faker_locale,
    }


def verdict_table(evaluation: dict[str, Any]) -> pd.DataFrame:
    """The verdict for display: one row per dimension."""
    judged = evaluation["verdict"]
    return pd.DataFrame(
        [{"check": name, "result": judged[name]["status"], "in plain words": judged[name]["summary"]}
         for name in ("fidelity", "utility", "privacy", "overall")]
    )  # fmt: skip


# 7 -------------------------------------------------------------------------------------
@guarded("gpt_prompting")
def write_narrative(ctx: StepContext) -> str:
    prompt = read_json(ctx.path("prompt.json"))
    text, record = narrative.write(
        provider=ctx.config.narrative.provider,
        prompt=prompt["messages"],
        table_facts=prompt["facts"],
        llm=ctx.config.llm,
    )
    write_json(ctx.path("narrative.json"), record)
    write_text(ctx.path("narrative.md"), text)
    return text


# 9 -------------------------------------------------------------------------------------
@guarded("generate_reports")
def generate_report(ctx: StepContext) -> Path:
    from synthlake.report import build_report

    schema = ctx.schema()
    synthesis = read_json(ctx.path("synthesis.json"))
    train, holdout = ctx.split()
    manifest_path = ctx.run_dir / "manifest.json"
    manifest = read_json(manifest_path) if manifest_path.exists() else {}
    run_facts = {
        "run_id": ctx.run_dir.name,
        "started": manifest.get("started"),
        "synthlake_version": (manifest.get("versions") or {}).get("synthlake"),
        "seed": ctx.config.seed,
        "real_rows": len(train) + len(holdout),
        "training_rows": len(train),
        "holdout_rows": len(holdout),
        "synthetic_rows": synthesis["synthetic_rows"],
        "synthesizer": synthesis.get("synthesizer", "ctgan"),
        "epochs_trained": _epochs_trained(synthesis),
        "fit_seconds": synthesis.get("fit_seconds"),
        "predicted_fit_seconds": synthesis.get("predicted_fit_seconds"),
        "device": synthesis.get("device"),
    }
    return build_report(
        ctx.path("report.pdf"),
        table=ctx.table,
        schema=schema,
        real=ctx.real(),
        synthetic=ctx.synthetic(),
        summary_real=pd.read_csv(ctx.path("summary_raw_data.csv")),
        summary_synthetic=pd.read_csv(ctx.path("summary_synthetic_data.csv")),
        comparison=read_json(ctx.path("comparison.json")),
        hyperparameters=read_json(ctx.path("hyperparameters.json")),
        model_metrics=model_metrics(ctx),
        narrative=ctx.path("narrative.md").read_text(encoding="utf-8"),
        run_facts=run_facts,
        evaluation=read_json(ctx.path("evaluation.json")),
        k=ctx.config.privacy.k,
        released=ctx.released,
    )
