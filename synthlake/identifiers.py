"""Identifier and personal-data columns: described at fit time, regenerated at sampling.

These columns are never shown to CTGAN. What is kept from the real column is only its
format (the kind of value, a prefix shared by every row, the typical length, whether
values are unique), never a value.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass

import numpy as np
import pandas as pd
from faker import Faker

from synthlake.schema import ColumnSchema


@dataclass
class IdentifierFormat:
    """What is needed to regenerate an identifier column without its values."""

    name: str
    format: str
    unique: bool
    missing_share: float
    prefix: str = ""
    length: int = 8
    digits_only: bool = False
    integer_digits: int = 6


def _common_prefix(values: pd.Series) -> str:
    prefix = os.path.commonprefix(values.head(10_000).tolist())
    # keep the structural part only (letters and separators before the first digit)
    match = re.match(r"^[A-Za-z]*[-_/#: ]?", prefix)
    return match.group(0) if match and len(match.group(0)) < len(prefix) + 1 else ""


MAX_INTEGER_DIGITS = 18  # whole-number identifiers stay within int64


def describe(column: ColumnSchema, values: pd.Series) -> IdentifierFormat:
    """Keep the format of an identifier column, not its values."""
    present = values.dropna()
    text = present.astype(str)
    missing_share = float(values.isna().mean()) if len(values) else 0.0
    unique = bool(present.nunique() == len(present))
    fmt = column.format or "code"
    if fmt == "integer":
        numbers = pd.to_numeric(present, errors="coerce").dropna().abs()
        digits = int(np.median([len(str(int(v))) for v in numbers.head(10_000)])) if len(numbers) else 6
        return IdentifierFormat(column.name, fmt, unique, missing_share, integer_digits=max(digits, 1))
    prefix = _common_prefix(text) if fmt == "code" else ""
    body = text.str.slice(len(prefix))
    length = int(body.str.len().median()) if len(body) else 8
    digits_only = bool(len(body) and body.str.fullmatch(r"\d+").all())
    return IdentifierFormat(column.name, fmt, unique, missing_share, prefix, max(length, 1), digits_only)


def _one(fake: Faker, rng: np.random.Generator, spec: IdentifierFormat, column: str) -> str:
    lower = column.lower()
    if spec.format == "email":
        return fake.email()
    if spec.format == "phone":
        return fake.phone_number()
    if spec.format == "ssn":
        return fake.ssn()
    if spec.format == "iban":
        return fake.iban()
    if spec.format == "card":
        return fake.credit_card_number()
    if spec.format == "ip":
        return fake.ipv4()
    if spec.format == "uuid":
        return str(uuid.UUID(bytes=rng.bytes(16), version=4))
    if spec.format == "address":
        return fake.address().replace("\n", ", ")
    if spec.format == "name":
        if "first" in lower or "given" in lower:
            return fake.first_name()
        if "last" in lower or "sur" in lower or "family" in lower:
            return fake.last_name()
        return fake.name()
    if spec.format == "text":
        return fake.text(max_nb_chars=max(spec.length, 20)).replace("\n", " ")
    alphabet = "0123456789" if spec.digits_only else "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return spec.prefix + "".join(rng.choice(list(alphabet), size=spec.length))


def regenerate(spec: IdentifierFormat, n_rows: int, *, seed: int, locale: str = "en_US") -> pd.Series:
    """``n_rows`` new values in the column's format, unique when the real ones were.

    Args:
        spec: the format kept at fit time.
        n_rows: how many values to make.
        seed: makes the values reproducible.
        locale: Faker locale for names, phones and addresses.
    """
    rng = np.random.default_rng(seed)
    if spec.format == "integer":
        digits = min(spec.integer_digits, MAX_INTEGER_DIGITS)
        low = 10 ** (digits - 1) if digits > 1 else 1
        high = 10**digits
        if high - low < 2 * n_rows:
            high = low + 4 * n_rows
        # drawn from the range's size, never materialising it (a 10-digit phone range has 9e9 values)
        values = rng.choice(high - low, size=n_rows, replace=False) + low
        series = pd.Series(values, dtype="Int64", name=spec.name)
    else:
        fake = Faker(locale)
        fake.seed_instance(seed)
        made: list[str] = []
        seen: set[str] = set()
        for i in range(n_rows):
            value = _one(fake, rng, spec, spec.name)
            if spec.unique and value in seen:
                value = f"{value}{i}" if spec.format != "email" else value.replace("@", f"{i}@", 1)
            seen.add(value)
            made.append(value)
        series = pd.Series(made, dtype="object", name=spec.name)
    if spec.missing_share > 0:
        series[rng.random(n_rows) < spec.missing_share] = None
    return series
