"""Rare values and extremes never reach a product."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthlake.evaluation import Comparison
from synthlake.models import evaluate
from synthlake.profiling import summarize
from synthlake.protection import OTHER, k_bounds, merge_rare, rare_labels
from synthlake.schema import infer_column, infer_schema
from synthlake.synthesis import Synthesizer


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    values = rng.normal(100, 10, n)
    values[0], values[1] = 10_000.123, -5_000.456  # one person each at the extremes
    city = rng.choice(["north", "south", "east"], n).astype(object)
    city[2] = "Tiny-Hamlet-7"  # held by one person
    return pd.DataFrame({"value": values, "city": city, "y": rng.integers(0, 2, n)})


def test_k_bounds_are_the_kth_most_extreme_values():
    assert k_bounds(pd.Series([5, 1, 9, 3, 7, np.nan]), 2) == (3.0, 7.0)
    assert k_bounds(pd.Series([1, 2, 3]), 10) == (2.0, 2.0)  # tiny column: bounds meet in the middle
    assert k_bounds(pd.Series([np.nan]), 3) is None


def test_rare_labels_are_merged_and_missing_stays_missing():
    values = pd.Series(["a"] * 5 + ["b"] * 2 + [None])

    merged = merge_rare(values, rare_labels(values, 3))

    assert merged.tolist()[:7] == ["a"] * 5 + [OTHER] * 2 and merged.iloc[7] is None


def test_summary_names_no_rare_label_and_no_exact_extreme():
    frame = _frame()
    schema, typed = infer_schema(frame, "t")

    summary = summarize(typed, schema, k=10).set_index("column")

    text = summary.to_csv()
    assert "Tiny-Hamlet-7" not in text and "1 value(s) held by < 10 rows each: suppressed" in text
    assert "10000.123" not in text and "-5000.456" not in text
    ordered = np.sort(frame["value"])
    assert summary.loc["value", "min"] == ordered[9] and summary.loc["value", "max"] == ordered[-10]
    assert summary.loc["value", "p1"] >= ordered[9]


def test_synthesizer_never_emits_a_rare_label_or_an_exact_extreme():
    frame = _frame()
    schema, typed = infer_schema(frame, "t")

    synthetic = Synthesizer(schema, epochs=1, batch_size=50, seed=0, k=10).fit(typed).sample(300)

    assert "Tiny-Hamlet-7" not in set(synthetic["city"].dropna())
    ordered = np.sort(frame["value"])
    assert synthetic["value"].between(ordered[9], ordered[-10]).all()


def test_comparison_counts_rare_real_labels_as_other():
    frame = _frame()
    schema, typed = infer_schema(frame, "t")
    synthetic = typed.assign(city=merge_rare(typed["city"], rare_labels(typed["city"], 10)))

    plain = Comparison().generate(typed, synthetic, schema).get_details()
    protected = Comparison().generate(typed, synthetic, schema, k=10).get_details()

    score = {item["column"]: item["score"] for item in protected["column_shapes"]}
    assert score["city"] == 1.0
    assert {item["column"]: item["score"] for item in plain["column_shapes"]}["city"] < 1.0


def test_feature_importances_never_name_a_rare_label():
    frame = _frame()
    schema, typed = infer_schema(frame, "t")

    record = evaluate(schema=schema, label="y", real_train=typed[:150], real_holdout=typed[150:], synthetic=typed, k=10)

    assert "Tiny-Hamlet-7" not in str(record)


def test_personal_formats_are_detected_by_value():
    card = pd.Series(["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009"] * 10)
    iban = pd.Series(["NL91ABNA0417164300", "DE89370400440532013000"] * 10)
    ssn = pd.Series([f"{100 + i:03d}-45-{6789 + i:04d}" for i in range(20)])

    assert infer_column("c", card)[0].format == "card"
    assert infer_column("i", iban)[0].format == "iban"
    assert infer_column("s", ssn)[0].format == "ssn"
    assert infer_column("c", pd.Series([4111111111111111, 5500000000000004] * 10))[0].format == "card"
