"""Protecting individuals in aggregates and synthetic data: rare values and extremes.

- A category held by fewer than ``k`` rows never appears in a product: it is merged
  into ``OTHER`` before training and counted, not named, in statistics.
- Numeric and date extremes are clipped to the ``k``-th most extreme real value, so
  that no individual's exact minimum or maximum is published.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthlake.schema import TableSchema, datetime_seconds

OTHER = "(other)"


def effective_k(k: int, n_values: int) -> int:
    """``k``, lowered for tiny columns so that the two bounds never cross."""
    return max(1, min(k, (n_values + 1) // 2))


def k_bounds(values: np.ndarray | pd.Series, k: int) -> tuple[float, float] | None:
    """The ``k``-th smallest and ``k``-th largest of the present values (``None`` if none)."""
    present = np.sort(np.asarray(pd.Series(values).dropna(), dtype="float64"))
    if not len(present):
        return None
    kk = effective_k(k, len(present))
    return float(present[kk - 1]), float(present[-kk])


def rare_labels(values: pd.Series, k: int) -> set[str]:
    """The labels held by fewer than ``k`` rows (missing values are not a label)."""
    counts = values.dropna().astype(str).value_counts()
    return set(counts.index[counts < k])


def merge_rare(values: pd.Series, rare: set[str]) -> pd.Series:
    """``values`` with every label in ``rare`` replaced by ``OTHER`` (missing stays missing)."""
    if not rare:
        return values
    labels = values.astype(object)
    mask = labels.notna() & labels.astype(str).isin(rare)
    return labels.where(~mask, OTHER)


def protect_frame(frame: pd.DataFrame, schema: TableSchema, k: int) -> pd.DataFrame:
    """``frame`` as it may be drawn or described: rare categories merged, extremes clipped.

    Categorical labels held by fewer than ``k`` rows become ``OTHER``; numbers and dates
    are clipped to the ``k``-th smallest and largest present values. Other columns are
    returned unchanged.
    """
    if k <= 1:
        return frame
    out = frame.copy()
    for column in schema.columns:
        name = column.name
        if name not in out:
            continue
        if column.kind == "categorical":
            out[name] = merge_rare(out[name], rare_labels(out[name], k))
        elif column.kind == "numeric":
            numbers = pd.to_numeric(out[name], errors="coerce")
            bounds = k_bounds(numbers, k)
            if bounds:
                out[name] = numbers.clip(*bounds)
        elif column.kind == "datetime":
            seconds = datetime_seconds(out[name])
            bounds = k_bounds(seconds, k)
            if bounds:
                stamps = pd.to_datetime(seconds.clip(*bounds).round(), unit="s")
                out[name] = stamps
    return out
