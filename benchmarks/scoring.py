"""Quality and utility of one synthetic table, scored the same way for every engine.

Quality is SDMetrics' ``QualityReport`` (column shapes and column pair trends) of the
synthetic table against the real training rows, with metadata built from synthlake's
schema so that every engine is judged on the same column types. Utility is synthlake's
decision-tree check (:func:`synthlake.models.evaluate`): a tree trained on the synthetic
table and one trained on the real training rows, both tested on the real holdout that no
engine saw (TSTR against TRTR).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from synthlake.schema import TableSchema

log = logging.getLogger("bench.scoring")

SDTYPES = {"numeric": "numerical", "categorical": "categorical", "boolean": "boolean", "datetime": "datetime"}


def sdmetrics_metadata(schema: TableSchema) -> dict[str, Any]:
    """SDMetrics single-table metadata from synthlake's column kinds (learned columns only)."""
    return {"columns": {c.name: {"sdtype": SDTYPES[c.kind]} for c in schema.columns if c.kind in SDTYPES}}


def align(synthetic: pd.DataFrame, real: pd.DataFrame) -> pd.DataFrame:
    """Give the synthetic table the real table's columns and dtypes, whatever the engine returned."""
    out = {}
    for name in real.columns:
        values = synthetic[name] if name in synthetic else pd.Series([None] * len(synthetic))
        dtype = real[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            as_text = values.astype(object).map(lambda v: None if pd.isna(v) else str(v).lower())
            values = as_text.map({"true": True, "false": False, "1": True, "0": False}).astype("boolean")
            if not values.isna().any():
                values = values.astype(dtype)
        elif pd.api.types.is_numeric_dtype(dtype):
            values = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            values = values.astype(object).where(values.notna(), None)
        out[name] = values.reset_index(drop=True)
    return pd.DataFrame(out)


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema) -> dict[str, Any]:
    """SDMetrics QualityReport: the overall score and its two properties."""
    from sdmetrics.reports.single_table import QualityReport

    metadata = sdmetrics_metadata(schema)
    columns = list(metadata["columns"])
    report = QualityReport()
    report.generate(real[columns], synthetic[columns], metadata, verbose=False)
    properties = report.get_properties().set_index("Property")["Score"].to_dict()
    return {
        "score": float(report.get_score()),
        "column_shapes": float(properties.get("Column Shapes", float("nan"))),
        "column_pair_trends": float(properties.get("Column Pair Trends", float("nan"))),
    }


def primary_metric(record: dict[str, Any]) -> str | None:
    """The headline metric of a model record: ROC-AUC for two classes, macro F1 for more, R² for regression."""
    if record.get("skipped") or "real" not in record:
        return None
    if record["task"] == "regression":
        return "r2"
    return "roc_auc" if record["real"].get("roc_auc") is not None else "f1_macro"


def utility(
    schema: TableSchema, label: str, real_train: pd.DataFrame, real_holdout: pd.DataFrame, synthetic: pd.DataFrame
) -> dict[str, Any]:
    """TSTR against TRTR with synthlake's decision tree, on the real holdout."""
    from synthlake.models import evaluate

    record = evaluate(
        schema=schema, label=label, real_train=real_train, real_holdout=real_holdout, synthetic=synthetic, seed=42, k=1
    )
    metric = primary_metric(record)
    out: dict[str, Any] = {"label": label, "task": record.get("task"), "skipped": record.get("skipped")}
    if metric:
        tstr, trtr = record["synthetic"][metric], record["real"][metric]
        out.update(
            {
                "metric": metric,
                "tstr": tstr,
                "trtr": trtr,
                "ratio": (tstr / trtr) if trtr not in (None, 0) and tstr is not None else None,
                "synthetic": record["synthetic"],
                "real": record["real"],
            }
        )
    return out
