"""Sources and the local Delta lakehouse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy
from deltalake import DeltaTable, write_deltalake

from synthlake.errors import DataError, SourceError
from synthlake.lakehouse import Lakehouse, SourceTable, discover_tables, read_source_table

SMALL = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


@pytest.fixture
def source_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    folder.mkdir()
    SMALL.to_csv(folder / "alpha.csv", index=False)
    SMALL.to_parquet(folder / "beta.parquet")
    SMALL.to_json(folder / "gamma.jsonl", orient="records", lines=True)
    SMALL.to_excel(folder / "delta_sheet.xlsx", index=False)
    write_deltalake(str(folder / "epsilon"), SMALL)
    (folder / "readme.txt").write_text("not a table", encoding="utf-8")
    return folder


def test_discover_tables_finds_every_format_by_stem(source_folder):
    tables = discover_tables(str(source_folder))

    assert [(t.name, t.kind) for t in tables] == [
        ("alpha", "csv"),
        ("beta", "parquet"),
        ("delta_sheet", "excel"),
        ("epsilon", "delta"),
        ("gamma", "json"),
    ]


def test_every_discovered_table_reads_back(source_folder):
    for table in discover_tables(str(source_folder)):
        frame = read_source_table(table)

        assert list(frame.columns) == ["a", "b"], table.name
        assert frame["a"].tolist() == [1, 2, 3], table.name
        assert frame["b"].tolist() == ["x", "y", "z"], table.name


def test_include_filters_tables(source_folder):
    tables = discover_tables(str(source_folder), include=["gamma", "alpha"])

    assert [t.name for t in tables] == ["alpha", "gamma"]


def test_missing_include_name_is_named(source_folder):
    with pytest.raises(SourceError) as caught:
        discover_tables(str(source_folder), include=["alpha", "omega"])

    assert "omega" in str(caught.value)


def test_non_existent_source_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        discover_tables(str(tmp_path / "missing"))


def test_single_delta_folder_is_one_table(tmp_path):
    write_deltalake(str(tmp_path / "orders"), SMALL)

    tables = discover_tables(str(tmp_path / "orders"))

    assert tables == [SourceTable("orders", str(tmp_path / "orders"), "delta")]


def test_sqlite_url_is_discovered_and_read(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = sqlalchemy.create_engine(url)
    SMALL.to_sql("people", engine, index=False)
    pd.DataFrame({"n": [1.5, 2.5]}).to_sql("visits", engine, index=False)
    engine.dispose()

    tables = discover_tables(url)
    people = read_source_table(tables[0])
    visits = read_source_table(tables[1])

    assert [(t.name, t.kind) for t in tables] == [("people", "sql"), ("visits", "sql")]
    assert people.to_dict("list") == {"a": [1, 2, 3], "b": ["x", "y", "z"]}
    assert visits["n"].tolist() == [1.5, 2.5]


def test_duplicate_csv_header_names_the_column_not_a_value(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("fullname,city,fullname\nAlice Smith,Paris,Bob Jones\n", encoding="utf-8")

    with pytest.raises(DataError) as caught:
        read_source_table(SourceTable("people", str(path), "csv"))

    message = str(caught.value)
    assert "'fullname'" in message and "'people'" in message
    assert caught.value.column == "fullname"
    for value in ("Alice", "Paris", "Bob"):
        assert value not in message


def test_corrupt_parquet_is_a_source_error_naming_the_table(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not really parquet")
    (table,) = discover_tables(str(path))

    with pytest.raises(SourceError) as caught:
        read_source_table(table)

    assert "'broken'" in str(caught.value)


def round_trip_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "when": pd.to_datetime(["2021-01-01 10:00", "2022-06-30 00:00", None]),
            "flag": [True, False, True],
            "count": np.array([1, 2, 3], dtype="int64"),
            "ratio": [0.5, np.nan, 2.25],
            "label": ["a", None, "c"],
            "nothing": [None, None, None],
        }
    )


def test_lakehouse_round_trip_keeps_columns_types_and_values(tmp_path):
    lake = Lakehouse(tmp_path / "lake")
    frame = round_trip_frame()

    version = lake.write("t", frame)
    back = lake.read("t")

    assert version == 0
    assert list(back.columns) == list(frame.columns)
    assert pd.api.types.is_datetime64_any_dtype(back["when"])
    assert back["when"].tolist()[:2] == frame["when"].tolist()[:2] and pd.isna(back["when"].iloc[2])
    assert back["flag"].dtype == bool and back["flag"].tolist() == [True, False, True]
    assert back["count"].dtype == "int64" and back["count"].tolist() == [1, 2, 3]
    assert back["ratio"].dtype == "float64"
    assert back["ratio"].iloc[0] == 0.5 and np.isnan(back["ratio"].iloc[1]) and back["ratio"].iloc[2] == 2.25
    assert back["label"].iloc[0] == "a" and pd.isna(back["label"].iloc[1]) and back["label"].iloc[2] == "c"
    assert back["nothing"].isna().all() and len(back) == 3


def test_lakehouse_layout_and_history(tmp_path):
    lake = Lakehouse(tmp_path / "lake")

    first = lake.write("t", SMALL)
    second = lake.write("t", pd.DataFrame({"a": [9], "c": [1.0]}))

    path = tmp_path / "lake" / "Tables" / "t"
    assert (path / "_delta_log").is_dir()
    assert (first, second) == (0, 1)
    assert lake.version("t") == 1
    assert list(lake.read("t").columns) == ["a", "c"]
    assert DeltaTable(str(path), version=0).to_pandas()["b"].tolist() == ["x", "y", "z"]
    assert len(DeltaTable(str(path)).history()) == 2
    assert sorted(p.name for p in (tmp_path / "lake" / "Tables").iterdir()) == ["t"]  # no staging leftovers


def test_reading_a_missing_lakehouse_table_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="'ghost'"):
        Lakehouse(tmp_path / "lake").read("ghost")


def test_database_password_comes_from_the_environment(monkeypatch):
    from synthlake.lakehouse import source_url

    url = "postgresql://analyst@db.internal/crm"
    monkeypatch.delenv("SYNTHLAKE_SOURCE_PASSWORD", raising=False)
    assert source_url(url).password is None
    monkeypatch.setenv("SYNTHLAKE_SOURCE_PASSWORD", "from-the-environment")
    assert source_url(url).password == "from-the-environment"
    assert source_url(url).database == "crm"


def test_duplicate_column_names_are_refused_in_json_and_excel_too(tmp_path):
    lines = tmp_path / "visits.jsonl"
    lines.write_text('{"id": 1, "city": "Paris", "id": 2}\n{"id": 3, "city": "Lyon", "id": 4}\n', encoding="utf-8")
    array = tmp_path / "stays.json"
    array.write_text('[{"n": 1, "n": 2}]', encoding="utf-8")
    sheet = tmp_path / "people.xlsx"
    pd.DataFrame([["Alice Smith", "Paris", "Bob Jones"]], columns=["name", "city", "name"]).to_excel(sheet, index=False)

    for table, column in ((SourceTable("visits", str(lines), "json"), "id"),
                          (SourceTable("stays", str(array), "json"), "n"),
                          (SourceTable("people", str(sheet), "excel"), "name")):  # fmt: skip
        with pytest.raises(DataError) as caught:
            read_source_table(table)
        assert f"more than one column named '{column}'" in str(caught.value)
        assert "Paris" not in str(caught.value) and "Alice" not in str(caught.value)


def test_source_columns_reads_headers_of_every_format(tmp_path):
    from synthlake.lakehouse import source_columns

    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_json(tmp_path / "t.jsonl", orient="records", lines=True)
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    Lakehouse(tmp_path / "lake").write("t", frame)

    for kind, path in (("csv", "t.csv"), ("parquet", "t.parquet"), ("json", "t.jsonl"), ("excel", "t.xlsx"),
                       ("delta", "lake/Tables/t")):  # fmt: skip
        assert source_columns(SourceTable("t", str(tmp_path / path), kind)) == ["a", "b"], kind
