"""Privacy metrics on hand-made frames whose answers are known: copies, shifted copies, independent samples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from synthlake import privacy
from synthlake.privacy import Encoder, PrivacyReport, dcr_threshold, nearest, repair_mask
from synthlake.schema import infer_schema


def _people(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "income": rng.normal(50_000, 15_000, n).round(2),
            "city": rng.choice(list("ABCDEFGH"), n),
            "member": rng.random(n) < 0.3,
        }
    )


@pytest.fixture(scope="module")
def split():
    real = _people(2_000, seed=0)
    schema, _ = infer_schema(real, "people")
    return real.iloc[:1_600].reset_index(drop=True), real.iloc[1_600:].reset_index(drop=True), schema


def _check(split, synthetic: pd.DataFrame, **kwargs) -> dict:
    train, holdout, schema = split
    return PrivacyReport(**kwargs).generate(train, holdout, synthetic, schema, k=10, seed=1).get_details()


def test_threshold_follows_the_formula():
    assert dcr_threshold(100) == pytest.approx(0.5 + 1.96 * math.sqrt(0.25 / 100))
    assert dcr_threshold(10_000) < dcr_threshold(100)


def test_independent_sample_passes_near_one_half(split):
    details = _check(split, _people(1_000, seed=5))

    assert details["passed"], details["reasons"]
    assert abs(details["dcr_share"] - 0.5) < 0.05
    assert details["identical_train_share"] < 0.01
    assert details["nndr_p10_synthetic"] == pytest.approx(details["nndr_p10_holdout"], abs=0.1)
    assert details["small_sample_warning"] is None


def test_copies_of_training_rows_fail(split):
    train, _, _ = split
    details = _check(split, train.sample(1_000, random_state=2))

    assert not details["passed"]
    assert details["identical_train_share"] == 1.0
    assert details["identical_holdout_share"] == 0.0
    # a copy matches the same-size training sample only when its row was drawn: 400 of 1,600
    assert details["identical_train_sample_share"] == pytest.approx(0.25, abs=0.05)
    assert details["dcr_share"] > details["dcr_threshold"]
    assert details["nndr_p10_synthetic"] == 0.0
    assert len(details["reasons"]) == 2


def test_slightly_shifted_copies_fail_on_distance(split):
    train, _, _ = split
    shifted = train.sample(1_000, random_state=3).assign(income=lambda d: d.income + 1.0)

    details = _check(split, shifted)

    assert details["identical_train_share"] < 0.05  # not copies...
    assert not details["passed"]  # ...but far closer to training rows than to unseen ones
    assert details["dcr_share"] > 0.6
    assert any("closer to a training row" in reason for reason in details["reasons"])


def test_ties_count_half():
    # one categorical column with two labels: every synthetic row is at distance 0 of both sides
    real = pd.DataFrame({"g": ["a", "b"] * 200})
    schema, _ = infer_schema(real, "t")
    train, holdout = real.iloc[:300], real.iloc[300:]

    details = PrivacyReport().generate(train, holdout, real.iloc[:50], schema).get_details()

    assert details["dcr_share"] == 0.5
    assert details["passed"]


def test_limit_is_the_larger_of_the_formula_and_the_permutation_test(split):
    details = _check(split, _people(1_000, seed=6))

    assert details["dcr_threshold_formula"] == pytest.approx(dcr_threshold(1_000))
    assert details["dcr_threshold"] == max(details["dcr_threshold_formula"], details["dcr_threshold_permutation"])
    assert 0.5 < details["dcr_threshold_permutation"] < 0.6


def test_few_real_rows_widen_the_limit():
    # 1,000 synthetic rows against 24 real reference rows: their outcomes move together
    real = _people(120, seed=12)
    schema, _ = infer_schema(real, "t")

    details = PrivacyReport().generate(real.iloc[:96], real.iloc[96:], _people(1_000, 13), schema).get_details()

    assert details["dcr_threshold_permutation"] > details["dcr_threshold_formula"] + 0.05
    assert details["passed"]


def test_shares_under_relabelling_match_the_direct_computation():
    rng = np.random.default_rng(0)
    queries, pool = rng.normal(size=(40, 3)), rng.normal(size=(30, 3))
    labels = rng.random((5, 30)) < 0.5
    distances, positions = privacy.neighbours(queries, pool, n=30)

    shares = privacy.dcr_share(distances, positions, labels)

    for share, label in zip(shares, labels, strict=True):
        d_train, d_hold = nearest(queries, pool[label])[:, 0], nearest(queries, pool[~label])[:, 0]
        assert share == pytest.approx(np.mean(d_train < d_hold) + 0.5 * np.mean(d_train == d_hold))


def test_compared_rows_are_capped(split):
    details = _check(split, _people(3_000, seed=7), max_compared=500)

    assert details["n_compared"] == 500


def test_small_holdout_is_flagged():
    real = _people(100, seed=8)
    schema, _ = infer_schema(real, "t")

    details = PrivacyReport().generate(real.iloc[:80], real.iloc[80:], _people(50, 9), schema).get_details()

    assert "only 20 rows" in details["small_sample_warning"]


def test_empty_synthetic_table_does_not_pass(split):
    details = _check(split, _people(0, seed=1))

    assert not details["passed"]
    assert "no synthetic rows" in details["reasons"][0]


def test_chunked_distances_equal_brute_force(monkeypatch):
    rng = np.random.default_rng(0)
    queries, reference = rng.normal(size=(57, 4)), rng.normal(size=(83, 4))
    monkeypatch.setattr(privacy, "CHUNK_BYTES", 8 * 83 * 5)  # five query rows per chunk

    got = nearest(queries, reference, n=2)

    brute = np.sort(np.linalg.norm(queries[:, None, :] - reference[None, :, :], axis=2), axis=1)[:, :2]
    np.testing.assert_allclose(got, brute, atol=1e-9)


def test_encoding_counts_a_different_category_as_one():
    frame = pd.DataFrame({"g": ["a", "b", "a", "b"] * 10, "x": [1.0, 2.0] * 20})
    schema, _ = infer_schema(frame, "t")
    encoder = Encoder.fit(schema, frame)

    vectors = encoder.transform(pd.DataFrame({"g": ["a", "b"], "x": [1.0, 1.0]}))

    assert np.linalg.norm(vectors[0] - vectors[1]) == pytest.approx(1.0)


def test_rare_categories_and_extremes_compare_as_the_synthesizer_saw_them():
    frame = pd.DataFrame({"g": ["a"] * 30 + ["b"] * 30 + ["rare"], "x": list(range(60)) + [10_000]})
    schema, _ = infer_schema(frame, "t")
    encoder = Encoder.fit(schema, frame, k=10)

    vectors = encoder.transform(pd.DataFrame({"g": ["rare", "(other)"], "x": [10_000, 51]}))

    # the rare label is '(other)' and 10,000 is clipped to the 10th largest value (51)
    np.testing.assert_allclose(vectors[0], vectors[1])


def test_repair_drops_copies_and_rows_hugging_a_training_row(split):
    train, holdout, schema = split
    copies = train.sample(100, random_state=4)
    synthetic = pd.concat([copies, _people(300, seed=11)], ignore_index=True)

    keep, figures = repair_mask(train, holdout, synthetic, schema, k=10)

    assert not keep[:100].any()
    assert keep[100:].mean() > 0.8
    assert figures["copies"] >= 100 and figures["distance_floor"] > 0
    assert figures["kept"] == keep.sum()


def test_gaps_only_in_the_holdout_are_compared_not_a_crash(split):
    train, holdout, schema = split
    holdout = holdout.astype({"age": "float64"})
    holdout.loc[3, "age"] = np.nan  # the training rows have no gap in this column

    details = PrivacyReport().generate(train, holdout, _people(500, seed=6), schema, k=10, seed=1).get_details()
    keep, _ = repair_mask(train, holdout, _people(50, seed=7), schema, k=10)

    assert details["passed"], details["reasons"]
    assert len(keep) == 50


def test_many_tied_neighbours_count_half_not_as_one_side():
    # 400 identical real rows, half training and half holdout: every synthetic row ties
    real = pd.DataFrame({"city": ["A"] * 400, "member": [True] * 400, "age": [40] * 400})
    schema, _ = infer_schema(pd.concat([real, pd.DataFrame({"city": ["B"], "member": [False], "age": [41]})]), "t")
    train, holdout = real.iloc[:200], real.iloc[200:]
    synthetic = real.iloc[:100]

    details = PrivacyReport().generate(train, holdout, synthetic, schema, k=1, seed=1).get_details()

    assert details["dcr_share"] == 0.5


def test_nndr_of_a_copy_of_a_duplicated_row_is_zero():
    assert privacy._nndr(np.array([[0.0, 0.0], [1.0, 2.0]])).tolist() == [0.0, 0.5]
