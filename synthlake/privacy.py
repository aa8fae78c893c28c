"""Privacy checks of a synthetic table against the real rows, with a real holdout as the baseline.

A synthetic row that copies or hugs a training row is a leak; a synthetic row that is
as close to a training row as real rows CTGAN never saw are is not. So every check
compares the training rows with the holdout, never with an absolute threshold:

- identical-match share: synthetic rows equal to a training row vs. to a holdout row;
- DCR share: synthetic rows closer to a training row than to a holdout row, with the
  training rows subsampled to the holdout's size so that 0.5 is ideal (ties count
  half). Above ``0.5 + 1.96 * sqrt(0.25 / n)`` for ``n`` synthetic rows compared, the
  synthesizer has memorised its training rows. That limit assumes independent rows;
  when synthetic rows share their nearest real rows, a permutation test (the pool of
  training sample and holdout relabelled at random, 200 times) gives the share's real
  spread, and the limit is the larger of the two 97.5th percentiles;
- NNDR (nearest / second-nearest distance ratio) at the 10th percentile, synthetic
  rows vs. holdout rows, both measured against the training rows: a synthetic row far
  more tied to one training row than real unseen rows are is an outlier copied.

Distances are Euclidean on standardised numbers (and dates) plus one-hot categories
(a different category counts 1), computed in chunks so that a 100k-row table fits in
memory. Identifier, empty and constant columns are not compared: they were not learned.

Shaped like an SDMetrics report: :class:`PrivacyReport` has ``generate``,
``get_score`` and ``get_details``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthlake.protection import OTHER, k_bounds, merge_rare, rare_labels
from synthlake.schema import TableSchema, datetime_seconds

MAX_COMPARED = 5_000  # synthetic rows compared (a random sample beyond that)
CHUNK_BYTES = 64 * 2**20  # memory for one block of distances
SMALL_HOLDOUT = 200  # below this many holdout rows the figures are weak
NNDR_PERCENTILE = 10
REPAIR_PERCENTILE = 5
POOL_NEIGHBOURS = 64  # nearest pooled real rows kept per synthetic row for the permutation test
TIE_TOLERANCE = 1e-6  # distances this close are a tie (matrix products leave ~1e-7 residue)
PERMUTATIONS = 200
PERMUTATION_BLOCK = 25
_MISSING = "<missing>"


def dcr_threshold(n: int) -> float:
    """The DCR share above which memorisation is flagged, for ``n`` synthetic rows compared."""
    return 0.5 + 1.96 * math.sqrt(0.25 / max(n, 1))


@dataclass
class Encoder:
    """Turns rows into vectors: standardised numbers and one-hot categories.

    Fitted on the training rows; a number missing in a row is encoded as the training
    mean plus a missing flag, so missing-vs-present also counts as a difference.
    Every frame is compared as the synthesizer saw its training rows: rare categories
    merged into ``(other)`` and numbers clipped to the ``k``-th most extreme training
    values. Otherwise synthetic values at a bound (a training value) would look like
    copies that the holdout, unclipped, can never match.
    """

    numeric: dict[str, tuple[float, float, bool, tuple[float, float] | None]]
    categories: dict[str, list[str]]
    kinds: dict[str, str]
    k: int = 1

    @classmethod
    def fit(cls, schema: TableSchema, train: pd.DataFrame, *, k: int = 1) -> Encoder:
        numeric, categories, kinds = {}, {}, {}
        for column in schema.columns:
            name = column.name
            if column.kind in ("numeric", "datetime"):
                values = _numbers(train[name], column.kind)
                present = values.dropna()
                std = float(present.std()) if len(present) > 1 else 0.0
                mean = float(present.mean()) if len(present) else 0.0
                bounds = k_bounds(present, k)
                numeric[name] = (mean, std if std > 0 else 1.0, bool(values.isna().any()), bounds)
                kinds[name] = column.kind
            elif column.kind in ("categorical", "boolean"):
                labels = _labels(train[name], column.kind, k)
                categories[name] = sorted(set(labels.unique()) | ({OTHER} if column.kind == "categorical" else set()))
                kinds[name] = column.kind
        return cls(numeric, categories, kinds, k)

    @property
    def columns(self) -> list[str]:
        return list(self.numeric) + list(self.categories)

    def transform_blocks(self, frame: pd.DataFrame, rows: int = 10_000) -> Iterator[np.ndarray]:
        """:meth:`transform` of ``frame`` in blocks of ``rows`` rows."""
        for start in range(0, len(frame), rows):
            yield self.transform(frame.iloc[start : start + rows])

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Vectors for ``frame``'s rows (float64, one row per row)."""
        parts = []
        for name, (mean, std, _, bounds) in self.numeric.items():
            values = _numbers(frame[name], self.kinds[name])
            if bounds is not None:  # extremes as the synthesizer saw them (see Encoder)
                values = values.clip(*bounds)
            missing = values.isna().to_numpy()
            parts.append(((values.fillna(mean).to_numpy(dtype="float64") - mean) / std)[:, None])
            if self.numeric[name][2]:  # the training rows decide the columns, so every frame has the same
                parts.append(missing.astype("float64")[:, None])
        scale = 1 / math.sqrt(2)  # two one-hot cells differ when the category differs: distance 1
        for name, known in self.categories.items():
            labels = _labels(frame[name], self.kinds[name], 1)
            if self.kinds[name] == "categorical":
                labels = labels.where(labels.isin(known) | (labels == _MISSING), OTHER)
            # a label the training rows never had (e.g. missing) gets no cell: distance 1/sqrt(2) to any
            codes = pd.Categorical(labels, categories=known).codes
            onehot = np.zeros((len(frame), len(known)), dtype="float64")
            valid = codes >= 0
            onehot[np.flatnonzero(valid), codes[valid]] = scale
            parts.append(onehot)
        if not parts:
            return np.zeros((len(frame), 0))
        return np.hstack(parts)


