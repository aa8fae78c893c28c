"""A Gaussian copula: a fast alternative to CTGAN behind the same synthesis step.

Every column is mapped to a standard normal variable through its own distribution;
the rows' dependence is one correlation matrix of those normal scores. Sampling draws
correlated normal scores and maps each back through its column's distribution.

- Continuous columns: the distribution is kept as quantiles on a grid of at most
  ``n / k`` points (each point stands for at least ``k`` training rows, so the model
  file holds no single row's value), interpolated linearly.
- Discrete columns: categories ordered by frequency, each owning an interval of the
  unit line as wide as its share; a training row's score is drawn uniformly within its
  category's interval (as SDV's ``GaussianCopulaSynthesizer`` does with its
  frequency-encoded categories).

It takes what :class:`synthlake.synthesis.Synthesizer` hands CTGAN (an encoded frame
without gaps, discrete columns named) and answers the same ``fit``, ``sample``,
``set_random_state`` calls, so the column handling around it is shared.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

MAX_GRID = 1_000  # most quantile points kept per continuous column
_EDGE = 1e-6  # keeps uniform scores off 0 and 1, where the normal score is infinite


class GaussianCopula:
    """Marginals per column plus one correlation matrix of normal scores.

    Args:
        k: each stored quantile of a continuous column stands for at least ``k`` rows.
        seed: makes fitting (the draws inside category intervals) and sampling reproducible.
    """

    def __init__(self, *, k: int = 1, seed: int = 0):
        self.k = max(int(k), 1)
        self.seed = seed
        self._columns: list[str] = []
        self._continuous: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # probabilities, values
        self._discrete: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # labels, cumulative shares
        self._cholesky: np.ndarray | None = None
        self._rng = np.random.default_rng(seed)
        self._device = "cpu"
        self.loss_values: pd.DataFrame | None = None

    def set_random_state(self, seed: int) -> None:
        """Draw from ``seed`` from now on."""
        self._rng = np.random.default_rng(seed)

    def fit(self, data: pd.DataFrame, discrete_columns: Sequence[str] = ()) -> GaussianCopula:
        """Learn each column's distribution and the correlation of their normal scores."""
        discrete = set(discrete_columns)
        self._columns = list(data.columns)
        self._continuous, self._discrete = {}, {}
        scores = np.empty((len(data), len(self._columns)))
        for position, name in enumerate(self._columns):
            if name in discrete:
                scores[:, position] = self._fit_discrete(name, data[name].astype(str))
            else:
                scores[:, position] = self._fit_continuous(name, data[name].to_numpy(dtype=np.float64))
        correlation = np.corrcoef(scores, rowvar=False) if len(self._columns) > 1 else np.ones((1, 1))
        self._cholesky = np.linalg.cholesky(_nearest_correlation(np.nan_to_num(np.atleast_2d(correlation))))
        return self

    def _fit_continuous(self, name: str, values: np.ndarray) -> np.ndarray:
        n = len(values)
        points = int(min(MAX_GRID, max(n // self.k, 2)))
        probabilities = np.linspace(0.0, 1.0, points)
        self._continuous[name] = (probabilities, np.quantile(values, probabilities))
        # mid-ranks, so tied values share one score
        ranks = pd.Series(values).rank(method="average").to_numpy()
        return ndtri(np.clip(ranks / (n + 1), _EDGE, 1 - _EDGE))

    def _fit_discrete(self, name: str, labels: pd.Series) -> np.ndarray:
        shares = labels.value_counts(normalize=True)  # most frequent first
        cumulative = np.cumsum(shares.to_numpy())
        cumulative[-1] = 1.0
        self._discrete[name] = (shares.index.to_numpy(dtype=object), cumulative)
        upper = pd.Series(cumulative, index=shares.index)
        high = labels.map(upper).to_numpy(dtype=np.float64)
        low = high - labels.map(shares).to_numpy(dtype=np.float64)
        uniform = low + (high - low) * self._rng.random(len(labels))
        return ndtri(np.clip(uniform, _EDGE, 1 - _EDGE))

    def sample(self, num_rows: int) -> pd.DataFrame:
        """``num_rows`` rows with the training frame's columns."""
        if self._cholesky is None:
            raise RuntimeError("call fit() before sample()")
        normal = self._rng.standard_normal((num_rows, len(self._columns))) @ self._cholesky.T
        uniform = ndtr(normal)
        out: dict[str, np.ndarray] = {}
        for position, name in enumerate(self._columns):
            u = uniform[:, position]
            if name in self._discrete:
                labels, cumulative = self._discrete[name]
                out[name] = labels[np.minimum(np.searchsorted(cumulative, u, side="right"), len(labels) - 1)]
            else:
                probabilities, values = self._continuous[name]
                out[name] = np.interp(u, probabilities, values)
        return pd.DataFrame(out, columns=self._columns)


def _nearest_correlation(matrix: np.ndarray, floor: float = 1e-6) -> np.ndarray:
    """``matrix`` made positive definite (eigenvalues floored), with a unit diagonal."""
    symmetric = (matrix + matrix.T) / 2
    np.fill_diagonal(symmetric, 1.0)
    values, vectors = np.linalg.eigh(symmetric)
    fixed = vectors @ np.diag(np.maximum(values, floor)) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return fixed / np.outer(scale, scale)
