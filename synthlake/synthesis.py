"""The synthesizer: CTGAN (the ``ctgan`` package) with synthlake's column handling.

Shaped like SDV's synthesizers (``fit``, ``sample``, ``save``, ``load``,
``get_parameters``). The model is one of :data:`ENGINES`: ``ctgan`` (the default:
``ctgan``'s CTGAN trained through :class:`synthlake.fastpath.FastCTGAN`, with early
stopping), ``tvae`` (``ctgan``'s TVAE) or ``gaussian_copula``
(:class:`synthlake.copula.GaussianCopula`). Around the model it adds what a real
table needs:

- categorical, boolean and few-valued integer columns are declared discrete;
- datetimes are learned as numbers and turned back into timestamps;
- missing values are learned (an indicator column per numeric/datetime column with
  gaps, a ``<missing>`` label for discrete columns) and restored;
- identifier columns are not learned: they are regenerated in the same format;
- empty and constant columns are not learned: they are carried as they were;
- numbers are rounded like the real column and kept within its range; with ``k`` > 1
  the range stops at the ``k``-th most extreme training value, and categories held by
  fewer than ``k`` rows are merged into ``(other)`` (see :mod:`synthlake.protection`).
"""

from __future__ import annotations

import logging
import os
import pickle
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import torch

from synthlake.errors import DataError, IntegrityError
from synthlake.hyperparameters import PAC
from synthlake.identifiers import IdentifierFormat, describe, regenerate
from synthlake.products import atomic_path, sha256
from synthlake.protection import OTHER, k_bounds
from synthlake.schema import TableSchema, datetime_seconds

log = logging.getLogger(__name__)

