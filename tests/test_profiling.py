"""Per-column statistics by kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlake.profiling import QUANTILE_COLUMNS, QUANTILES, SUMMARY_COLUMNS, summarize
from synthlake.schema import infer_schema


@pytest.fixture
def summary(mixed_frame):
    schema, converted = infer_schema(mixed_frame, "customers")
    return summarize(converted, schema).set_index("column"), mixed_frame


def test_one_row_per_column_with_the_summary_columns(summary):
    table, frame = summary

    assert list(table.reset_index().columns) == SUMMARY_COLUMNS
    assert list(table.index) == list(frame.columns)


def test_numeric_stats_match_numpy(summary):
    table, frame = summary
    values = frame["age"].dropna().to_numpy()
    row = table.loc["age"]

    assert row["mean"] == pytest.approx(np.mean(values))
    assert row["std"] == pytest.approx(np.std(values, ddof=1))
    assert row["min"] == values.min() and row["max"] == values.max()
    for name, q in zip(QUANTILE_COLUMNS, QUANTILES, strict=True):
        assert row[name] == pytest.approx(np.quantile(values, q)), name
    assert QUANTILE_COLUMNS == ["p1", "p5", "p25", "p50", "p75", "p95", "p99"]


def test_missing_counts(summary):
    table, frame = summary

    assert table.loc["age", "missing"] == frame["age"].isna().sum() == 14
    assert table.loc["age", "count"] == 120 - 14
    assert table.loc["age", "missing_pct"] == pytest.approx(100 * 14 / 120, abs=1e-3)
    assert table.loc["notes", "missing"] == 120 and table.loc["notes", "distinct"] == 0


def test_categorical_top_values_are_label_count_pairs(summary):
    table, frame = summary
    counts = frame["group"].value_counts()

    expected = "; ".join(f"{label}: {count}" for label, count in counts.items())
    assert table.loc["group", "top_values"] == expected
    assert table.loc["group", "distinct"] == 3
    assert table.loc["country", "top_values"] == "NL: 120"


def test_boolean_mean_is_the_share_of_true(summary):
    table, frame = summary

    assert table.loc["active", "mean"] == pytest.approx(frame["active"].mean())


def test_identifiers_get_counts_only(summary):
    table, frame = summary

    for name in ("email", "customer_id"):
        row = table.loc[name]
        assert row["count"] == 120 and row["distinct"] == 120
        stats = row[["mean", "std", "min", *QUANTILE_COLUMNS, "max", "top_values"]]
        assert stats.isna().all(), name
    text = table.reset_index().to_csv()
    assert not any(email in text for email in frame["email"])
    assert "@" not in text


def test_datetime_stats_are_iso_dates(summary):
    table, _ = summary
    row = table.loc["joined"]

    assert row["min"] == "2020-01-01T00:00:00"
    assert row["max"] == (pd.Timestamp("2020-01-01") + pd.Timedelta(days=119)).isoformat()
    assert row["p50"] == (pd.Timestamp("2020-01-01") + pd.Timedelta(days=59.5)).isoformat()
    for name in ("mean", *QUANTILE_COLUMNS):
        pd.Timestamp.fromisoformat(row[name])  # parses
    assert row["std"].endswith(" days")


def test_lakehouse_profile_reads_a_column_at_a_time_with_the_same_figures(mixed_frame, tmp_path, monkeypatch):
    from synthlake.lakehouse import Lakehouse
    from synthlake.profiling import summarize_lakehouse

    schema, typed = infer_schema(mixed_frame, "t")
    lakehouse = Lakehouse(tmp_path)
    lakehouse.write("t", typed)
    reads = []
    original = Lakehouse.read
    monkeypatch.setattr(Lakehouse, "read", lambda self, name, columns=None, **kw: reads.append(columns) or original(
        self, name, columns, **kw))  # fmt: skip

    streamed = summarize_lakehouse(lakehouse, "t", schema, k=3)

    pd.testing.assert_frame_equal(streamed, summarize(original(lakehouse, "t"), schema, k=3))
    assert all(columns is not None and len(columns) == 1 for columns in reads)


def test_with_k_no_figure_moves_with_one_extreme_and_a_small_minority_is_withheld():
    values = pd.Series(np.r_[np.arange(1.0, 100.0), 1e9])  # one individual far out
    frame = pd.DataFrame({"amount": values, "flag": [True] * 97 + [False] * 3})
    schema, typed = infer_schema(frame, "t")

    protected = summarize(typed, schema, k=10).set_index("column")
    moved = summarize(typed.assign(amount=values.replace(1e9, 2e9)), schema, k=10).set_index("column")

    for name in ("mean", "std", "max", "p99"):
        assert protected.loc["amount", name] == moved.loc["amount", name], name
    assert protected.loc["amount", "max"] == 91.0  # the 10th largest value
    assert pd.isna(protected.loc["flag", "mean"])  # 3 false of 100: the share would tell
    assert summarize(typed, schema, k=3).set_index("column").loc["flag", "mean"] == pytest.approx(0.97)
