"""The synthesizer: real CTGAN training with toy settings, checked on ranges and types."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from synthlake.errors import DataError, IntegrityError
from synthlake.schema import infer_schema
from synthlake.synthesis import Synthesizer

pytestmark = pytest.mark.slow

EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
TOY = {"epochs": 1, "batch_size": 40, "cuda": False}


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Toy networks train several times faster on one thread (no spinning on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def fitted(frame: pd.DataFrame, seed: int = 42, table: str = "customers") -> tuple[Synthesizer, pd.DataFrame]:
    """A synthesizer trained on ``frame`` (after schema inference), and the converted frame."""
    schema, real = infer_schema(frame, table)
    return Synthesizer(schema, seed=seed, **TOY).fit(real), real


def test_sample_restores_columns_types_and_ranges(mixed_frame: pd.DataFrame) -> None:
    synthesizer, real = fitted(mixed_frame)

    synthetic = synthesizer.sample(200)

    assert list(synthetic.columns) == list(mixed_frame.columns)
    assert len(synthetic) == 200
    # types
    assert pd.api.types.is_datetime64_any_dtype(synthetic["joined"])
    assert isinstance(synthetic["active"].dtype, pd.BooleanDtype)
    assert pd.api.types.is_integer_dtype(synthetic["age"])
    assert pd.api.types.is_integer_dtype(synthetic["children"])
    assert pd.api.types.is_float_dtype(synthetic["income"])
    assert synthetic["email"].map(type).eq(str).all()
    # missing values: learned where the real column has gaps, nowhere else
    assert synthetic["age"].isna().any()
    assert synthetic[["income", "group", "children", "active", "joined", "email"]].notna().all().all()
    # identifiers: regenerated, never copied
    assert synthetic["email"].str.match(EMAIL).all()
    assert synthetic["email"].is_unique
    assert not set(synthetic["email"]) & set(mixed_frame["email"])
    assert synthetic["customer_id"].is_unique
    # carried columns
    assert synthetic["country"].eq("NL").all()
    assert synthetic["notes"].isna().all()
    # labels come from the real column
    assert set(synthetic["group"]) <= set(real["group"])
    assert set(synthetic["active"]) <= {True, False}
    # numbers stay in range and keep their precision
    for name in ("age", "income", "children"):
        values = synthetic[name].dropna().astype("float64")
        assert values.between(real[name].min(), real[name].max()).all(), name
    for name in ("age", "children"):
        values = synthetic[name].dropna().astype("float64")
        assert (values % 1 == 0).all(), name
    income = synthetic["income"].to_numpy()
    assert np.allclose(income, np.round(income, 2), rtol=0, atol=1e-9)
    # dates stay in range and stay dates
    joined = synthetic["joined"]
    assert joined.between(real["joined"].min(), real["joined"].max()).all()
    assert (joined == joined.dt.normalize()).all()


def test_same_seed_same_table_other_seed_other_table(mixed_frame: pd.DataFrame) -> None:
    first = fitted(mixed_frame, seed=7)[0].sample(60)
    again = fitted(mixed_frame, seed=7)[0].sample(60)
    other = fitted(mixed_frame, seed=8)[0].sample(60)

    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    assert not first["income"].equals(other["income"])
    assert not first["email"].equals(other["email"])


def test_cached_transformer_gives_the_same_table_and_is_reused(mixed_frame: pd.DataFrame, tmp_path: Path) -> None:
    schema, real = infer_schema(mixed_frame, "customers")
    plain = Synthesizer(schema, seed=7, **TOY).fit(real).sample(60)
    first = Synthesizer(schema, seed=7, transformer_cache=tmp_path, **TOY).fit(real)
    second = Synthesizer(schema, seed=7, transformer_cache=tmp_path, **TOY).fit(real)

    assert (first.transformer_reused, second.transformer_reused) == (False, True)
    assert second.get_parameters()["transformer_reused"] is True
    pd.testing.assert_frame_equal(first.sample(60), plain)
    pd.testing.assert_frame_equal(second.sample(60), plain)


def test_parameters_save_and_load(mixed_frame: pd.DataFrame, tmp_path: Path) -> None:
    synthesizer, _ = fitted(mixed_frame)
    path = tmp_path / "model" / "synthesizer.pkl"

    parameters = synthesizer.get_parameters()
    digest = synthesizer.save(path)

    assert {"group", "children", "active"} <= set(parameters["discrete_columns"])
    assert not {"income", "joined", "email", "country"} & set(parameters["discrete_columns"])
    assert parameters["identifier_columns"] == ["customer_id", "email"]
    assert parameters["carried_columns"] == ["country", "notes"]
    assert (parameters["epochs"], parameters["batch_size"], parameters["pac"]) == (1, 40, 10)
    assert parameters["training_rows"] == len(mixed_frame)
    assert parameters["device"] == "cpu"
    assert parameters["fit_seconds"] > 0

    assert len(digest) == 64 and int(digest, 16) >= 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["synthesizer.pkl"]  # no temporary file left
    loaded = Synthesizer.load(path, expected_sha256=digest)
    pd.testing.assert_frame_equal(loaded.sample(30), synthesizer.sample(30))
    assert loaded.get_parameters() == parameters
    with pytest.raises(IntegrityError, match="SHA-256"):
        Synthesizer.load(path, expected_sha256="0" * 64)
    with open(path, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(IntegrityError):
        Synthesizer.load(path, expected_sha256=digest)


@pytest.mark.parametrize("batch_size", [25, 15, 333])
def test_batch_size_must_be_a_multiple_of_ten(mixed_frame: pd.DataFrame, batch_size: int) -> None:
    schema, _ = infer_schema(mixed_frame, "customers")

    with pytest.raises(ValueError, match="multiple of 10"):
        Synthesizer(schema, epochs=1, batch_size=batch_size)


def test_table_without_a_learnable_column_is_a_data_error() -> None:
    frame = pd.DataFrame(
        {"email": [f"user{i}@example.com" for i in range(30)], "country": ["NL"] * 30, "notes": [None] * 30}
    )
    schema, real = infer_schema(frame, "contacts")

    with pytest.raises(DataError, match="'contacts'") as caught:
        Synthesizer(schema, **TOY).fit(real)
    assert caught.value.table == "contacts"


def test_sample_before_fit_is_refused(mixed_frame: pd.DataFrame) -> None:
    schema, _ = infer_schema(mixed_frame, "customers")

    with pytest.raises(RuntimeError, match="fit"):
        Synthesizer(schema, **TOY).sample(5)


def test_sample_zero_rows_keeps_the_columns() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=40).round(3), "g": rng.choice(["a", "b"], 40)})
    synthesizer, _ = fitted(frame, table="tiny")

    empty = synthesizer.sample(0)

    assert list(empty.columns) == ["x", "g"]
    assert len(empty) == 0


def test_discrete_whole_numbers_without_gaps_stay_int64() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=40).round(3), "children": rng.integers(0, 4, 40)})
    synthesizer, real = fitted(frame, table="tiny")

    synthetic = synthesizer.sample(20)

    assert real["children"].dtype == "int64"
    assert synthetic["children"].dtype == real["children"].dtype


@pytest.mark.slow
def test_probe_measures_steps_and_predicts_a_fit(mixed_frame: pd.DataFrame) -> None:
    from synthlake.synthesis import predict_fit_seconds, probe

    schema, typed = infer_schema(mixed_frame, "customers")

    probed = probe(schema, typed, batch_size=20, seed=1)

    assert probed["seconds_per_step"] > 0 and probed["transform_seconds_per_row"] >= 0
    assert probed["probe_rows"] == len(typed)  # fewer rows than a probe sample: all of them
    longer = predict_fit_seconds(probed, n_rows=1_000, epochs=20, batch_size=20)
    shorter = predict_fit_seconds(probed, n_rows=1_000, epochs=10, batch_size=20)
    assert longer == pytest.approx(shorter + 10 * 50 * probed["seconds_per_step"])


def test_sampling_with_another_seed_draws_other_rows_and_refresh_keeps_identifiers_unique(
    mixed_frame: pd.DataFrame,
) -> None:
    synthesizer, _ = fitted(mixed_frame)

    first, other = synthesizer.sample(30), synthesizer.sample(30, seed=7)
    joined = synthesizer.refresh_identifiers(pd.concat([first, first], ignore_index=True))

    assert not first.drop(columns=["customer_id", "email"]).equals(other.drop(columns=["customer_id", "email"]))
    assert joined["email"].is_unique and joined["customer_id"].is_unique


@pytest.mark.parametrize("engine", ["tvae", "gaussian_copula"])
def test_other_engines_share_the_column_handling(mixed_frame: pd.DataFrame, engine: str) -> None:
    schema, real = infer_schema(mixed_frame, "customers")
    synthesizer = Synthesizer(schema, seed=3, engine=engine, **TOY).fit(real)

    synthetic = synthesizer.sample(150)

    assert list(synthetic.columns) == list(mixed_frame.columns)
    assert pd.api.types.is_datetime64_any_dtype(synthetic["joined"])
    assert isinstance(synthetic["active"].dtype, pd.BooleanDtype)
    assert synthetic["email"].is_unique and not set(synthetic["email"]) & set(mixed_frame["email"])
    assert synthetic["income"].between(real["income"].min(), real["income"].max()).all()
    assert set(synthetic["group"].dropna()) <= set(real["group"])
    assert synthesizer.get_parameters()["synthesizer"] == engine
    assert synthesizer.sample(150).equals(synthetic)  # reproducible


def test_unknown_engine_is_refused(mixed_frame: pd.DataFrame) -> None:
    schema, _ = infer_schema(mixed_frame, "customers")

    with pytest.raises(ValueError, match="engine must be one of ctgan, tvae, gaussian_copula"):
        Synthesizer(schema, engine="gan9000")


def test_early_stopping_is_recorded(mixed_frame: pd.DataFrame) -> None:
    schema, real = infer_schema(mixed_frame, "customers")

    synthesizer = Synthesizer(schema, seed=1, epochs=6, batch_size=40, cuda=False).fit(real)

    facts = synthesizer.get_parameters()
    assert facts["early_stopping"] is True
    assert 1 <= facts["epochs_trained"] <= 6
    assert facts["validation_checks"] >= 1 and 0 < facts["best_validation_score"] <= 1
    assert facts["best_epoch"] is not None and facts["best_epoch"] < facts["epochs_trained"]
