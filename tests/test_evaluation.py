"""Real-vs-synthetic comparison: column shapes and correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlake.evaluation import Comparison, ks_statistic, tv_distance
from synthlake.schema import infer_schema


def test_ks_statistic_known_values():
    assert ks_statistic(np.array([1, 2, 3]), np.array([1, 2, 3])) == 0.0
    assert ks_statistic(np.array([1, 2, 3]), np.array([4, 5, 6])) == 1.0
    assert ks_statistic(np.array([1, 2, 3, 4]), np.array([3, 4, 5, 6])) == pytest.approx(0.5)
    assert ks_statistic(np.array([]), np.array([1.0])) == 1.0


def test_tv_distance_known_values():
    real = pd.Series(["a", "a", "b", "b"])

    assert tv_distance(real, pd.Series(["a", "a", "a", "b"])) == pytest.approx(0.25)
    assert tv_distance(real, real.copy()) == 0.0
    assert tv_distance(real, pd.Series(["c", "c"])) == pytest.approx(1.0)
    assert tv_distance(pd.Series(["a", None]), pd.Series(["a", "a"])) == pytest.approx(0.5)  # missing counts


def test_identical_frames_score_one(mixed_frame):
    schema, real = infer_schema(mixed_frame, "customers")

    details = Comparison().generate(real, real.copy(), schema).get_details()

    assert details["overall_score"] == pytest.approx(1.0)
    assert details["column_shape_score"] == pytest.approx(1.0)
    assert details["correlation_score"] == pytest.approx(1.0)
    assert all(item["score"] == pytest.approx(1.0) for item in details["column_shapes"])
    assert {item["column"] for item in details["column_shapes"]} == {
        "age", "income", "group", "children", "active", "joined"
    }  # fmt: skip
    assert details["real_rows"] == details["synthetic_rows"] == 120


def test_shifted_independent_copy_scores_lower(mixed_frame):
    schema, real = infer_schema(mixed_frame, "customers")
    rng = np.random.default_rng(1)
    synthetic = real.copy()
    synthetic["income"] = synthetic["income"] + 20_000
    synthetic["age"] = rng.permutation(synthetic["age"].to_numpy()) + 10
    synthetic["group"] = "north"

    comparison = Comparison().generate(real, synthetic, schema)
    shapes = {item["column"]: item for item in comparison.get_details()["column_shapes"]}

    assert comparison.get_score() < 0.9
    assert shapes["income"]["score"] < 0.5
    assert shapes["income"]["mean_gap_in_std"] > 1
    assert shapes["group"]["score"] == pytest.approx(1 - tv_distance(real["group"], synthetic["group"]))
    assert shapes["children"]["score"] == pytest.approx(1.0)
    assert comparison.get_details()["largest_differences"][0]["column"] in {"income", "group"}


def test_destroyed_correlation_is_reported():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    real = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(0, 0.1, 300), "z": rng.normal(size=300)})
    schema, real = infer_schema(real, "t")
    synthetic = real.copy()
    synthetic["y"] = rng.permutation(synthetic["y"].to_numpy())

    details = Comparison().generate(real, synthetic, schema).get_details()

    top = details["correlation_gaps"][0]
    assert sorted(top["pair"]) == ["x", "y"]
    assert top["real"] > 0.95 and abs(top["synthetic"]) < 0.2 and top["gap"] > 0.75
    assert details["column_shape_score"] == pytest.approx(1.0)  # marginals unchanged
    assert details["correlation_score"] < 0.9


def test_get_score_before_generate_is_refused():
    with pytest.raises(RuntimeError, match="generate"):
        Comparison().get_score()
