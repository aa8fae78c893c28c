"""Reading sources and the local lakehouse of Delta tables.

A source is a file, a folder of files, or a SQLAlchemy URL. Each table becomes a
Delta table under ``<lakehouse>/Tables/<table>`` (the layout of a Fabric Lakehouse);
synthetic tables go under ``<lakehouse>/Tables/<table>_synthetic``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from synthlake.errors import DataError, SourceError

log = logging.getLogger(__name__)

FILE_FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".jsonl": "json",
    ".json": "json",
    ".ndjson": "json",
    ".xlsx": "excel",
    ".xls": "excel",
}
SQL_PREFIXES = ("sqlite:", "postgresql", "mysql", "mssql", "oracle", "duckdb:")


@dataclass(frozen=True)
class SourceTable:
    """Where one table of the source lives."""

    name: str
    location: str
    kind: str  # csv, parquet, json, excel, delta or sql


def is_sql_url(source: str) -> bool:
    return source.startswith(SQL_PREFIXES) or "://" in source


def _is_delta_folder(path: Path) -> bool:
    return (path / "_delta_log").is_dir()


def discover_tables(source: str, include: list[str] | None = None) -> list[SourceTable]:
    """List the tables of a source, in name order.

    Args:
        source: a file, a folder of table files and Delta folders, or a SQLAlchemy URL.
        include: only these tables; each must exist in the source.

    Raises:
        SourceError: the source does not exist, holds no table, or lacks an included table.
    """
    if is_sql_url(source):
        tables = _discover_sql(source)
    else:
        path = Path(source)
        if not path.exists():
            raise SourceError(f"Source '{source}' does not exist; pass --source with a file or folder")
        if path.is_dir() and _is_delta_folder(path):
            tables = [SourceTable(path.name, str(path), "delta")]
        elif path.is_dir():
            tables = []
            for child in sorted(path.iterdir()):
                if child.is_dir() and _is_delta_folder(child):
                    tables.append(SourceTable(child.name, str(child), "delta"))
                elif child.is_file() and child.suffix.lower() in FILE_FORMATS:
                    tables.append(SourceTable(child.stem, str(child), FILE_FORMATS[child.suffix.lower()]))
        elif path.suffix.lower() in FILE_FORMATS:
            tables = [SourceTable(path.stem, str(path), FILE_FORMATS[path.suffix.lower()])]
        else:
            raise SourceError(
                f"Source '{source}' is not a supported file; use CSV, Parquet, JSON lines, "
                "Excel, a Delta table folder, or a SQLAlchemy URL"
            )
    names = [table.name for table in tables]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SourceError(
            f"Source '{source}' holds more than one file for table(s) {', '.join(duplicates)}; "
            "keep one file per table name"
        )
    if include:
        missing = [name for name in include if name not in names]
        if missing:
            raise SourceError(
                f"Table(s) {', '.join(missing)} not found in source '{_redact(source)}'; "
                f"it holds: {', '.join(names) or 'no table'}"
            )
        tables = [table for table in tables if table.name in include]
    if not tables:
        raise SourceError(f"Source '{_redact(source)}' holds no table in a supported format")
    return tables


def _redact(source: str) -> str:
    """A SQLAlchemy URL without its password, for messages and logs."""
    if is_sql_url(source):
        try:
            from sqlalchemy.engine import make_url

            return make_url(source).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - an unparsable URL is reported elsewhere
            return source.split("@")[-1]
    return source


def source_url(url: str) -> Any:
    """The SQLAlchemy URL to connect with: ``url`` plus the password from the environment, if set.

    The URL in the parameters never holds a password (parameters are written to the run
    folder); ``SYNTHLAKE_SOURCE_PASSWORD`` supplies it.
    """
    from sqlalchemy.engine import make_url

    from synthlake.config import SOURCE_PASSWORD_ENV

    password = os.environ.get(SOURCE_PASSWORD_ENV)
    return make_url(url).set(password=password) if password else make_url(url)


def sql_engine(url: str) -> Any:
    """A SQLAlchemy engine for ``url`` (see :func:`source_url`)."""
    import sqlalchemy

    return sqlalchemy.create_engine(source_url(url))


def _discover_sql(url: str) -> list[SourceTable]:
    import sqlalchemy

    try:
        engine = sql_engine(url)
        names = sqlalchemy.inspect(engine).get_table_names()
    except Exception as exc:  # noqa: BLE001 - any driver error means an unreadable source
        raise SourceError(f"Cannot read database '{_redact(url)}': {type(exc).__name__}") from None
    return [SourceTable(name, url, "sql") for name in sorted(names)]


def _check_csv_header(path: str, table: str) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise DataError(f"Table '{table}' ({path}) is empty: it has no header row", table=table)
    _check_unique_columns(header, table)
    return header


def _json_keys(location: str, table: str) -> list[str]:
    """The keys of a JSON table's first record, refusing a key given twice (json keeps the last)."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        _check_unique_columns([key for key, _ in items], table)
        return dict(items)

    with open(location, encoding="utf-8") as handle:
        text = handle.read(1 << 20).lstrip()
    if text.startswith("["):  # a JSON array: the whole file is one document
        records = json.loads(Path(location).read_text(encoding="utf-8"), object_pairs_hook=pairs)
        first = records[0] if records else {}
    else:  # JSON lines
        line = text.split("\n", 1)[0]
        first = json.loads(line, object_pairs_hook=pairs) if line.strip() else {}
    return [str(key) for key in first] if isinstance(first, dict) else []