def _numbers(values: pd.Series, kind: str) -> pd.Series:
    if kind == "datetime":
        return datetime_seconds(values)
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _labels(values: pd.Series, kind: str, k: int) -> pd.Series:
    if kind == "categorical" and k > 1:
        values = merge_rare(values, rare_labels(values, k))
    labels = values.astype(object).map(lambda v: _MISSING if pd.isna(v) else str(v))
    return labels.astype(object)


def neighbours(queries: np.ndarray, reference: np.ndarray, *, n: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Distances to, and positions of, each query row's ``n`` nearest reference rows, in chunks.

    Returns:
        Two arrays of shape ``(len(queries), n)``: distances sorted along each row, and
        the matching positions in ``reference``.
    """
    if not len(reference):
        return np.full((len(queries), n), np.inf), np.zeros((len(queries), n), dtype=np.int64)
    n = min(n, len(reference))
    ref_sq = np.einsum("ij,ij->i", reference, reference)
    rows = max(1, CHUNK_BYTES // (8 * max(len(reference), 1)))
    distances = np.empty((len(queries), n))
    positions = np.empty((len(queries), n), dtype=np.int64)
    for start in range(0, len(queries), rows):
        block = queries[start : start + rows]
        squared = np.einsum("ij,ij->i", block, block)[:, None] + ref_sq[None, :] - 2.0 * block @ reference.T
        np.maximum(squared, 0.0, out=squared)
        part = np.argpartition(squared, n - 1, axis=1)[:, :n] if n < squared.shape[1] else np.argsort(squared, 1)
        values = np.take_along_axis(squared, part, axis=1)
        order = np.argsort(values, axis=1, kind="stable")
        distances[start : start + len(block)] = np.sqrt(np.take_along_axis(values, order, axis=1))
        positions[start : start + len(block)] = np.take_along_axis(part, order, axis=1)
    # matrix products leave ~1e-7 residue on exact copies; round it away
    return np.where(distances < 1e-6, 0.0, distances), positions


def nearest(queries: np.ndarray, reference: np.ndarray, *, n: int = 1) -> np.ndarray:
    """Distances from each query row to its ``n`` nearest reference rows, sorted along each row."""
    return neighbours(queries, reference, n=n)[0]


def dcr_share(distances: np.ndarray, positions: np.ndarray, is_train: np.ndarray) -> np.ndarray:
    """The DCR share for one or more labellings of a pooled reference set.

    Args:
        distances: each synthetic row's nearest pooled rows (sorted), ``(n, K)``.
        positions: their positions in the pool, ``(n, K)``.
        is_train: which pooled rows count as training rows, ``(P, pool)`` for ``P``
            labellings.

    Returns:
        ``(P,)`` shares of synthetic rows closer to a training row than to a holdout
        row, ties counting half. A side absent from a row's ``K`` neighbours is at
        infinity (with ``K`` of 64 and even halves, a chance of 2^-64).
    """
    labels = is_train[:, positions]  # (P, n, K)
    rows = np.arange(distances.shape[0])[None, :]
    first_train, first_hold = labels.argmax(axis=2), (~labels).argmax(axis=2)
    d_train = np.where(labels.any(axis=2), distances[rows, first_train], np.inf)
    d_hold = np.where((~labels).any(axis=2), distances[rows, first_hold], np.inf)
    return (d_train < d_hold).mean(axis=1) + 0.5 * (d_train == d_hold).mean(axis=1)


def _identical(queries: np.ndarray, reference: np.ndarray | Iterator[np.ndarray]) -> np.ndarray:
    """Whether each query row equals some reference row exactly (after encoding).

    ``reference`` may be a stream of row blocks, so that a large training table is never
    encoded whole (its one-hot matrix can be far larger than the table).
    """
    if not queries.shape[1]:
        return np.zeros(len(queries), dtype=bool)
    blocks = [reference] if isinstance(reference, np.ndarray) else reference
    ref = {row.tobytes() for block in blocks for row in np.round(block, 9)}
    return np.fromiter((row.tobytes() in ref for row in np.round(queries, 9)), dtype=bool, count=len(queries))


class PrivacyReport:
    """Identical matches, DCR share and NNDR of synthetic rows, against a real holdout."""

    def __init__(self, *, max_compared: int = MAX_COMPARED) -> None:
        self.max_compared = max_compared
        self._details: dict[str, Any] | None = None

    def generate(
        self,
        train: pd.DataFrame,
        holdout: pd.DataFrame,
        synthetic: pd.DataFrame,
        schema: TableSchema,
        *,
        k: int = 1,
        seed: int = 0,
    ) -> PrivacyReport:
        """Run every check. The three frames have the schema's columns.

        Args:
            train: the real rows the synthesizer was trained on.
            holdout: real rows it never saw.
            synthetic: the synthetic rows.
            schema: the column kinds.
            k: rare categories (fewer than ``k`` training rows) are compared as ``(other)``,
                the label the synthesizer gave them.
            seed: for the subsamples.
        """
        rng = np.random.default_rng(seed)
        encoder = Encoder.fit(schema, train, k=k)
        n_hold = len(holdout)
        train_sub = train.iloc[np.sort(rng.choice(len(train), size=min(n_hold, len(train)), replace=False))]
        compared = synthetic
        if len(synthetic) > self.max_compared:
            compared = synthetic.iloc[np.sort(rng.choice(len(synthetic), size=self.max_compared, replace=False))]
        x_sub, x_hold, x_syn = encoder.transform(train_sub), encoder.transform(holdout), encoder.transform(compared)
        n = len(x_syn)

        identical_train = _identical(x_syn, encoder.transform_blocks(train))
        identical_sub = _identical(x_syn, x_sub)
        identical_hold = _identical(x_syn, x_hold)

        # the observed share, exactly: each synthetic row's nearest training-sample row and
        # nearest holdout row (ties, within rounding, count half)
        d_sub = nearest(x_syn, x_sub)[:, 0] if n else np.zeros(0)
        d_hold = nearest(x_syn, x_hold)[:, 0] if n else np.zeros(0)
        tied = np.isclose(d_sub, d_hold, rtol=1e-9, atol=TIE_TOLERANCE)
        closer = float(((d_sub < d_hold) & ~tied).mean() + 0.5 * tied.mean()) if n else 0.5
        # the spread when nothing leaks: one pool of both, relabelled at random (shuffled
        # first, so that rows tied beyond the kept neighbours are not all of one side)
        pool = np.vstack([x_sub, x_hold])[rng.permutation(len(x_sub) + len(x_hold))]
        distances, positions = neighbours(x_syn, pool, n=min(POOL_NEIGHBOURS, len(pool)))
        permuted = None
        if n:
            permuted = _permutation_quantile(distances, positions, n_train=len(x_sub), n_pool=len(pool), rng=rng)
        formula = dcr_threshold(n)
        threshold = max(formula, permuted or 0.0)

        syn_two = nearest(x_syn, x_sub, n=2)
        hold_two = nearest(x_hold, x_sub, n=2)
        syn_nndr = _nndr(syn_two)
        hold_nndr = _nndr(hold_two)

        p_sub, p_hold = float(identical_sub.mean()) if n else 0.0, float(identical_hold.mean()) if n else 0.0
        pooled = (p_sub + p_hold) / 2
        identical_margin = 1.96 * math.sqrt(2 * pooled * (1 - pooled) / max(n, 1))
        reasons = []
        if not n:
            reasons.append("there are no synthetic rows to check")
        if closer > threshold:
            reasons.append(
                f"{closer:.1%} of synthetic rows are closer to a training row than to a holdout row "
                f"(about 50% is expected; the limit for {n} rows is {threshold:.1%}): the synthesizer "
                "reproduces its training rows"
            )
        if p_sub > p_hold + identical_margin:
            reasons.append(
                f"{p_sub:.1%} of synthetic rows copy a training row against {p_hold:.1%} that equal a holdout "
                "row of the same size: training rows are copied"
            )
        self._details = {
            "passed": not reasons,
            "reasons": reasons,
            "n_compared": n,
            "n_training_rows": len(train),
            "n_holdout_rows": n_hold,
            "compared_columns": encoder.columns,
            "identical_train_share": float(identical_train.mean()) if n else 0.0,
            "identical_train_sample_share": p_sub,
            "identical_holdout_share": p_hold,
            "identical_margin": identical_margin,
            "dcr_share": closer,
            "dcr_threshold": threshold,
            "dcr_threshold_formula": formula,
            "dcr_threshold_permutation": permuted,
            "dcr_synthetic_to_train_median": _finite_median(d_sub),
            "dcr_synthetic_to_holdout_median": _finite_median(d_hold),
            "nndr_p10_synthetic": _percentile(syn_nndr, NNDR_PERCENTILE),
            "nndr_p10_holdout": _percentile(hold_nndr, NNDR_PERCENTILE),
            "small_sample_warning": (
                f"The holdout has only {n_hold} rows (fewer than {SMALL_HOLDOUT}): these privacy figures are weak "
                "evidence either way."
                if n_hold < SMALL_HOLDOUT
                else None
            ),
        }
        return self

    def get_score(self) -> float:
        """The DCR share (0.5 is ideal; higher means synthetic rows hug training rows)."""
        return self.get_details()["dcr_share"]

    def get_details(self) -> dict[str, Any]:
        if self._details is None:
            raise RuntimeError("call generate() first")
        return self._details


def _permutation_quantile(
    distances: np.ndarray, positions: np.ndarray, *, n_train: int, n_pool: int, rng: np.random.Generator
) -> float:
    """The 97.5th percentile of the DCR share when the pool is split at random.

    The formula's limit treats synthetic rows as independent; when neighbouring
    synthetic rows share their nearest real rows (few real rows, or few distinct
    values), their outcomes move together and the share spreads wider than it says.
    """
    shares = []
    for start in range(0, PERMUTATIONS, PERMUTATION_BLOCK):
        block = min(PERMUTATION_BLOCK, PERMUTATIONS - start)
        labels = np.argsort(rng.random((block, n_pool)), axis=1) < n_train
        shares.append(dcr_share(distances, positions, labels))
    return float(np.quantile(np.concatenate(shares), 0.975))


def _nndr(two: np.ndarray) -> np.ndarray:
    """Nearest / second-nearest distance. A copy of a row that the reference holds twice (0/0)
    is as close as can be: 0, not 1."""
    if two.shape[1] < 2:
        return np.ones(len(two))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(two[:, 1] > 0, two[:, 0] / two[:, 1], 0.0)
    return ratio


def _percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def _finite_median(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else None


def repair_mask(
    train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema, *, k: int = 1
) -> tuple[np.ndarray, dict[str, Any]]:
    """Which synthetic rows to keep: not copies of a training row, and not closer to one
    than the holdout's own 5th-percentile distance to the training rows.

    Returns:
        A boolean mask over ``synthetic``'s rows, and the figures behind it.
    """
    encoder = Encoder.fit(schema, train, k=k)
    x_train = encoder.transform(train)
    x_syn = encoder.transform(synthetic)
    floor = float(np.percentile(nearest(encoder.transform(holdout), x_train)[:, 0], REPAIR_PERCENTILE))
    d_syn = nearest(x_syn, x_train)[:, 0]
    copies = _identical(x_syn, x_train)
    keep = ~copies & (d_syn >= floor)
    if floor == 0:  # the holdout itself repeats training rows: only exact copies are dropped
        keep = ~copies
    return keep, {
        "distance_floor": floor,
        "copies": int(copies.sum()),
        "too_close": int((~keep & ~copies).sum()),
        "kept": int(keep.sum()),
    }
