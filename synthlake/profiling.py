"""Per-column statistics by kind: the ``summary_*_data.csv`` products.

One row per column. Numeric and datetime columns get count, missing, mean, std, min,
quantiles (1, 5, 25, 50, 75, 95, 99) and max; categorical and boolean columns get
distinct counts and their most frequent values. Identifier columns get counts only:
their values are personal and are never summarised.
"""

from __future__ import annotations

import pandas as pd

from synthlake.schema import TableSchema, datetime_seconds

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
QUANTILE_COLUMNS = [f"p{int(q * 100)}" for q in QUANTILES]
SUMMARY_COLUMNS = [
    "column", "kind", "count", "missing", "missing_pct", "distinct",
    "mean", "std", "min", *QUANTILE_COLUMNS, "max", "top_values",
]  # fmt: skip
TOP_VALUES = 5


def _numeric_stats(values: pd.Series) -> dict:
    numbers = pd.to_numeric(values, errors="coerce").dropna().astype("float64")
    if numbers.empty:
        return {}
    stats = {"mean": numbers.mean(), "std": numbers.std(ddof=1) if len(numbers) > 1 else 0.0}
    stats["min"], stats["max"] = numbers.min(), numbers.max()
    quantiles = numbers.quantile(list(QUANTILES))
    stats.update({name: quantiles.iloc[i] for i, name in enumerate(QUANTILE_COLUMNS)})
    return stats


def _datetime_stats(values: pd.Series) -> dict:
    seconds = datetime_seconds(values).dropna()
    if seconds.empty:
        return {}

    def stamp(value: float) -> str:
        return pd.Timestamp(value, unit="s").isoformat()

    stats = {"mean": stamp(seconds.mean()), "std": f"{seconds.std() / 86_400:.2f} days"}
    stats["min"], stats["max"] = stamp(seconds.min()), stamp(seconds.max())
    quantiles = seconds.quantile(list(QUANTILES))
    stats.update({name: stamp(quantiles.iloc[i]) for i, name in enumerate(QUANTILE_COLUMNS)})
    return stats


def _top_values(values: pd.Series) -> str:
    counts = values.dropna().astype(str).value_counts().head(TOP_VALUES)
    return "; ".join(f"{label}: {count}" for label, count in counts.items())


def summarize(frame: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Statistics per column of ``frame``, typed by ``schema``.

    Args:
        frame: a real or synthetic table with the schema's columns.
        schema: the kinds inferred at import.

    Returns:
        One row per column, with the columns of ``SUMMARY_COLUMNS``.
    """
    rows = []
    for column in schema.columns:
        values = frame[column.name]
        missing = int(values.isna().sum())
        row = {
            "column": column.name,
            "kind": column.kind,
            "count": int(len(values) - missing),
            "missing": missing,
            "missing_pct": round(100.0 * missing / len(values), 3) if len(values) else 0.0,
            "distinct": int(values.dropna().nunique()) if column.kind != "empty" else 0,
        }
        if column.kind == "numeric":
            row.update(_numeric_stats(values))
        elif column.kind == "datetime":
            row.update(_datetime_stats(values))
        elif column.kind in ("categorical", "boolean", "constant"):
            row["top_values"] = _top_values(values)
            if column.kind == "boolean":
                row["mean"] = values.dropna().astype(float).mean() if values.notna().any() else None
        rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
