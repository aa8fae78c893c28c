"""The real holdout: rows kept away from CTGAN so that models and checks can be
tested on data the synthesizer never saw."""

from __future__ import annotations

import numpy as np

MIN_HOLDOUT = 5
PRIVACY_HOLDOUT = 200  # the privacy checks need a few hundred unseen rows to say much


def split_indices(n_rows: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split row positions into a training part and a holdout, reproducibly.

    Args:
        n_rows: rows in the real table.
        fraction: share of rows for the holdout. It is raised to ``PRIVACY_HOLDOUT`` rows
            where that costs at most a fifth of the table, and is never under
            ``MIN_HOLDOUT`` rows nor over half the table.
        seed: the run seed.

    Returns:
        Sorted training positions and sorted holdout positions.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_rows)
    wanted = max(int(round(n_rows * fraction)), min(PRIVACY_HOLDOUT, n_rows // 5), MIN_HOLDOUT)
    n_holdout = min(wanted, n_rows // 2)
    return np.sort(order[n_holdout:]), np.sort(order[:n_holdout])