@contextlib.contextmanager
def _reading(table: SourceTable, what: str) -> Iterator[None]:
    """Turn a reader's own exception into a SourceError naming the table (never a value)."""
    try:
        yield
    except (DataError, SourceError):
        raise
    except Exception as exc:  # noqa: BLE001 - readers raise many types; name the table
        raise SourceError(
            f"Cannot read {what} '{table.name}' from '{_redact(table.location)}' as {table.kind}: "
            f"{type(exc).__name__}. Check that the file is complete and in that format."
        ) from None


def source_columns(table: SourceTable) -> list[str]:
    """The column names of a source table, read from its header or schema only (no rows).

    Used to check the parameters against every table before any table is trained.

    Raises:
        DataError: the table has no header or a column name twice.
        SourceError: the table cannot be read.
    """
    with _reading(table, "the columns of table"):
        if table.kind == "csv":
            return _check_csv_header(table.location, table.name)
        if table.kind == "parquet":
            import pyarrow.parquet as pq

            columns = list(pq.read_schema(table.location).names)
        elif table.kind == "json":
            columns = _json_keys(table.location, table.name)
        elif table.kind == "excel":
            header = pd.read_excel(table.location, header=None, nrows=1)
            columns = [str(value) for value in header.iloc[0].tolist()] if len(header) else []
        elif table.kind == "delta":
            columns = [field.name for field in DeltaTable(table.location).schema().fields]
        elif table.kind == "sql":
            import sqlalchemy

            inspector = sqlalchemy.inspect(sql_engine(table.location))
            columns = [column["name"] for column in inspector.get_columns(table.name)]
        else:  # pragma: no cover - discover_tables only makes the kinds above
            raise SourceError(f"Table '{table.name}': unknown source kind '{table.kind}'")
    columns = [str(name) for name in columns]
    _check_unique_columns(columns, table.name)
    return columns


def _check_unique_columns(columns: list[str], table: str) -> None:
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise DataError(
                f"Table '{table}' has more than one column named '{name}'; rename one of them in the source",
                table=table,
                column=name,
            )
        seen.add(name)


def read_source_table(table: SourceTable) -> pd.DataFrame:
    """Read one source table into pandas, keeping the original column names.

    Raises:
        SourceError: the file or database cannot be read.
        DataError: the table has duplicate column names or no columns.
    """
    with _reading(table, "table"):
        if table.kind == "csv":
            _check_csv_header(table.location, table.name)
            frame = pd.read_csv(table.location, low_memory=False)
        elif table.kind == "parquet":
            frame = pd.read_parquet(table.location)
        elif table.kind == "json":
            _json_keys(table.location, table.name)  # pandas would keep one of two equal keys
            frame = _read_json(table.location)
        elif table.kind == "excel":
            source_columns(table)  # pandas would rename a repeated header to 'name.1'
            frame = pd.read_excel(table.location)
        elif table.kind == "delta":
            frame = DeltaTable(table.location).to_pandas()
        elif table.kind == "sql":
            import sqlalchemy

            engine = sql_engine(table.location)
            quoted = engine.dialect.identifier_preparer.quote(table.name)
            with engine.connect() as connection:
                frame = pd.read_sql_query(sqlalchemy.text(f"SELECT * FROM {quoted}"), connection)
        else:  # pragma: no cover - discover_tables only makes the kinds above
            raise SourceError(f"Table '{table.name}': unknown source kind '{table.kind}'")
    columns = [str(name) for name in frame.columns]
    _check_unique_columns(columns, table.name)
    if not columns:
        raise DataError(f"Table '{table.name}' has no columns", table=table.name)
    frame.columns = columns
    return frame


