"""Column typing: what kind of data each column holds, decided once at import.

The kinds drive everything downstream: which statistics a column gets, how CTGAN
sees it, and which columns are regenerated rather than learned.

- ``numeric``: numbers (``integer`` says whether they are whole numbers);
- ``categorical``: a limited set of labels;
- ``boolean``: true/false;
- ``datetime``: dates and timestamps;
- ``identifier``: unique keys, personal identifiers and free text; never learned,
  regenerated in the same format;
- ``empty`` / ``constant``: nothing to learn; carried into the synthetic table as it was.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from synthlake.errors import DataError

log = logging.getLogger(__name__)

Kind = Literal["numeric", "categorical", "boolean", "datetime", "identifier", "empty", "constant"]
LEARNED_KINDS = ("numeric", "categorical", "boolean", "datetime")

ID_NAME = re.compile(r"(^id$|_id$|^id_|uuid|guid|^key$|_key$|number$|_no$|^code$)", re.IGNORECASE)
PII_NAMES = {
    "email": re.compile(r"e-?mail", re.IGNORECASE),
    "phone": re.compile(r"phone|mobile|tel(ephone)?$|fax", re.IGNORECASE),
    "ssn": re.compile(r"ssn|social_?security|national_?id|passport|tax_?id|nino|bsn", re.IGNORECASE),
    "iban": re.compile(r"iban|account_?number", re.IGNORECASE),
    "card": re.compile(r"card_?(number|no)|credit_?card|\bpan\b", re.IGNORECASE),
    "name": re.compile(r"(^|_)(first|last|full|given|family|sur)?_?name$|^name$", re.IGNORECASE),
    "address": re.compile(r"address|street", re.IGNORECASE),
}
PATTERNS = {
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
    "uuid": re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
    "iban": re.compile(r"^[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}$"),
    "ssn": re.compile(r"^\d{3}-\d{2}-\d{4}$"),
    "ip": re.compile(r"^(\d{1,3}\.){3}\d{1,3}$"),
    "card": re.compile(r"^\d(?:[ -]?\d){12,18}$"),
    "phone": re.compile(r"^(\+|00)?[\d\s().x-]{7,25}$"),
}
VALUE_FORMATS = ("email", "uuid", "iban", "ssn", "ip", "card", "phone")  # checked in this order
BOOLEAN_WORDS = {"true": True, "false": False, "yes": True, "no": False, "t": True, "f": False, "y": True, "n": False}
DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$")
FREE_TEXT_MEAN_LENGTH = 30
# a text column is personal by its name alone only with this many distinct values (or half its rows
# distinct): 'product_name' with 20 products, or 'hotel' (tel$), stay categories, learned with k
NAME_ONLY_MIN_DISTINCT = 50
NUMERIC_PII = ("phone", "ssn", "iban", "card")  # formats a column of whole numbers may hold
DISCRETE_INTEGER_MAX_VALUES = 15


@dataclass
class ColumnSchema:
    """The inferred kind of one column and the facts it rests on."""

    name: str
    kind: Kind
    dtype: str
    integer: bool = False
    discrete: bool = False
    n_missing: int = 0
    n_unique: int = 0
    format: str | None = None
    reason: str = ""


@dataclass
class TableSchema:
    """The columns of one table, in their original order."""

    table: str
    n_rows: int
    columns: list[ColumnSchema]
    warnings: list[str] = field(default_factory=list)

    def column(self, name: str) -> ColumnSchema:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def names(self, *kinds: str) -> list[str]:
        return [column.name for column in self.columns if not kinds or column.kind in kinds]

    @property
    def learned(self) -> list[str]:
        return self.names(*LEARNED_KINDS)

    def to_json(self, path: str | Path) -> None:
        from synthlake.products import write_json

        write_json(path, asdict(self))

    @classmethod
    def from_json(cls, path: str | Path) -> TableSchema:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        columns = [ColumnSchema(**column) for column in data.pop("columns")]
        return cls(columns=columns, **data)


def datetime_seconds(values: pd.Series) -> pd.Series:
    """Timestamps as float seconds since 1970 (NaN where missing), whatever their unit."""
    stamps = pd.to_datetime(values, errors="coerce", utc=True).dt.tz_localize(None)
    seconds = (stamps - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)
    return seconds.astype("float64")


def _as_boolean(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(values):
        return values
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        words = values.dropna().astype(str).str.strip().str.lower()
        if len(words) and words.isin(BOOLEAN_WORDS.keys()).all():
            return values.map(lambda v: None if pd.isna(v) else BOOLEAN_WORDS[str(v).strip().lower()])
    return None


def _as_datetime(values: pd.Series) -> pd.Series | None:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if values.dtype != object and not pd.api.types.is_string_dtype(values):
        return None
    present = values.dropna().astype(str).str.strip()
    if present.empty or not present.str.match(DATE_LIKE).mean() >= 0.95:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # utc=True: offsets that change across the year (summer time) still parse;
        # timestamps without an offset are taken as they are
        parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True).dt.tz_localize(None)
    if parsed.notna().sum() < 0.95 * len(present):
        return None
    return parsed


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum that payment card numbers carry."""
    numbers = [int(d) for d in digits if d.isdigit()]
    if not 13 <= len(numbers) <= 19:
        return False
    total = 0
    for position, number in enumerate(reversed(numbers)):
        if position % 2:
            number *= 2
            number -= 9 if number > 9 else 0
        total += number
    return total % 10 == 0


