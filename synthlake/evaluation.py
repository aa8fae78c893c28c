"""Comparing a synthetic table with the real one: column shapes and correlations.

Shaped like an SDMetrics report: :class:`Comparison` has ``generate``, ``get_score``
and ``get_details``. Scores are similarities in [0, 1] (1 = identical):

- numeric and datetime columns: 1 - the Kolmogorov-Smirnov statistic;
- categorical and boolean columns: 1 - the total variation distance of frequencies;
- correlations: Pearson on numeric, datetime and boolean columns; a pair scores
  1 - |real - synthetic| / 2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from synthlake.protection import merge_rare, rare_labels
from synthlake.schema import TableSchema, datetime_seconds

TOP = 5


def numeric_view(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """The numeric, datetime (as seconds) and boolean (as 0/1) columns as floats."""
    out = {}
    for column in schema.columns:
        values = frame[column.name]
        if column.kind == "numeric":
            out[column.name] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif column.kind == "datetime":
            out[column.name] = datetime_seconds(values)
        elif column.kind == "boolean":
            out[column.name] = values.astype("float64")
    return pd.DataFrame(out, index=frame.index)


def ks_statistic(real: np.ndarray, syn: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov statistic (largest gap between the CDFs)."""
    real, syn = np.sort(real), np.sort(syn)
    if not len(real) or not len(syn):
        return 1.0
    grid = np.concatenate([real, syn])
    cdf_real = np.searchsorted(real, grid, side="right") / len(real)
    cdf_syn = np.searchsorted(syn, grid, side="right") / len(syn)
    return float(np.max(np.abs(cdf_real - cdf_syn)))


def tv_distance(real: pd.Series, syn: pd.Series) -> float:
    """Total variation distance between two frequency distributions (missing counts as a value)."""
    p = real.astype(object).where(real.notna(), "<missing>").astype(str).value_counts(normalize=True)
    q = syn.astype(object).where(syn.notna(), "<missing>").astype(str).value_counts(normalize=True)
    labels = p.index.union(q.index)
    return float(0.5 * np.abs(p.reindex(labels, fill_value=0) - q.reindex(labels, fill_value=0)).sum())


class Comparison:
    """Column-shape and correlation comparison of real and synthetic data."""

    def __init__(self) -> None:
        self._details: dict[str, Any] | None = None

    def generate(self, real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema, *, k: int = 1) -> Comparison:
        """Compute every score. ``real`` and ``synthetic`` have the schema's columns.

        With ``k`` > 1, real categories held by fewer than ``k`` rows are compared as
        ``(other)``, the label the synthesizer gave them.
        """
        if k > 1:
            real = real.copy()
            for column in schema.columns:
                if column.kind == "categorical":
                    real[column.name] = merge_rare(real[column.name], rare_labels(real[column.name], k))
        shapes = []
        real_num, syn_num = numeric_view(real, schema), numeric_view(synthetic, schema)
        for column in schema.columns:
            name = column.name
            if column.kind in ("numeric", "datetime"):
                r, s = real_num[name].dropna().to_numpy(), syn_num[name].dropna().to_numpy()
                statistic = ks_statistic(r, s)
                std = float(np.std(r)) or 1.0
                shapes.append(
                    {
                        "column": name,
                        "kind": column.kind,
                        "metric": "KS complement",
                        "score": 1.0 - statistic,
                        "real_missing_pct": 100.0 * float(real[name].isna().mean()),
                        "syn_missing_pct": 100.0 * float(synthetic[name].isna().mean()),
                        "mean_gap_in_std": float(abs(np.mean(r) - np.mean(s)) / std) if len(r) and len(s) else None,
                    }
                )
            elif column.kind in ("categorical", "boolean"):
                shapes.append(
                    {
                        "column": name,
                        "kind": column.kind,
                        "metric": "TV complement",
                        "score": 1.0 - tv_distance(real[name], synthetic[name]),
                        "real_missing_pct": 100.0 * float(real[name].isna().mean()),
                        "syn_missing_pct": 100.0 * float(synthetic[name].isna().mean()),
                    }
                )
        names = [name for name in real_num.columns if real_num[name].nunique() > 1 and syn_num[name].nunique() > 1]
        corr_real = real_num[names].corr() if len(names) > 1 else pd.DataFrame()
        corr_syn = syn_num[names].corr() if len(names) > 1 else pd.DataFrame()
        pairs = []
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                r, s = corr_real.loc[a, b], corr_syn.loc[a, b]
                if pd.notna(r) and pd.notna(s):
                    pairs.append({"pair": [a, b], "real": float(r), "synthetic": float(s), "gap": float(abs(r - s))})
        pairs.sort(key=lambda item: -item["gap"])
        shape_score = float(np.mean([item["score"] for item in shapes])) if shapes else None
        pair_score = float(np.mean([1 - item["gap"] / 2 for item in pairs])) if pairs else None
        parts = [score for score in (shape_score, pair_score) if score is not None]
        self._details = {
            "real_rows": len(real),
            "synthetic_rows": len(synthetic),
            "column_shapes": shapes,
            "column_shape_score": shape_score,
            "correlation_columns": names,
            "correlation_real": corr_real.round(4).values.tolist() if names else [],
            "correlation_synthetic": corr_syn.round(4).values.tolist() if names else [],
            "correlation_pairs": pairs,
            "correlation_score": pair_score,
            "overall_score": float(np.mean(parts)) if parts else None,
            "largest_differences": sorted(shapes, key=lambda item: item["score"])[:TOP],
            "correlation_gaps": pairs[:TOP],
        }
        return self

    def get_score(self) -> float | None:
        """The mean of the column-shape and correlation scores (1 = identical)."""
        return self._require()["overall_score"]

    def get_details(self) -> dict[str, Any]:
        """Every figure, ready to write as ``comparison.json``."""
        return self._require()

    def _require(self) -> dict[str, Any]:
        if self._details is None:
            raise RuntimeError("call generate() first")
        return self._details
