"""Fidelity: SDMetrics' quality report and the detection score on frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlake.fidelity import FidelityReport, detection_auc, metadata
from synthlake.schema import infer_schema


def _frame(n: int, seed: int, *, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    return pd.DataFrame(
        {
            "x": (x + shift).round(3),
            "y": (2 * x + rng.normal(0, 0.3, n)).round(3),
            "group": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
            "flag": rng.random(n) < 0.4,
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        }
    )


@pytest.fixture(scope="module")
def schema():
    schema, _ = infer_schema(_frame(500, 0), "t")
    return schema


def test_metadata_maps_kinds_to_sdtypes(schema):
    assert metadata(schema) == {
        "columns": {
            "x": {"sdtype": "numerical"},
            "y": {"sdtype": "numerical"},
            "group": {"sdtype": "categorical"},
            "flag": {"sdtype": "boolean"},
            "day": {"sdtype": "datetime"},
        }
    }


def test_a_fresh_sample_of_the_same_distribution_scores_high(schema):
    details = FidelityReport().generate(_frame(1_000, 1), _frame(1_000, 2), schema).get_details()

    assert details["quality_score"] > 0.9
    assert details["column_pair_trends_score"] > 0.9  # x and y are strongly correlated
    assert details["detection_auc"] == pytest.approx(0.5, abs=0.08)
    assert len(details["worst_columns"]) == 5


def test_a_shifted_column_is_worst_and_easy_to_detect(schema):
    real = _frame(1_000, 1)
    details = FidelityReport().generate(real, _frame(1_000, 2, shift=2.0), schema).get_details()
    same = FidelityReport().generate(real, _frame(1_000, 2), schema).get_details()

    assert details["quality_score"] < same["quality_score"] - 0.05
    assert details["worst_columns"][0]["column"] == "x"
    assert details["detection_auc"] > 0.9


def test_rare_real_categories_are_compared_as_other(schema):
    real = _frame(1_000, 1)
    real.loc[:2, "group"] = "one-off"  # held by 3 rows, fewer than k
    synthetic = _frame(1_000, 2)
    synthetic.loc[:2, "group"] = "(other)"

    merged = FidelityReport().generate(real, synthetic, schema, k=10).get_details()
    raw = FidelityReport().generate(real, synthetic, schema, k=1).get_details()

    group = {item["column"]: item["score"] for item in merged["worst_columns"]}["group"]
    group_raw = {item["column"]: item["score"] for item in raw["worst_columns"]}["group"]
    assert group > group_raw


def test_rows_are_capped(schema):
    details = FidelityReport(max_rows=300).generate(_frame(1_000, 1), _frame(800, 2), schema).get_details()

    assert details["real_rows_compared"] == 300 and details["synthetic_rows_compared"] == 300


def test_detection_needs_rows(schema):
    assert detection_auc(_frame(5, 1), _frame(5, 2), schema) is None
