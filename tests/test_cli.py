"""The command line: options become parameter overrides; errors exit with code 2."""

from __future__ import annotations

import pytest

from synthlake import cli
from synthlake.errors import ConfigError


def test_options_become_nested_overrides():
    args = cli.parser().parse_args(
        ["--tables", "a, b", "--label", "a=y", "--label", "b=z", "--epochs", "5", "--batch-size", "40",
         "--hyperparameters", "openai", "--narrative", "openai", "--seed", "7", "--synthetic-dataset-len", "9",
         "--no-progress", "--synthesizer", "tvae", "--no-early-stopping"]
    )  # fmt: skip

    overrides = cli.overrides_from(args)

    assert overrides == {
        "include": ["a", "b"],
        "tables": {"a": {"label_variable": "y"}, "b": {"label_variable": "z"}},
        "epochs": 5,
        "batch_size": 40,
        "hyperparameters": {"provider": "openai"},
        "narrative": {"provider": "openai"},
        "seed": 7,
        "synthetic_dataset_len": 9,
        "progress": False,
        "synthesizer": "tvae",
        "early_stopping": False,
    }


def test_malformed_label_option_is_refused():
    with pytest.raises(ConfigError, match="TABLE=COLUMN"):
        cli.overrides_from(cli.parser().parse_args(["--label", "nocolumn"]))


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for option in (
        "--params",
        "--source",
        "--destination",
        "--output-dir",
        "--run-id",
        "--resume",
        "--tables",
        "--label",
        "--synthetic-dataset-len",
        "--epochs",
        "--batch-size",
        "--hyperparameters",
        "--synthesizer",
        "--no-early-stopping",
        "--seed",
    ):
        assert option in text  # fmt: skip


def test_missing_source_exits_2_before_any_work(tmp_path, caplog):
    code = cli.main(["--source", str(tmp_path / "nowhere"), "--output-dir", str(tmp_path / "runs")])

    assert code == 2
    assert "does not exist" in caplog.text
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unknown_parameter_in_file_exits_2(tmp_path, caplog):
    params = tmp_path / "p.yaml"
    params.write_text(f"source: {tmp_path}\nepochz: 3\n")

    assert cli.main(["--params", str(params)]) == 2
    assert "unknown parameter 'epochz'" in caplog.text


def test_bad_batch_size_exits_2(tmp_path, caplog):
    assert cli.main(["--source", str(tmp_path), "--batch-size", "25"]) == 2
    assert "multiple of 10" in caplog.text


def _two_tables(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "first.csv").write_text("a,b\n" + "1,x\n" * 30)
    (source / "second.csv").write_text("c,d\n" + "2,y\n" * 30)
    return source


def test_a_label_that_is_no_column_stops_the_run_before_any_table_trains(tmp_path, caplog):
    source = _two_tables(tmp_path)
    runs = tmp_path / "runs"

    code = cli.main(["--source", str(source), "--output-dir", str(runs), "--label", "second=missing", "--no-progress"])

    assert code == 2
    assert "Label 'missing' is not a column of table 'second'" in caplog.text
    assert not runs.exists() or not any(runs.iterdir())  # nothing ran, not even the first table


def test_a_label_for_a_table_the_source_lacks_exits_2(tmp_path, caplog):
    source = _two_tables(tmp_path)

    assert cli.main(["--source", str(source), "--output-dir", str(tmp_path / "runs"), "--label", "frist=a"]) == 2
    assert "--label names table 'frist'" in caplog.text and "first, second" in caplog.text


def test_a_file_whose_name_cannot_be_a_table_exits_2(tmp_path, caplog):
    source = tmp_path / "source"
    source.mkdir()
    (source / "Sales 2024.csv").write_text("a,b\n" + "1,x\n" * 30)

    assert cli.main(["--source", str(source), "--output-dir", str(tmp_path / "runs")]) == 2
    assert "Table 'Sales 2024'" in caplog.text and "rename the file" in caplog.text
