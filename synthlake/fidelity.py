"""Fidelity: SDMetrics' quality report and a real-vs-synthetic detection score.

- The SDMetrics QualityReport (MIT-licensed, the field's common yardstick) scores
  column shapes (KS complement / TV complement) and column pair trends (correlation
  and contingency similarity, for the pairs whose real association is strong enough
  to judge); its overall score is their mean. We keep the worst
  five columns and pairs so the report can say where the synthetic table falls short.
- Detection: a gradient-boosted classifier tries to tell real rows from synthetic ones
  (5-fold cross-validated ROC-AUC). 0.5 means it cannot; 1.0 that it always can.

Both read the real table with rare categories merged into ``(other)``, as the
synthesizer saw them, and at most ``max_rows`` rows of each side.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from synthlake.protection import merge_rare, rare_labels
from synthlake.schema import TableSchema, datetime_seconds

log = logging.getLogger(__name__)

MAX_ROWS = 20_000
WORST = 5
SDTYPES = {"numeric": "numerical", "categorical": "categorical", "boolean": "boolean", "datetime": "datetime"}


def metadata(schema: TableSchema) -> dict[str, Any]:
    """SDMetrics single-table metadata for the learned columns."""
    return {"columns": {c.name: {"sdtype": SDTYPES[c.kind]} for c in schema.columns if c.kind in SDTYPES}}


def _prepare(frame: pd.DataFrame, schema: TableSchema, *, k: int) -> pd.DataFrame:
    out = {}
    for column in schema.columns:
        if column.kind not in SDTYPES:
            continue
        values = frame[column.name]
        if column.kind == "categorical":
            if k > 1:
                values = merge_rare(values, rare_labels(values, k))
            values = values.astype(object).map(lambda v: None if pd.isna(v) else str(v))
        elif column.kind == "numeric":
            values = pd.to_numeric(values, errors="coerce").astype("float64")
        elif column.kind == "datetime":
            values = pd.to_datetime(values, errors="coerce")
        elif column.kind == "boolean":
            values = values.astype("boolean").astype(object).where(values.notna(), None)
        out[column.name] = values.reset_index(drop=True)
    return pd.DataFrame(out)


def _sample(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    if len(frame) <= max_rows:
        return frame
    return frame.sample(n=max_rows, random_state=seed).reset_index(drop=True)


def detection_auc(real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema, *, seed: int = 0) -> float | None:
    """Cross-validated ROC-AUC of a classifier telling ``real`` from ``synthetic`` rows.

    Both frames are the prepared (rare-merged) learned columns. Returns ``None`` when
    either side has fewer than 10 rows.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    n = min(len(real), len(synthetic))
    if n < 10 or not len(real.columns):
        return None
    both = pd.concat([_sample(real, n, seed), _sample(synthetic, n, seed + 1)], ignore_index=True)
    target = np.r_[np.zeros(n), np.ones(n)]
    features, categorical = {}, []
    for column in schema.columns:
        name = column.name
        if name not in both:
            continue
        values = both[name]
        if column.kind == "categorical":
            codes = pd.Categorical(values.astype(object).where(values.notna(), "<missing>").astype(str)).codes
            features[name] = codes.astype("float64")
            categorical.append(len(features) - 1)
        elif column.kind == "datetime":
            features[name] = datetime_seconds(values).to_numpy(dtype="float64")
        else:
            features[name] = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    matrix = np.column_stack(list(features.values()))
    # categories above 255 codes cannot be native categoricals; treat those as ordered numbers
    categorical = [i for i in categorical if np.nanmax(matrix[:, i]) < 255]
    model = HistGradientBoostingClassifier(
        max_iter=100, categorical_features=categorical or None, random_state=seed, early_stopping=False
    )
    folds = StratifiedKFold(n_splits=5 if n >= 50 else 2, shuffle=True, random_state=seed)
    scores = cross_val_score(model, matrix, target, cv=folds, scoring="roc_auc")
    return float(np.mean(scores))


class FidelityReport:
    """SDMetrics quality (shapes, pair trends, overall, worst five) plus detection ROC-AUC."""

    def __init__(self, *, max_rows: int = MAX_ROWS) -> None:
        self.max_rows = max_rows
        self._details: dict[str, Any] | None = None

    def generate(
        self, real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema, *, k: int = 1, seed: int = 0
    ) -> FidelityReport:
        """Score ``synthetic`` against ``real`` (both with the schema's columns)."""
        from sdmetrics.reports import QualityReport

        real_p = _sample(_prepare(real, schema, k=k), self.max_rows, seed)
        syn_p = _sample(_prepare(synthetic, schema, k=1), self.max_rows, seed + 1)
        details: dict[str, Any] = {
            "real_rows_compared": len(real_p),
            "synthetic_rows_compared": len(syn_p),
            "quality_score": None,
            "column_shapes_score": None,
            "column_pair_trends_score": None,
            "worst_columns": [],
            "worst_pairs": [],
            "detection_auc": None,
        }
        if len(real_p.columns) and len(real_p) and len(syn_p):
            report = QualityReport()
            report.generate({"t": real_p}, {"t": syn_p}, {"tables": {"t": metadata(schema)}}, verbose=False)
            properties = report.get_properties().set_index("Property")["Score"]
            details["quality_score"] = _finite(report.get_score())
            details["column_shapes_score"] = _finite(properties.get("Column Shapes"))
            details["column_pair_trends_score"] = _finite(properties.get("Column Pair Trends"))
            shapes = report.get_details("Column Shapes")
            details["worst_columns"] = [
                {"column": row["Column"], "metric": row["Metric"], "score": _finite(row["Score"])}
                for _, row in shapes.dropna(subset=["Score"]).nsmallest(WORST, "Score").iterrows()
            ]
            pairs = report.get_details("Column Pair Trends")
            if len(pairs):
                details["worst_pairs"] = [
                    {
                        "pair": [row["Column 1"], row["Column 2"]],
                        "metric": row["Metric"],
                        "score": _finite(row["Score"]),
                    }
                    for _, row in pairs.dropna(subset=["Score"]).nsmallest(WORST, "Score").iterrows()
                ]
            details["detection_auc"] = detection_auc(real_p, syn_p, schema, seed=seed)
        self._details = details
        return self

    def get_score(self) -> float | None:
        """SDMetrics' overall quality score (1 = identical)."""
        return self.get_details()["quality_score"]

    def get_details(self) -> dict[str, Any]:
        if self._details is None:
            raise RuntimeError("call generate() first")
        return self._details


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None
