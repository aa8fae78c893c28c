"""Per-column statistics by kind: the ``summary_*_data.csv`` products.

One row per column. Numeric and datetime columns get count, missing, mean, std, min,
quantiles (1, 5, 25, 50, 75, 95, 99) and max; categorical and boolean columns get
distinct counts and their most frequent values. Identifier columns get counts only:
their values are personal and are never summarised. With ``k`` > 1, labels held by
fewer than ``k`` rows are counted, not named; min and max are the ``k``-th
smallest and largest values, and mean and std those of values clipped to them (see
:mod:`synthlake.protection`); a boolean's share of true is withheld when one side has
fewer than ``k`` rows.
"""

from __future__ import annotations

import pandas as pd

from synthlake.lakehouse import Lakehouse
from synthlake.protection import k_bounds
from synthlake.schema import ColumnSchema, TableSchema, datetime_seconds

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
QUANTILE_COLUMNS = [f"p{int(q * 100)}" for q in QUANTILES]
SUMMARY_COLUMNS = [
    "column", "kind", "count", "missing", "missing_pct", "distinct",
    "mean", "std", "min", *QUANTILE_COLUMNS, "max", "top_values",
]  # fmt: skip
TOP_VALUES = 5


def _protected_stats(numbers: pd.Series, k: int) -> dict | None:
    """Mean, std, min, quantiles and max, with the extremes clipped to the k-th value.

    Mean and std are those of the clipped values too (winsorised), so that no figure
    moves with one individual's exact extreme.
    """
    numbers = numbers.dropna().astype("float64")
    if numbers.empty:
        return None
    low, high = k_bounds(numbers, k)
    clipped = numbers.clip(low, high)
    stats = {"mean": clipped.mean(), "std": clipped.std(ddof=1) if len(numbers) > 1 else 0.0, "min": low, "max": high}
    quantiles = numbers.quantile(list(QUANTILES)).clip(low, high)
    stats.update({name: quantiles.iloc[i] for i, name in enumerate(QUANTILE_COLUMNS)})
    return stats


def _numeric_stats(values: pd.Series, k: int) -> dict:
    return _protected_stats(pd.to_numeric(values, errors="coerce"), k) or {}


def _datetime_stats(values: pd.Series, k: int) -> dict:
    stats = _protected_stats(datetime_seconds(values), k)
    if stats is None:
        return {}
    spread = stats.pop("std")
    out = {name: pd.Timestamp(value, unit="s").isoformat() for name, value in stats.items()}
    out["std"] = f"{spread / 86_400:.2f} days"
    return out


def _top_values(values: pd.Series, k: int) -> str:
    counts = values.dropna().astype(str).value_counts()
    shown = counts[counts >= k].head(TOP_VALUES)
    parts = [f"{label}: {count}" for label, count in shown.items()]
    rare = int((counts < k).sum())
    if rare:
        parts.append(f"{rare} value(s) held by < {k} rows each: suppressed")
    return "; ".join(parts)


def summarize(frame: pd.DataFrame, schema: TableSchema, *, k: int = 1) -> pd.DataFrame:
    """Statistics per column of ``frame``, typed by ``schema``.

    Args:
        frame: a real or synthetic table with the schema's columns.
        schema: the kinds inferred at import.
        k: privacy threshold: labels held by fewer than ``k`` rows are not named, and
            min/max (and quantiles beyond them) are the ``k``-th most extreme values.

    Returns:
        One row per column, with the columns of ``SUMMARY_COLUMNS``.
    """
    rows = [_column_row(column, frame[column.name], k) for column in schema.columns]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def summarize_lakehouse(lakehouse: Lakehouse, table: str, schema: TableSchema, *, k: int = 1) -> pd.DataFrame:
    """:func:`summarize` of a Delta table, read one column at a time.

    The statistics are exactly those of ``summarize(lakehouse.read(table), ...)``, but
    memory holds one column at a time instead of the whole table, so a table of
    millions of rows is profiled in a fraction of the memory it takes in pandas.
    """
    rows = [_column_row(column, lakehouse.read(table, [column.name])[column.name], k) for column in schema.columns]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _column_row(column: ColumnSchema, values: pd.Series, k: int) -> dict:
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
        row.update(_numeric_stats(values, k))
    elif column.kind == "datetime":
        row.update(_datetime_stats(values, k))
    elif column.kind in ("categorical", "boolean", "constant"):
        row["top_values"] = _top_values(values, k)
        if column.kind == "boolean":
            present = values.dropna().astype(float)
            minority = min(present.sum(), len(present) - present.sum())
            # the share of true values would give away a minority of fewer than k rows
            row["mean"] = present.mean() if len(present) and (minority == 0 or minority >= k) else None
    return row
