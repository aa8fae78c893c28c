"""The real holdout: rows kept away from CTGAN so that models and checks can be
tested on data the synthesizer never saw."""

from __future__ import annotations

import numpy as np

MIN_HOLDOUT = 5


def split_indices(n_rows: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split row positions into a training part and a holdout, reproducibly.

    Args:
        n_rows: rows in the real table.
        fraction: share of rows for the holdout (at least ``MIN_HOLDOUT`` rows).
        seed: the run seed.

    Returns:
        Sorted training positions and sorted holdout positions.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_rows)
    n_holdout = min(max(int(round(n_rows * fraction)), MIN_HOLDOUT), n_rows // 2)
    return np.sort(order[n_holdout:]), np.sort(order[:n_holdout])