def _read_json(location: str) -> pd.DataFrame:
    with open(location, encoding="utf-8") as handle:
        first = handle.read(1)
        while first and first.isspace():
            first = handle.read(1)
    return pd.read_json(location, lines=first != "[")


class Lakehouse:
    """A folder of Delta tables laid out like a Fabric Lakehouse (``Tables/<name>``).

    Args:
        root: the lakehouse folder.
        area: the sub-folder holding the tables: ``Tables``, or ``Quarantine`` for
            synthetic tables that failed the privacy gate and must not be shared.
    """

    def __init__(self, root: str | Path, *, area: str = "Tables"):
        self.root = Path(root)
        self.area = area

    def table_path(self, name: str) -> Path:
        return self.root / self.area / name

    def exists(self, name: str) -> bool:
        return _is_delta_folder(self.table_path(name))

    def read(self, name: str, columns: list[str] | None = None, *, max_rows: int | None = None) -> pd.DataFrame:
        """Read a Delta table into pandas (its first ``max_rows`` rows, when given).

        Raises:
            SourceError: the table is not in the lakehouse.
        """
        try:
            table = DeltaTable(str(self.table_path(name)))
        except TableNotFoundError:
            raise SourceError(
                f"Table '{name}' is not in the lakehouse at '{self.root}'; run the import step first"
            ) from None
        if max_rows is None:
            return table.to_pandas(columns=columns)
        return table.to_pyarrow_dataset().head(max_rows, columns=columns).to_pandas()

    def count(self, name: str) -> int:
        """The table's row count, from the Delta log's file statistics where it has them."""
        return DeltaTable(str(self.table_path(name))).to_pyarrow_dataset().count_rows()

    def version(self, name: str) -> int:
        return DeltaTable(str(self.table_path(name))).version()

    def write(self, name: str, frame: pd.DataFrame) -> int:
        """Write ``frame`` as table ``name`` and return the new Delta version (see :meth:`write_frames`)."""
        return self.write_frames(name, iter([frame]))

    def write_frames(self, name: str, frames: Iterator[pd.DataFrame]) -> int:
        """Write the frames, in order, as table ``name`` in one commit; return the new Delta version.

        The frames are streamed to Delta one at a time, so a table larger than memory
        can be written from a generator. Every frame is cast to the first one's schema.
        An existing table gets a new overwrite commit (its history stays, as in Fabric);
        a new table is written to a temporary folder and renamed into place, so a crash
        never leaves a half-written table that looks complete.
        """
        first = _to_arrow(next(frames))
        schema = first.schema
        counted = [first.num_rows]

        def batches() -> Iterator[pa.RecordBatch]:
            yield from first.to_batches()
            for frame in frames:
                table = _to_arrow(frame).select(schema.names).cast(schema, safe=False)
                counted.append(table.num_rows)
                yield from table.to_batches()

        data = pa.RecordBatchReader.from_batches(schema, batches())
        target = self.table_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.exists(name):
            write_deltalake(str(target), data, mode="overwrite", schema_mode="overwrite")
        else:
            staging = target.parent / f".{name}.tmp-{uuid.uuid4().hex[:8]}"
            try:
                write_deltalake(str(staging), data, mode="error")
                if target.exists():  # leftovers of a crash without a Delta log
                    shutil.rmtree(target)
                os.replace(staging, target)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
        version = self.version(name)
        log.info("wrote Delta table %s (version %d, %d rows)", name, version, sum(counted))
        return version


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Arrow conversion that keeps all-null and mixed object columns writable."""
    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object:
            if column.isna().all():
                frame[name] = column.astype("string")
            else:
                kinds = {type(value) for value in column.dropna()}
                if len(kinds) > 1 or kinds - {str, bool}:
                    frame[name] = column.map(lambda v: None if pd.isna(v) else str(v)).astype("string")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for field in table.schema:
        if pa.types.is_null(field.type):
            fields.append(pa.field(field.name, pa.string()))
        elif pa.types.is_timestamp(field.type) and field.type.unit != "us":
            fields.append(pa.field(field.name, pa.timestamp("us", tz=field.type.tz)))
        else:
            fields.append(field)
    return table.cast(pa.schema(fields), safe=False)