MISSING = "<missing>"
NULL_FLAG = "__isnull__"
DEFAULT_EPOCHS = 300
DEFAULT_BATCH_SIZE = 500
BATCH_ROWS = 100_000  # synthetic rows sampled, checked and written at a time
ENGINES = ("ctgan", "tvae", "gaussian_copula")
VALIDATION_CHECKS = 20  # early stopping: about this many fidelity checks over the most epochs
PATIENCE = 5  # checks without a gain before training stops (a quarter of the most epochs)
MIN_EPOCHS_SHARE = 0.5  # checks count from half the most epochs: CTGAN's fidelity swings widely before


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so that CPU training is reproducible."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Synthesizer:
    """CTGAN trained on one table.

    Args:
        schema: the column kinds inferred at import.
        epochs: CTGAN training epochs.
        batch_size: CTGAN batch size (even and a multiple of 10).
        seed: makes training and sampling reproducible on CPU.
        verbose: show CTGAN's per-epoch progress bar with losses.
        cuda: use a GPU when one is available (``None``: when torch sees one).
        k: privacy threshold: categories held by fewer than ``k`` training rows are
            merged into ``(other)`` before training, and numbers and dates are kept
            within the ``k``-th smallest and largest training values.
        locale: Faker locale for regenerated names, phones and addresses.
        engine: the model, one of :data:`ENGINES`.
        early_stopping: (``ctgan``) check a cheap fidelity score every few epochs, keep
            the best generator, and stop once it no longer improves; ``epochs`` is
            then the most epochs trained.
        transformer_cache: (``ctgan``) a folder for the fitted data transformer, keyed by
            the training rows and settings: a second fit on the same rows reuses it
            instead of fitting the Gaussian mixtures again.
    """

    def __init__(
        self,
        schema: TableSchema,
        *,
        epochs: int = DEFAULT_EPOCHS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        seed: int = 42,
        verbose: bool = False,
        cuda: bool | None = None,
        k: int = 1,
        locale: str = "en_US",
        engine: str = "ctgan",
        early_stopping: bool = True,
        transformer_cache: str | Path | None = None,
    ):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got '{engine}'")
        if batch_size % 2 or batch_size % PAC:
            raise ValueError(f"batch_size must be even and a multiple of {PAC}; got {batch_size}")
        self.schema = schema
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.verbose = verbose
        self.cuda = torch.cuda.is_available() if cuda is None else cuda
        self.k = k
        self.locale = locale
        self.engine = engine
        self.early_stopping = early_stopping
        self.transformer_cache = Path(transformer_cache) if transformer_cache is not None else None
        self.transformer_reused: bool | None = None
        self._kept_labels: dict[str, set[str]] = {}
        self._model: Any = None
        self._encoded_columns: list[str] = []
        self._discrete: list[str] = []
        self._facts: dict[str, dict[str, Any]] = {}
        self._identifiers: dict[str, IdentifierFormat] = {}
        self._carried: dict[str, dict[str, Any]] = {}
        self.fit_seconds: float | None = None
        self.n_training_rows: int = 0

    # -- encoding -----------------------------------------------------------------
    def _encode(self, frame: pd.DataFrame, *, learn: bool) -> pd.DataFrame:
        encoded: dict[str, pd.Series] = {}
        for column in self.schema.columns:
            name, values = column.name, frame[column.name]
            if column.kind in ("categorical", "boolean") or (column.kind == "numeric" and column.discrete):
                if learn:
                    self._discrete.append(name)
                    self._facts[name] = {"kind": column.kind, "integer": column.integer}
                    if column.kind == "categorical":
                        # keep the labels, not the rare ones: the model file never holds a rare value
                        common = values.dropna().astype(str).value_counts()
                        self._kept_labels[name] = set(common.index[common >= self.k])
                if column.kind == "categorical":
                    kept = self._kept_labels[name]
                    values = values.map(lambda v, kept=kept: v if pd.isna(v) or str(v) in kept else OTHER)
                elif column.kind == "numeric":
                    bounds = k_bounds(values, self.k) if learn else None
                    if learn and bounds:
                        self._facts[name].update({"min": bounds[0], "max": bounds[1]})
                    if "min" in self._facts[name]:
                        values = pd.to_numeric(values, errors="coerce").clip(
                            self._facts[name]["min"], self._facts[name]["max"]
                        )
                encoded[name] = values.map(lambda v: MISSING if pd.isna(v) else str(v)).astype(object)
            elif column.kind in ("numeric", "datetime"):
                if column.kind == "datetime":
                    numbers = datetime_seconds(values)
                else:
                    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
                missing = numbers.isna()
                if learn:
                    present = numbers[~missing]
                    low, high = k_bounds(present, self.k)
                    self._facts[name] = {
                        "kind": column.kind,
                        "integer": column.integer,
                        "min": low,
                        "max": high,
                        "median": float(present.median()),
                        "has_missing": bool(missing.any()),
                        "date_only": bool(column.kind == "datetime" and (present % 86_400 == 0).all()),
                        "decimals": _decimals(present) if column.kind == "numeric" else 0,
                    }
                facts = self._facts[name]
                encoded[name] = numbers.fillna(facts["median"]).clip(facts["min"], facts["max"])
                if facts["has_missing"]:
                    flag = NULL_FLAG + name
                    encoded[flag] = missing.map({True: "1", False: "0"}).astype(object)
                    if learn:
                        self._discrete.append(flag)
            elif learn and column.kind == "identifier":
                self._identifiers[name] = describe(column, values)
            elif learn and column.kind in ("empty", "constant"):
                present = values.dropna()
                self._carried[name] = {
                    # a value held by fewer than k rows is personal: carry the column empty
                    "value": present.iloc[0] if len(present) >= self.k else None,
                    "missing_share": float(values.isna().mean()),
                    "dtype": str(values.dtype),
                }
        return pd.DataFrame(encoded, index=frame.index)

    # -- public API -----------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> Synthesizer:
        """Train the model on ``frame`` (the training part of the real table).

        Raises:
            DataError: the table has no column the model can learn, or too few rows.
        """
        table = self.schema.table
        if not self.schema.learned:
            raise DataError(
                f"Table '{table}' has no column CTGAN can learn (all are identifiers, empty or constant)",
                table=table,
            )
        if len(frame) < self.batch_size // 2 and len(frame) < 10:
            raise DataError(
                f"Table '{table}' has only {len(frame)} training rows; CTGAN needs at least 10", table=table
            )
        self._discrete, self._facts, self._identifiers, self._carried = [], {}, {}, {}
        encoded = self._encode(frame, learn=True)
        self._encoded_columns = list(encoded.columns)
        self.n_training_rows = len(encoded)
        seed_everything(self.seed)
        self._model = self._new_model()
        self._model.set_random_state(self.seed)
        log.info(
            "training %s on %s: %d rows, %d encoded columns, %d epochs, batch %d, device %s",
            self.engine, table, len(encoded), encoded.shape[1], self.epochs, self.batch_size, self.device,
        )  # fmt: skip
        started = pd.Timestamp.now()
        options: dict[str, Any] = {}
        if self.engine == "ctgan" and self.transformer_cache is not None:
            from synthlake.fastpath import cached_transformer

            options["transformer"], self.transformer_reused = cached_transformer(
                encoded, self._discrete, cache_dir=self.transformer_cache,
                sample_rows=self._model._transformer_sample_rows,
            )  # fmt: skip
        # ctgan transforms columns with joblib; processes cost seconds to start on a
        # small machine, threads do the same work without that cost
        with joblib.parallel_config(backend="threading"):
            self._model.fit(encoded, discrete_columns=self._discrete, **options)
        self.fit_seconds = (pd.Timestamp.now() - started).total_seconds()
        if self.engine == "ctgan" and self.early_stopping:
            log.info(
                "%s: %d of at most %d epochs trained; best fidelity check at epoch %s",
                table, self._model.epochs_trained, self.epochs, self._model.best_epoch,
            )  # fmt: skip
        return self

    def _new_model(self) -> Any:
        if self.engine == "gaussian_copula":
            from synthlake.copula import GaussianCopula

            return GaussianCopula(k=self.k, seed=self.seed)
        if self.engine == "tvae":
            from ctgan import TVAE

            return TVAE(epochs=self.epochs, batch_size=self.batch_size, verbose=self.verbose, enable_gpu=self.cuda)
        from synthlake.fastpath import FastCTGAN

        return FastCTGAN(
            epochs=self.epochs,
            batch_size=self.batch_size,
            pac=PAC,
            verbose=self.verbose,
            enable_gpu=self.cuda,
            early_stopping=self.early_stopping,
            validation_every=max(self.epochs // VALIDATION_CHECKS, 1),
            patience=PATIENCE,
            min_epochs=int(self.epochs * MIN_EPOCHS_SHARE),
        )

    def training_facts(self) -> dict[str, Any]:
        """Epochs trained and where the best generator was found (``ctgan`` with early stopping)."""
        model = self._model
        trained = getattr(model, "epochs_trained", None)
        scores = getattr(model, "validation_scores", None)
        return {
            "epochs_trained": trained if self.engine == "ctgan" else (None if self.engine != "tvae" else self.epochs),
            "best_epoch": getattr(model, "best_epoch", None),
            "stopped_early": bool(trained is not None and trained < self.epochs),
            "validation_checks": None if scores is None else len(scores),
            "best_validation_score": None
            if scores is None or not len(scores)
            else round(float(scores["Score"].max()), 4),
        }

    @property
    def device(self) -> str:
        if self._model is not None:
            return str(self._model._device)
        return "cuda" if self.cuda else "cpu"

    def sample(self, num_rows: int, *, seed: int | None = None) -> pd.DataFrame:
        """Sample ``num_rows`` synthetic rows with the real table's columns and types.

        Args:
            num_rows: rows to sample.
            seed: another seed for another draw (default: the training seed, so that
                the same synthesizer always gives the same rows).
        """
        if self._model is None:
            raise RuntimeError("call fit() before sample()")
        base = self.seed if seed is None else seed
        self._model.set_random_state(base + 1)
        raw = self._model.sample(num_rows) if num_rows else pd.DataFrame(columns=self._encoded_columns)
        raw = raw.reset_index(drop=True)
        out: dict[str, pd.Series] = {}
        for position, column in enumerate(self.schema.columns):
            name = column.name
            if name in self._identifiers:
                out[name] = regenerate(self._identifiers[name], num_rows, seed=base + 7 * position, locale=self.locale)
            elif name in self._carried:
                out[name] = self._carry(name, num_rows, seed=base + 7 * position)
            else:
                out[name] = self._decode(name, raw)
        return pd.DataFrame(out)

    def sample_batches(self, num_rows: int, *, batch_rows: int | None = None) -> Iterator[pd.DataFrame]:
        """Sample ``num_rows`` rows as a stream of frames of at most ``batch_rows`` rows.

        The first frame is ``sample(min(num_rows, batch_rows))``, so a table that fits in
        one frame is the same table :meth:`sample` gives. Later frames use seeds of their
        own; in a table of several frames, unique identifiers carry their row number so
        that they stay unique across frames without holding every value in memory.
        """
        batch_rows = batch_rows or BATCH_ROWS
        for number, start in enumerate(range(0, num_rows, batch_rows)):
            rows = min(batch_rows, num_rows - start)
            frame = self.sample(rows) if number == 0 else self.sample(rows, seed=self.seed + 7_919 * number)
            if num_rows > batch_rows:
                frame = self.number_identifiers(frame, start)
            yield frame

    def number_identifiers(self, frame: pd.DataFrame, start: int) -> pd.DataFrame:
        """``frame`` with row numbers from ``start`` in its unique identifiers (unique across frames)."""
        for name, spec in self._identifiers.items():
            if not spec.unique:
                continue
            numbers = pd.Series(np.arange(start, start + len(frame)), index=frame.index).astype(str)
            values = frame[name]
            if spec.format == "integer":
                low = 10 ** (spec.integer_digits - 1) if spec.integer_digits > 1 else 1
                frame[name] = (low + numbers.astype("int64")).astype("Int64").where(values.notna())
            elif spec.format == "email":
                local_domain = values.astype(str).str.split("@", n=1, expand=True)
                frame[name] = (local_domain[0] + "." + numbers + "@" + local_domain[1]).where(values.notna())
            else:
                frame[name] = (values.astype(str) + "-" + numbers).where(values.notna())
        return frame

    def refresh_identifiers(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its identifier columns regenerated as one draw (unique ones stay unique).

        Rows put together from several draws (the privacy repair) would otherwise repeat
        identifiers, since every draw starts its identifiers from the same seed.
        """
        frame = frame.reset_index(drop=True).copy()
        for position, column in enumerate(self.schema.columns):
            if column.name in self._identifiers:
                frame[column.name] = regenerate(
                    self._identifiers[column.name], len(frame), seed=self.seed + 7 * position, locale=self.locale
                )
        return frame

    def _carry(self, name: str, num_rows: int, *, seed: int) -> pd.Series:
        carried = self._carried[name]
        rng = np.random.default_rng(seed)
        values = pd.Series([carried["value"]] * num_rows, dtype=object)
        if carried["value"] is not None and carried["missing_share"] > 0:
            values[rng.random(num_rows) < carried["missing_share"]] = None
        try:
            return values.astype(carried["dtype"])
        except (TypeError, ValueError):
            return values

    def _decode(self, name: str, raw: pd.DataFrame) -> pd.Series:
        facts = self._facts[name]
        values = raw[name]
        if name in self._discrete:
            labels = values.astype(str)
            missing = labels == MISSING
            if facts["kind"] == "boolean":
                result = labels.map({"True": True, "False": False}).astype("boolean")
            elif facts["kind"] == "numeric":
                numbers = pd.to_numeric(labels.where(~missing), errors="coerce")
                if facts["integer"]:
                    return numbers.astype("Int64") if missing.any() else numbers.astype("int64")
                result = numbers
            else:
                result = labels.astype(object)
            result[missing] = None
            return result
        numbers = pd.to_numeric(values, errors="coerce").astype("float64").clip(facts["min"], facts["max"])
        if facts["kind"] == "datetime":
            if facts["date_only"]:
                numbers = (numbers / 86_400).round() * 86_400
            result = pd.to_datetime(numbers.round(), unit="s")
        elif facts["integer"]:
            result = numbers.round().astype("Int64")
        else:
            result = numbers.round(facts["decimals"])
        if facts["has_missing"]:
            flags = raw[NULL_FLAG + name].astype(str)
            result = result.copy()
            result[flags == "1"] = None
        elif facts["kind"] == "numeric" and facts["integer"]:
            result = result.astype("int64")
        return result

    def get_parameters(self) -> dict[str, Any]:
        """The settings this synthesizer was built with."""
        return {
            "synthesizer": self.engine,
            "early_stopping": bool(self.engine == "ctgan" and self.early_stopping),
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "pac": PAC,
            "seed": self.seed,
            "device": self.device,
            "discrete_columns": list(self._discrete),
            "identifier_columns": list(self._identifiers),
            "carried_columns": list(self._carried),
            "k": self.k,
            "merged_rare_categories": {
                name: "labels held by fewer than k training rows merged into " + OTHER for name in self._kept_labels
            },
            "training_rows": self.n_training_rows,
            "fit_seconds": self.fit_seconds,
            "transformer_reused": self.transformer_reused,
            **(self.training_facts() if self._model is not None else {}),
        }

    def loss_values(self) -> pd.DataFrame | None:
        """The model's training losses (CTGAN: generator and discriminator per epoch; after fit)."""
        return None if self._model is None else getattr(self._model, "loss_values", None)

    def save(self, path: str | Path) -> str:
        """Write the trained synthesizer (owner-only permissions) and return its SHA-256."""
        path = Path(path)
        with atomic_path(path, mode=0o600) as temp:
            with open(temp, "wb") as handle:
                pickle.dump(self, handle, protocol=pickle.HIGHEST_PROTOCOL)
        return sha256(path)

    @classmethod
    def load(cls, path: str | Path, *, expected_sha256: str | None = None) -> Synthesizer:
        """Read a saved synthesizer, refusing it when its hash differs from the recorded one.

        Raises:
            IntegrityError: the file's SHA-256 is not ``expected_sha256``.
        """
        path = Path(path)
        if expected_sha256 is not None and sha256(path) != expected_sha256:
            raise IntegrityError(
                f"Model file '{path}' does not match the SHA-256 recorded when it was written; "
                "it was changed or replaced. Re-run the synthesis step."
            )
        with open(path, "rb") as handle:
            model = pickle.load(handle)  # noqa: S301 - our own file, hash checked above
        if not isinstance(model, cls):
            raise IntegrityError(f"Model file '{path}' does not hold a synthlake Synthesizer")
        if model._model is not None and hasattr(model._model, "set_device") and not torch.cuda.is_available():
            model._model.set_device(torch.device("cpu"))
        return model


def _decimals(values: pd.Series, limit: int = 6) -> int:
    """The number of decimals the real values use (at most ``limit``)."""
    sample = values.head(5_000).to_numpy()
    for decimals in range(limit + 1):
        if np.allclose(sample, np.round(sample, decimals), rtol=0, atol=1e-9):
            return decimals
    return limit


SMALL_BATCH = 200


def configure_threads(batch_size: int) -> int:
    """Choose torch's intra-op threads for a batch size, unless OMP_NUM_THREADS is set.

    Small batches are faster on one thread: the per-layer work is too small to share
    and extra threads only spin (measured on 2 cores: batch 20 took 18 ms a step on one
    thread, 24 ms on two, and far longer when another process competes for the cores).
    Larger batches use every core.
    """
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1 if batch_size < SMALL_BATCH else max(os.cpu_count() or 1, 1))
    return torch.get_num_threads()


PROBE_STEPS = 8  # optimiser steps per probe epoch
PROBE_EPOCHS = 5  # the longer probe fit; the shorter has one epoch


def probe(
    schema: TableSchema, frame: pd.DataFrame, *, batch_size: int, seed: int = 42, k: int = 1, engine: str = "ctgan"
) -> dict[str, float]:
    """Time two short fits of ``engine`` on a sample of ``frame`` to predict a full fit's cost.

    The fits differ by ``PROBE_EPOCHS - 1`` epochs on the same sample, so their difference is the
    training time per optimiser step, and the rest is the per-row cost of encoding and
    transforming the data.

    Returns:
        ``seconds_per_step``, ``transform_seconds_per_row``, the sample's rows and the
        probe's own seconds.
    """
    started = time.perf_counter()
    rows = min(len(frame), max(batch_size * PROBE_STEPS, 1_000))
    sample = frame.sample(n=rows, random_state=seed) if rows < len(frame) else frame
    batch = min(batch_size, max(PAC * 2, (rows // PAC) * PAC))  # a multiple of pac (10) is even
    steps = max(rows // batch, 1)
    # a first fit pays one-time costs (imports, thread pools): warm up on a few rows
    options = {"seed": seed, "k": k, "engine": engine, "early_stopping": False}
    Synthesizer(schema, epochs=1, batch_size=PAC * 2, **options).fit(sample.head(max(PAC * 4, 10)))
    seconds = {}
    for epochs in (1, PROBE_EPOCHS):
        synthesizer = Synthesizer(schema, epochs=epochs, batch_size=batch, **options)
        synthesizer.fit(sample)
        seconds[epochs] = synthesizer.fit_seconds or 0.0
    # a step's cost grows about linearly with the batch on CPU
    extra_steps = (PROBE_EPOCHS - 1) * steps
    per_step = max((seconds[PROBE_EPOCHS] - seconds[1]) / extra_steps, 1e-4) * (batch_size / batch)
    transform = max(seconds[1] - per_step * steps, 0.0) / rows
    return {
        "seconds_per_step": per_step,
        "transform_seconds_per_row": transform,
        "probe_rows": rows,
        "probe_seconds": round(time.perf_counter() - started, 2),
    }


def predict_fit_seconds(probed: dict[str, float], *, n_rows: int, epochs: int, batch_size: int) -> float:
    """The predicted seconds of ``Synthesizer.fit`` on ``n_rows`` rows."""
    steps_per_epoch = max(n_rows // batch_size, 1)
    return probed["transform_seconds_per_row"] * n_rows + epochs * steps_per_epoch * probed["seconds_per_step"]
