"""Identifier columns: regenerated in their format, never copied."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from synthlake.identifiers import IdentifierFormat, describe, regenerate
from synthlake.schema import PATTERNS, ColumnSchema, infer_column


def spec_of(name: str, values: pd.Series):
    column, converted = infer_column(name, values)
    assert column.kind == "identifier", column
    return describe(column, converted)


def test_regenerated_emails_are_unique_new_emails():
    real = pd.Series([f"person{i}@example.org" for i in range(60)])
    spec = spec_of("email", real)

    made = regenerate(spec, 200, seed=1)

    assert len(made) == 200
    assert made.str.match(PATTERNS["email"]).all()
    assert made.is_unique
    assert not set(made) & set(real)


def test_code_keeps_a_shared_prefix_and_length():
    real = pd.Series([f"CUST-{i:06d}" for i in range(1, 41)])
    spec = spec_of("customer_code", real)

    made = regenerate(spec, 50, seed=0)

    assert spec.prefix == "CUST-" and spec.length == 6 and spec.digits_only
    assert made.map(lambda v: re.fullmatch(r"CUST-\d{6}", v) is not None).all()
    assert made.is_unique
    assert not set(made) & set(real)


def test_integer_ids_are_unique_with_the_same_digits():
    real = pd.Series(np.arange(1000, 1100))
    spec = spec_of("customer_id", real)

    made = regenerate(spec, 500, seed=0)

    assert spec.format == "integer" and spec.integer_digits == 4
    assert made.dtype == "Int64"
    assert made.is_unique and made.notna().all()
    assert ((made >= 1000) & (made < 10_000)).all()


def test_missing_share_is_roughly_kept():
    column = ColumnSchema(name="ref_code", kind="identifier", dtype="object", format="code")
    real = pd.Series([f"R{i:05d}" if i % 4 else None for i in range(400)])
    spec = describe(column, real)

    made = regenerate(spec, 2000, seed=0)

    assert spec.missing_share == 0.25
    assert 0.20 < made.isna().mean() < 0.30


def test_same_seed_same_values_and_other_seed_differs():
    real = pd.Series([f"person{i}@example.org" for i in range(30)])
    spec = spec_of("email", real)

    first = regenerate(spec, 20, seed=5)
    again = regenerate(spec, 20, seed=5)
    other = regenerate(spec, 20, seed=6)

    pd.testing.assert_series_equal(first, again)
    assert not first.equals(other)


def test_same_seed_same_integer_ids():
    spec = spec_of("order_id", pd.Series(np.arange(1, 51)))

    pd.testing.assert_series_equal(regenerate(spec, 30, seed=2), regenerate(spec, 30, seed=2))


def test_long_integer_identifiers_are_drawn_without_materialising_their_range():
    spec = IdentifierFormat("phone", "integer", unique=False, missing_share=0.0, integer_digits=12)

    values = regenerate(spec, 1_000, seed=3)

    assert values.astype(str).str.len().eq(12).all()
    assert values.is_unique