def _share(sample: pd.Series, fmt: str) -> float:
    matches = sample.str.match(PATTERNS[fmt])
    if fmt == "card":
        matches &= sample.map(luhn_valid)
    return float(matches.mean()) if len(sample) else 0.0


def _text_format(name: str, present: pd.Series) -> tuple[str | None, str]:
    """The personal-data format of a text column (by its values first, then its name) and why."""
    sample = present.astype(str).str.strip().head(500)
    for fmt in VALUE_FORMATS:
        if fmt == "phone" and not PII_NAMES["phone"].search(name):
            continue  # digit strings are too common to call phones by value alone
        if _share(sample, fmt) >= 0.9:
            return fmt, f"at least 90% of values have the {fmt} format"
    distinct = present.nunique()
    if distinct >= NAME_ONLY_MIN_DISTINCT or distinct > 0.5 * len(present):
        for fmt, pattern in PII_NAMES.items():
            if pattern.search(name):
                return fmt, f"the column name suggests {fmt} and it has many distinct values"
    return None, ""


def infer_column(name: str, values: pd.Series, *, identifier: bool | None = None) -> tuple[ColumnSchema, pd.Series]:
    """Infer one column's kind, and return it with the values converted to that kind.

    Args:
        name: the column name.
        values: the column.
        identifier: force (True) or forbid (False) the identifier kind; None detects.
    """
    n_rows = len(values)
    n_missing = int(values.isna().sum())
    present = values.dropna()
    base = {"name": name, "dtype": str(values.dtype), "n_missing": n_missing}
    if present.empty:
        return ColumnSchema(kind="empty", reason="every value is missing", **base), values
    try:
        n_unique = int(present.nunique())
    except TypeError:  # unhashable cells (lists from JSON): treat as text
        values = values.map(lambda v: None if v is None else json.dumps(v, default=str))
        present = values.dropna()
        n_unique = int(present.nunique())
    base["n_unique"] = n_unique
    if n_unique == 1 and identifier is not True:
        return ColumnSchema(kind="constant", reason="a single distinct value", **base), values

    as_bool = _as_boolean(values)
    if as_bool is not None and as_bool.dropna().nunique() <= 2 and identifier is not True:
        return ColumnSchema(kind="boolean", reason="true/false values", **base), as_bool.astype("boolean")

    if pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        integer = bool((numbers.dropna() % 1 == 0).all())
        all_unique = n_unique == len(present) and n_missing == 0
        if integer and identifier is not False:
            digits = values.dropna().head(500).map(lambda v: str(int(v)))  # not via float: 16 digits
            if len(digits) and digits.map(luhn_valid).mean() >= 0.9:
                return ColumnSchema(
                    kind="identifier", integer=True, format="card", reason="numbers that pass the card checksum", **base
                ), values.map(lambda v: None if pd.isna(v) else str(int(v))).astype("object")
        if identifier or (identifier is None and integer and all_unique and ID_NAME.search(name)):
            return ColumnSchema(
                kind="identifier",
                integer=integer,
                format="integer",
                reason="unique whole numbers named like a key",
                **base,
            ), values
        named = [fmt for fmt in NUMERIC_PII if PII_NAMES[fmt].search(name)]
        if identifier is None and integer and named:  # a phone or national ID stored as a number
            return ColumnSchema(
                kind="identifier",
                integer=True,
                format="integer",
                reason=f"whole numbers in a column named like {named[0]}",
                **base,
            ), values
        discrete = integer and n_unique <= DISCRETE_INTEGER_MAX_VALUES
        return ColumnSchema(kind="numeric", integer=integer, discrete=discrete, reason="numbers", **base), values

    as_date = _as_datetime(values)
    if as_date is not None and identifier is not True:
        return ColumnSchema(kind="datetime", reason="dates or timestamps", **base), as_date

    text = present.astype(str)
    fmt, why = _text_format(name, text)
    all_unique = n_unique == len(present)
    long_text = text.str.len().mean() >= FREE_TEXT_MEAN_LENGTH and n_unique > 0.5 * len(present)
    many_unique = all_unique and len(present) >= 20 and n_unique > 0.9 * n_rows
    if identifier or (
        identifier is None and (fmt or long_text or many_unique or (all_unique and ID_NAME.search(name)))
    ):
        if fmt:
            reason = why
        elif long_text:
            reason = "free text (long, mostly distinct values)"
        else:
            reason = "a distinct value on every row"
        fmt = fmt or ("text" if long_text else "code")
        return ColumnSchema(kind="identifier", format=fmt, reason=reason, **base), values.astype("object")
    return ColumnSchema(kind="categorical", reason="a limited set of labels", **base), values.astype("object")


