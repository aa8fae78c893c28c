"""Run parameters: YAML loading, strict validation, merging and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthlake.config import build_config, load_config, read_parameters_file
from synthlake.errors import ConfigError


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_config_reads_yaml(tmp_path):
    path = write_yaml(
        tmp_path,
        "source: data/in\nepochs: 5\nbatch_size: 20\ntables:\n  patients:\n    label_variable: outcome\n",
    )

    config = load_config(path)

    assert config.source == "data/in"
    assert config.epochs == 5
    assert config.batch_size == 20
    assert config.tables["patients"].label_variable == "outcome"


def test_overrides_win_over_file_values(tmp_path):
    path = write_yaml(tmp_path, "source: a\nseed: 1\ntables:\n  t:\n    epochs: 3\n    label_variable: y\n")

    config = load_config(path, {"seed": 7, "tables": {"t": {"epochs": 9}}})

    assert config.seed == 7
    assert config.tables["t"].epochs == 9
    assert config.tables["t"].label_variable == "y"  # nested merge keeps siblings


def test_unknown_top_level_parameter_is_named():
    with pytest.raises(ConfigError) as caught:
        build_config({"source": "a", "epochz": 3})

    assert "unknown parameter 'epochz'" in str(caught.value)


def test_unknown_nested_parameter_is_named_with_its_path():
    with pytest.raises(ConfigError) as caught:
        build_config({"source": "a", "tables": {"t": {"labl_variable": "y"}}})

    assert "'tables.t.labl_variable'" in str(caught.value)
    assert "unknown parameter" in str(caught.value)


def test_secret_looking_parameter_points_to_the_environment():
    with pytest.raises(ConfigError) as caught:
        build_config({"source": "a", "llm": {"api_key": "sk-not-a-real-key"}})

    message = str(caught.value)
    assert "'llm.api_key'" in message
    assert "OPENAI_API_KEY" in message and "environment" in message
    assert "sk-not-a-real-key" not in message


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"source": "a", "batch_size": 25}, "'batch_size'"),
        ({"source": "a", "tables": {"t": {"batch_size": 55}}}, "'tables.t.batch_size'"),
    ],
)
def test_batch_size_must_be_a_multiple_of_ten(data, where):
    with pytest.raises(ConfigError) as caught:
        build_config(data)

    assert where in str(caught.value)
    assert "multiple of 10" in str(caught.value)


def test_out_of_range_value_is_named():
    with pytest.raises(ConfigError, match="holdout_fraction"):
        build_config({"source": "a", "holdout_fraction": 0.95})


def test_table_merges_run_defaults_with_table_overrides():
    config = build_config(
        {
            "source": "a",
            "synthetic_dataset_len": 500,
            "epochs": 50,
            "batch_size": 100,
            "tables": {"t": {"epochs": 7, "label_variable": "y"}},
        }
    )

    merged = config.table("t")
    other = config.table("not_listed")

    assert (merged.synthetic_dataset_len, merged.epochs, merged.batch_size) == (500, 7, 100)
    assert merged.label_variable == "y"
    assert (other.synthetic_dataset_len, other.epochs, other.batch_size) == (500, 50, 100)
    assert config.tables["t"].batch_size is None  # the stored settings are not changed


def test_with_absolute_paths_keeps_sql_url(tmp_path):
    config = build_config({"source": "sqlite:///data/db.sqlite", "destination": "lake", "output_dir": "runs"})

    absolute = config.with_absolute_paths(tmp_path)

    assert absolute.source == "sqlite:///data/db.sqlite"
    assert absolute.destination == str((tmp_path / "lake").resolve())
    assert absolute.output_dir == str((tmp_path / "runs").resolve())


def test_with_absolute_paths_resolves_file_source(tmp_path):
    config = build_config({"source": "data/in.csv"})

    assert config.with_absolute_paths(tmp_path).source == str((tmp_path / "data/in.csv").resolve())


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_parameters_file(tmp_path / "nope.yaml")


def test_bad_yaml_is_a_config_error(tmp_path):
    path = write_yaml(tmp_path, "source: [unclosed\n  epochs: : 3\n")

    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_yaml_that_is_not_a_mapping_is_a_config_error(tmp_path):
    path = write_yaml(tmp_path, "- just\n- a list\n")

    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)


def test_synthesizer_and_early_stopping_are_run_wide_with_table_overrides():
    config = build_config({"source": "a", "early_stopping": False, "tables": {"t": {"synthesizer": "gaussian_copula"}}})

    assert (config.table("t").synthesizer, config.table("t").early_stopping) == ("gaussian_copula", False)
    assert (config.table("other").synthesizer, config.table("other").early_stopping) == ("ctgan", False)


def test_unknown_synthesizer_is_named():
    with pytest.raises(ConfigError, match=r"tables\.t\.synthesizer"):
        build_config({"source": "a", "tables": {"t": {"synthesizer": "gan9000"}}})


def test_run_wide_override_wins_over_every_tables_own_value(tmp_path):
    path = write_yaml(
        tmp_path,
        "source: a\ntables:\n  t:\n    synthetic_dataset_len: 2000\n    epochs: 3\n    label_variable: y\n"
        "  u:\n    synthesizer: tvae\n",
    )

    config = load_config(path, {"synthetic_dataset_len": 100, "synthesizer": "gaussian_copula"})

    assert config.table("t").synthetic_dataset_len == 100  # --synthetic-dataset-len: every table
    assert config.table("u").synthesizer == "gaussian_copula"
    assert config.table("t").epochs == 3  # not given on the command line: the table's own value
    assert config.table("t").label_variable == "y"


def test_a_password_in_a_database_url_is_refused_and_named():
    with pytest.raises(ConfigError) as caught:
        build_config({"source": "postgresql://analyst:hunter2@db.internal/crm"})

    message = str(caught.value)
    assert "parameter 'source'" in message and "SYNTHLAKE_SOURCE_PASSWORD" in message
    assert "hunter2" not in message
    assert build_config({"source": "postgresql://analyst@db.internal/crm"}).source.endswith("/crm")


def test_epochs_and_batch_size_bounds_match_the_hyperparameter_check():
    from synthlake.hyperparameters import MAX_BATCH, MAX_EPOCHS

    assert build_config({"source": "a", "epochs": MAX_EPOCHS, "batch_size": MAX_BATCH}).epochs == MAX_EPOCHS
    for name, value in (("epochs", MAX_EPOCHS + 1), ("batch_size", MAX_BATCH + 10)):
        with pytest.raises(ConfigError, match=f"parameter '{name}'"):
            build_config({"source": "a", name: value})
