"""Column kinds, explicit identifiers, and the schema file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthlake.errors import DataError
from synthlake.schema import TableSchema, datetime_seconds, infer_column, infer_schema


def test_kinds_of_every_mixed_frame_column(mixed_frame):
    schema, converted = infer_schema(mixed_frame, "customers")

    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {
        "customer_id": "identifier",
        "email": "identifier",
        "age": "numeric",
        "income": "numeric",
        "group": "categorical",
        "children": "numeric",
        "active": "boolean",
        "joined": "datetime",
        "country": "constant",
        "notes": "empty",
    }
    assert schema.column("customer_id").format == "integer"
    assert schema.column("email").format == "email"
    assert schema.column("age").integer and schema.column("age").n_missing == (120 + 8) // 9
    assert not schema.column("income").integer
    assert schema.column("children").integer and schema.column("children").discrete
    assert pd.api.types.is_datetime64_any_dtype(converted["joined"])
    assert list(converted.columns) == list(mixed_frame.columns)
    assert schema.learned == ["age", "income", "group", "children", "active", "joined"]
    assert len(schema.warnings) == 2  # the constant and the empty column


def test_identifier_columns_force_and_forbid(mixed_frame):
    schema, _ = infer_schema(mixed_frame, "customers", identifier_columns=["group"])

    assert schema.column("group").kind == "identifier"
    assert schema.column("customer_id").kind == "numeric"  # detection switched off
    assert schema.column("email").kind != "identifier"


def test_unknown_identifier_column_is_a_data_error(mixed_frame):
    with pytest.raises(DataError) as caught:
        infer_schema(mixed_frame, "customers", identifier_columns=["emial"])

    assert "'emial'" in str(caught.value) and "'customers'" in str(caught.value)
    assert caught.value.column == "emial"


def test_yes_no_words_are_boolean():
    column, values = infer_column("smoker", pd.Series(["yes", "no", None, "yes", "no"]))

    assert column.kind == "boolean"
    assert values.dtype == "boolean"
    assert values.tolist()[:2] == [True, False] and pd.isna(values.iloc[2]) and values.tolist()[3:] == [True, False]


def test_yes_no_words_in_mixed_spellings_are_boolean():
    column, _ = infer_column("smoker", pd.Series(["yes", "No", None, " YES", "no"]))

    assert column.kind == "boolean"


def test_short_repeated_labels_are_categorical():
    column, _ = infer_column("colour", pd.Series(["red", "blue", "red", "green"] * 10))

    assert column.kind == "categorical"
    assert column.n_unique == 3


def test_schema_json_round_trip(mixed_frame, tmp_path):
    schema, _ = infer_schema(mixed_frame, "customers")
    path = tmp_path / "schema.json"

    schema.to_json(path)
    loaded = TableSchema.from_json(path)

    assert loaded == schema


def test_datetime_seconds_is_independent_of_the_unit():
    stamps = pd.Series(pd.to_datetime(["1970-01-02 00:00:00", "2021-03-04 05:06:07", None]))
    as_ns = stamps.astype("datetime64[ns]")
    as_us = stamps.astype("datetime64[us]")

    seconds_ns = datetime_seconds(as_ns)
    seconds_us = datetime_seconds(as_us)

    assert seconds_ns.iloc[0] == 86_400.0
    assert seconds_ns.iloc[1] == pd.Timestamp("2021-03-04 05:06:07").timestamp()
    pd.testing.assert_series_equal(seconds_ns, seconds_us)
    assert pd.isna(seconds_us.iloc[2])


def test_datetime_seconds_of_strings_with_one_offset():
    seconds = datetime_seconds(pd.Series(["1970-01-01T01:00:00+01:00", "1970-01-01T01:00:10+01:00"]))

    assert seconds.tolist() == [0.0, 10.0]


def test_datetime_seconds_of_strings_with_mixed_offsets():
    seconds = datetime_seconds(pd.Series(["1970-01-01T01:00:00+01:00", "1970-01-01T02:00:10+02:00"]))

    assert seconds.tolist() == [0.0, 10.0]


def test_timestamps_across_a_daylight_saving_change_are_datetime():
    values = pd.Series(["2021-01-01T10:00:00+01:00", "2021-07-01T10:00:00+02:00"] * 15)

    column, converted = infer_column("measured_at", values)

    assert column.kind == "datetime"
    assert converted.iloc[1] == pd.Timestamp("2021-07-01 08:00:00")


def test_a_phone_or_national_id_stored_as_numbers_is_an_identifier():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "phone": rng.integers(2_000_000_000, 9_999_999_999, 100).repeat(2),  # repeated: not a unique key
            "national_id": rng.integers(100_000_000, 999_999_999, 200),
            "visits": rng.integers(0, 40, 200),
        }
    )

    schema, _ = infer_schema(frame, "people")

    assert schema.column("phone").kind == "identifier" and "named like phone" in schema.column("phone").reason
    assert schema.column("national_id").kind == "identifier"
    assert schema.column("visits").kind == "numeric"


def test_a_name_alone_makes_an_identifier_only_with_many_distinct_values():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "product_name": rng.choice([f"product {i}" for i in range(12)], 300),
            "hotel": rng.choice(["Ritz", "Savoy", "Plaza"], 300),
            "first_name": [f"Given{i % 150}" for i in range(300)],
        }
    )

    schema, _ = infer_schema(frame, "orders")

    assert schema.column("product_name").kind == "categorical"
    assert schema.column("hotel").kind == "categorical"
    assert schema.column("first_name").kind == "identifier"