def infer_schema(
    frame: pd.DataFrame, table: str, *, identifier_columns: list[str] | None = None
) -> tuple[TableSchema, pd.DataFrame]:
    """Infer every column's kind and convert the values to match.

    Args:
        frame: the table as read from the source.
        table: its name, for messages.
        identifier_columns: when given, exactly these columns are identifiers
            (detection is switched off).

    Returns:
        The schema and the converted table (same columns, same order).

    Raises:
        DataError: an explicit identifier column is not in the table.
    """
    if identifier_columns is not None:
        unknown = [name for name in identifier_columns if name not in frame.columns]
        if unknown:
            raise DataError(
                f"Table '{table}': identifier column '{unknown[0]}' is not a column; "
                f"check 'tables.{table}.identifier_columns'",
                table=table,
                column=unknown[0],
            )
    columns, converted, notes = [], {}, []
    for name in frame.columns:
        forced = None if identifier_columns is None else name in identifier_columns
        column, values = infer_column(name, frame[name], identifier=forced)
        columns.append(column)
        converted[name] = values
        if column.kind == "empty":
            notes.append(f"Column '{name}' in table '{table}' is entirely empty: not learned, kept empty")
        elif column.kind == "constant":
            notes.append(f"Column '{name}' in table '{table}' holds a single value: not learned, carried as it is")
    for note in notes:
        log.warning(note)
    schema = TableSchema(table=table, n_rows=len(frame), columns=columns, warnings=notes)
    return schema, pd.DataFrame(converted, index=frame.index)
