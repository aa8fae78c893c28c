"""Protecting individuals in aggregates and synthetic data: rare values and extremes.

- A category held by fewer than ``k`` rows never appears in a product: it is merged
  into ``OTHER`` before training and counted, not named, in statistics.
- Numeric and date extremes are clipped to the ``k``-th most extreme real value, so
  that no individual's exact minimum or maximum is published.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
