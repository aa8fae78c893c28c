"""Bad input is refused at import, before any training, naming table and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthlake import steps
from synthlake.config import build_config
from synthlake.errors import ConfigError, DataError, SourceError, StepError
from synthlake.products import write_json

SECRET_VALUE = "Zebediah-4471"


def _context(tmp_path: Path, source: Path, **overrides) -> steps.StepContext:
    config = build_config(
        {"source": str(source), "destination": str(tmp_path / "lake"), "output_dir": str(tmp_path / "runs"),
         **overrides}
    )  # fmt: skip
    run_dir = tmp_path / "runs" / "r"
    run_dir.mkdir(parents=True)
    write_json(run_dir / steps.RUN_PARAMETERS, config.public_dict())
    return steps.validate(table=source.stem if source.is_file() else "t", run_dir=str(run_dir))


def _csv(tmp_path: Path, frame: pd.DataFrame, name: str = "t") -> Path:
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


def _frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.choice(["x", "y"], n), "who": [SECRET_VALUE] * (n - 1) + ["o"]}
    )


def test_good_table_is_imported_with_schema_and_split(tmp_path):
    ctx = _context(tmp_path, _csv(tmp_path, _frame()))

    schema = steps.import_data(ctx)

    assert schema.n_rows == 40
    train, holdout = ctx.split()
    assert len(train) + len(holdout) == 40 and not set(train) & set(holdout)
    assert ctx.lakehouse.exists("t")
    assert list(ctx.real().columns) == ["a", "b", "who"]


def test_missing_source_is_refused(tmp_path):
    ctx = _context(tmp_path, tmp_path / "t.csv")

    with pytest.raises(SourceError, match="does not exist"):
        steps.import_data(ctx)


def test_unreadable_source_names_the_table(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    ctx = _context(tmp_path, path)

    with pytest.raises(SourceError, match="Cannot read table 't'"):
        steps.import_data(ctx)


def test_empty_table_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n")
    ctx = _context(tmp_path, path)

    with pytest.raises(DataError, match="Table 't' is empty"):
        steps.import_data(ctx)


def test_too_small_table_is_refused(tmp_path):
    ctx = _context(tmp_path, _csv(tmp_path, _frame(10)))

    with pytest.raises(DataError, match="has 10 rows; at least 20"):
        steps.import_data(ctx)


def test_label_that_is_not_a_column_is_refused(tmp_path):
    ctx = _context(tmp_path, _csv(tmp_path, _frame()), tables={"t": {"label_variable": "target"}})

    with pytest.raises(DataError, match="Label 'target' is not a column of table 't'") as error:
        steps.import_data(ctx)
    assert error.value.table == "t" and error.value.column == "target"
    assert not ctx.lakehouse.exists("t")


def test_single_valued_label_is_refused_without_quoting_the_value(tmp_path):
    frame = _frame().assign(who=SECRET_VALUE)
    ctx = _context(tmp_path, _csv(tmp_path, frame), tables={"t": {"label_variable": "who"}})

    with pytest.raises(DataError, match="Label 'who' of table 't' has a single value") as error:
        steps.import_data(ctx)
    assert SECRET_VALUE not in str(error.value)


def test_duplicate_column_names_are_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,a\n" + "\n".join(f"{i},{SECRET_VALUE},{i}" for i in range(30)) + "\n")
    ctx = _context(tmp_path, path)

    with pytest.raises(DataError, match="more than one column named 'a'") as error:
        steps.import_data(ctx)
    assert SECRET_VALUE not in str(error.value)


def test_empty_and_constant_columns_are_warnings_not_errors(tmp_path):
    frame = _frame().assign(blank=None, same="k")
    ctx = _context(tmp_path, _csv(tmp_path, frame))

    schema = steps.import_data(ctx)

    assert schema.column("blank").kind == "empty" and schema.column("same").kind == "constant"
    assert any("'blank'" in warning and "entirely empty" in warning for warning in schema.warnings)


def test_unknown_notebook_parameter_is_named(tmp_path):
    ctx = _context(tmp_path, _csv(tmp_path, _frame()))

    with pytest.raises(ConfigError, match="parameter 'epochs'"):
        steps.validate(table="t", run_dir=str(ctx.run_dir), epochs=3)


def test_run_dir_without_parameters_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="is not a run folder"):
        steps.validate(table="t", run_dir=str(tmp_path))


def test_a_third_party_error_message_is_withheld(tmp_path, monkeypatch):
    ctx = _context(tmp_path, _csv(tmp_path, _frame()))
    steps.import_data(ctx)

    def leaky(*args, **kwargs):
        raise ValueError(f"could not convert string to float: '{SECRET_VALUE}'")

    monkeypatch.setattr(steps, "summarize_lakehouse", leaky)

    with pytest.raises(StepError, match="ValueError in step summary_raw_data for table 't'") as error:
        steps.summarize_real(ctx)
    assert SECRET_VALUE not in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__
