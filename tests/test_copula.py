"""The Gaussian copula engine: marginals, dependence and privacy of what it stores."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from synthlake.copula import GaussianCopula, _nearest_correlation


@pytest.fixture
def frame() -> pd.DataFrame:
    """2,000 rows: two correlated numbers, a skewed one, and a label tied to the first."""
    rng = np.random.default_rng(3)
    n = 2_000
    x = rng.normal(50, 10, n)
    return pd.DataFrame(
        {
            "x": x,
            "y": 2 * x + rng.normal(0, 5, n),
            "skewed": rng.lognormal(0, 1, n),
            "group": np.where(x + rng.normal(0, 5, n) > 55, "high", np.where(rng.random(n) < 0.2, "rare", "low")),
        }
    )


def test_marginals_are_kept(frame):
    model = GaussianCopula(seed=1).fit(frame, ["group"])

    synthetic = model.sample(4_000)

    assert list(synthetic.columns) == list(frame.columns)
    for column in ("x", "y", "skewed"):
        real_q = frame[column].quantile([0.1, 0.5, 0.9]).to_numpy()
        syn_q = synthetic[column].quantile([0.1, 0.5, 0.9]).to_numpy()
        assert np.allclose(syn_q, real_q, rtol=0.08), column
    shares = synthetic["group"].value_counts(normalize=True)
    for label, share in frame["group"].value_counts(normalize=True).items():
        assert shares[label] == pytest.approx(share, abs=0.03)


def test_dependence_between_columns_is_kept(frame):
    synthetic = GaussianCopula(seed=1).fit(frame, ["group"]).sample(4_000)

    assert synthetic["x"].corr(synthetic["y"]) == pytest.approx(frame["x"].corr(frame["y"]), abs=0.05)
    # a two-label column tied to x follows it as in the real rows (a copula captures
    # monotone ties; labels are ordered by frequency, so more labels can blur them)
    frame = frame.assign(group=np.where(frame["group"] == "high", "high", "low"))
    synthetic = GaussianCopula(seed=1).fit(frame, ["group"]).sample(4_000)
    real_gap = frame.groupby("group")["x"].mean()
    syn_gap = synthetic.groupby("group")["x"].mean()
    assert syn_gap["high"] - syn_gap["low"] > 0.6 * (real_gap["high"] - real_gap["low"])


def test_independent_columns_stay_independent():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=3_000), "b": rng.normal(size=3_000)})

    synthetic = GaussianCopula(seed=2).fit(frame).sample(3_000)

    assert abs(synthetic["a"].corr(synthetic["b"])) < 0.06


def test_same_seed_same_rows_and_survives_pickling(frame):
    model = GaussianCopula(seed=5).fit(frame, ["group"])
    model.set_random_state(9)
    first = model.sample(100)
    copy = pickle.loads(pickle.dumps(model))
    copy.set_random_state(9)

    assert copy.sample(100).equals(first)
    model.set_random_state(10)
    assert not model.sample(100).equals(first)


def test_stored_quantiles_each_stand_for_k_rows():
    # 100 rows, k = 10: at most 10 stored points, so no single row's value is kept
    frame = pd.DataFrame({"v": np.arange(100, dtype=float) * 1.37})

    model = GaussianCopula(k=10).fit(frame)

    probabilities, values = model._continuous["v"]
    assert len(values) == len(probabilities) == 10
    assert values[0] == frame["v"].min() and values[-1] == frame["v"].max()  # the Synthesizer clips these to k


def test_sample_before_fit_is_refused():
    with pytest.raises(RuntimeError, match="fit"):
        GaussianCopula().sample(3)


def test_nearest_correlation_repairs_an_impossible_matrix():
    impossible = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])

    fixed = _nearest_correlation(impossible)

    assert np.allclose(np.diag(fixed), 1.0)
    assert np.linalg.eigvalsh(fixed).min() > 0
    np.linalg.cholesky(fixed)
