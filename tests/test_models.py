"""The decision-tree check: train on synthetic, test on the real holdout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlake.errors import DataError
from synthlake.holdout import split_indices
from synthlake.models import check_label, choose_task, evaluate
from synthlake.schema import infer_schema


@pytest.fixture
def mixed_schema(mixed_frame):
    schema, _ = infer_schema(mixed_frame, "customers")
    return schema


@pytest.mark.parametrize(
    ("label", "task"),
    [
        ("group", "classification"),
        ("active", "classification"),
        ("children", "classification"),
        ("income", "regression"),
        ("age", "regression"),  # whole numbers, but many distinct values
    ],
)
def test_choose_task(mixed_schema, label, task):
    assert choose_task(mixed_schema, label) == task


@pytest.mark.parametrize(("label", "words"), [("outcome", "not a column"), ("country", "single value"),
                                              ("email", "identifier")])  # fmt: skip
def test_check_label_refuses_unusable_labels(mixed_schema, label, words):
    with pytest.raises(DataError) as caught:
        check_label(mixed_schema, label)

    message = str(caught.value)
    assert words in message
    assert f"'{label}'" in message and "'customers'" in message
    assert (caught.value.table, caught.value.column) == ("customers", label)


def test_check_label_accepts_a_categorical(mixed_schema):
    check_label(mixed_schema, "group")


def labelled_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    colour = rng.choice(["red", "blue"], n)
    return pd.DataFrame(
        {
            "x": x,
            "colour": colour,
            "noise": rng.normal(size=n),
            "outcome": np.where(x > 0.5, "yes_class", "no_class"),
            "amount": 10 * x + np.where(colour == "red", 5.0, 0.0) + rng.normal(0, 0.1, n),
        }
    )


def split(frame: pd.DataFrame):
    train, holdout = split_indices(len(frame), 0.25, seed=0)
    return frame.iloc[train].reset_index(drop=True), frame.iloc[holdout].reset_index(drop=True)


def test_classifier_trained_on_an_exact_copy_matches_real():
    schema, frame = infer_schema(labelled_frame().drop(columns="amount"), "t")
    train, holdout = split(frame)

    record = evaluate(schema=schema, label="outcome", real_train=train, real_holdout=holdout, synthetic=train.copy())

    assert record["skipped"] is None and record["task"] == "classification"
    assert record["synthetic"]["accuracy"] > 0.9 and record["synthetic"]["f1_macro"] > 0.9
    assert record["synthetic"]["roc_auc"] is not None and record["synthetic"]["roc_auc"] > 0.9
    assert record["ratio"]["accuracy"] == pytest.approx(1.0)
    assert record["ratio"]["roc_auc"] == pytest.approx(1.0)
    assert record["features"] == ["colour", "noise", "x"]
    assert next(iter(record["feature_importance"]["real"])) == "x"
    assert (record["real_rows"], record["holdout_rows"]) == (300, 100)


def test_classifier_trained_on_shuffled_labels_does_worse():
    schema, frame = infer_schema(labelled_frame().drop(columns="amount"), "t")
    train, holdout = split(frame)
    synthetic = train.copy()
    synthetic["outcome"] = np.random.default_rng(1).permutation(synthetic["outcome"].to_numpy())

    record = evaluate(schema=schema, label="outcome", real_train=train, real_holdout=holdout, synthetic=synthetic)

    assert record["real"]["accuracy"] > 0.9
    assert record["synthetic"]["accuracy"] < 0.75
    assert record["ratio"]["accuracy"] < 0.85


def test_regression_metrics():
    schema, frame = infer_schema(labelled_frame().drop(columns="outcome"), "t")
    train, holdout = split(frame)

    record = evaluate(schema=schema, label="amount", real_train=train, real_holdout=holdout, synthetic=train.copy())

    assert record["task"] == "regression"
    assert set(record["real"]) == {"r2", "mae", "rmse"}
    assert record["real"]["r2"] > 0.9
    assert 0 < record["real"]["mae"] <= record["real"]["rmse"]
    assert set(record["ratio"]) == {"r2"} and record["ratio"]["r2"] == pytest.approx(1.0)


def test_too_few_labelled_holdout_rows_is_skipped_with_a_reason():
    schema, frame = infer_schema(labelled_frame(), "t")
    train, holdout = split(frame)
    holdout.loc[4:, "outcome"] = None

    record = evaluate(schema=schema, label="outcome", real_train=train, real_holdout=holdout, synthetic=train.copy())

    assert record["holdout_rows"] == 4
    assert "fewer than 5" in record["skipped"]
    assert "synthetic" not in record and "ratio" not in record


def test_empty_synthetic_label_is_skipped():
    schema, frame = infer_schema(labelled_frame(), "t")
    train, holdout = split(frame)
    synthetic = train.copy()
    synthetic["outcome"] = None

    record = evaluate(schema=schema, label="outcome", real_train=train, real_holdout=holdout, synthetic=synthetic)

    assert "synthetic table has no labelled row" in record["skipped"]
