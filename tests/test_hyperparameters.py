"""CTGAN epochs and batch size: proposed, then checked."""

from __future__ import annotations

import pytest

from synthlake import hyperparameters
from synthlake.config import LLMSettings
from synthlake.hyperparameters import MAX_BATCH, MAX_EPOCHS, check, heuristic, propose


@pytest.mark.parametrize("n_rows", [20, 37, 99, 150, 1_000, 4_321, 50_000, 1_000_000])
@pytest.mark.parametrize("n_columns", [3, 40])
def test_heuristic_gives_valid_values(n_rows, n_columns):
    result = heuristic(n_rows, n_columns)

    assert result["batch_size"] % 10 == 0
    assert 20 <= result["batch_size"] <= min(n_rows, 500)
    assert 20 <= result["epochs"] <= 300
    assert str(n_rows) in result["reason"]


def test_heuristic_gives_wide_tables_more_epochs():
    assert heuristic(20_000, 40)["epochs"] > heuristic(20_000, 5)["epochs"]


def test_check_keeps_valid_values_without_notes():
    assert check(100, 50, n_rows=200) == (100, 50, [])


@pytest.mark.parametrize(
    ("epochs", "batch", "n_rows", "expected_epochs", "expected_batch"),
    [
        (100, 55, 200, 100, 50),  # odd, not a multiple of 10
        (100, 5_000, 230, 100, 230),  # larger than the rows
        (100, 10**7, 10**6, 100, MAX_BATCH),  # huge
        (-5, -20, 200, 1, 10),  # negative
        (10**6, 50, 200, MAX_EPOCHS, 50),  # too many epochs
    ],
)
def test_check_clamps_and_records_notes(epochs, batch, n_rows, expected_epochs, expected_batch):
    out_epochs, out_batch, notes = check(epochs, batch, n_rows)

    assert (out_epochs, out_batch) == (expected_epochs, expected_batch)
    assert out_batch % 10 == 0
    assert len(notes) == (out_epochs != epochs) + (out_batch != batch)
    if out_batch != batch:
        assert any(f"batch_size {batch} changed to {out_batch}" in note for note in notes)
    if out_epochs != epochs:
        assert any(f"epochs {epochs} clamped to {out_epochs}" in note for note in notes)


def test_propose_heuristic_records_its_source():
    record = propose(provider="heuristic", n_rows=400, table_facts={"rows": 500, "columns": 6})

    expected = heuristic(400, 6)
    assert (record["epochs"], record["batch_size"]) == (expected["epochs"], expected["batch_size"])
    assert record["source"] == "heuristic" and record["proposal"]["source"] == "heuristic"
    assert record["adjustments"] == []
    assert "prompt" not in record


def test_propose_small_table_gets_a_batch_within_its_rows():
    record = propose(provider="heuristic", n_rows=15, table_facts={"columns": 4})

    assert record["batch_size"] == 10
    assert record["adjustments"]  # the change from the heuristic's 20 is recorded


def test_explicit_values_win_and_are_checked():
    record = propose(provider="heuristic", n_rows=400, table_facts={"columns": 6}, epochs=7, batch_size=45)

    assert record["epochs"] == 7
    assert record["batch_size"] == 40
    assert record["source"] == "parameters"
    assert record["proposal"]["source"] == "heuristic"
    assert len(record["adjustments"]) == 1


def test_explicit_epochs_alone_keeps_the_proposed_batch():
    record = propose(provider="heuristic", n_rows=400, table_facts={"columns": 6}, epochs=3)

    assert (record["epochs"], record["batch_size"]) == (3, heuristic(400, 6)["batch_size"])
    assert record["source"] == "parameters"


def test_openai_without_a_key_falls_back_to_the_heuristic(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)

    record = propose(
        provider="openai", n_rows=400, table_facts={"rows": 500, "columns": 6}, llm=LLMSettings(base_url=None)
    )

    expected = heuristic(400, 6)
    assert (record["epochs"], record["batch_size"]) == (expected["epochs"], expected["batch_size"])
    assert record["source"] == "heuristic"
    assert record["fallback_reason"].startswith("ConfigError")
    assert "OPENAI_API_KEY" in record["fallback_reason"]
    assert record["prompt"][1]["content"].endswith("- rows: 500\n- columns: 6")


PROBED = {"seconds_per_step": 0.05, "transform_seconds_per_row": 0.0005, "probe_rows": 1000, "probe_seconds": 3.0}


def test_time_budget_lowers_epochs_to_fit():
    record = hyperparameters.propose(provider="heuristic", n_rows=20_000, table_facts={"columns": 5})
    assert record["epochs"] == 50 and record["batch_size"] == 500  # 40 steps an epoch

    budgeted = hyperparameters.fit_budget(record, minutes=1.0, probed=PROBED, n_rows=20_000)

    # 54 s of budget: 10 s transforming, then 44 s / (40 steps x 0.05 s) = 22 epochs
    assert budgeted["epochs"] == 22
    assert budgeted["time_budget"]["predicted_fit_seconds"] == pytest.approx(10 + 22 * 40 * 0.05)
    assert "lowered from 50 to 22" in budgeted["adjustments"][-1]


def test_time_budget_never_raises_epochs_and_keeps_explicit_ones():
    generous = hyperparameters.propose(provider="heuristic", n_rows=20_000, table_facts={"columns": 5})
    explicit = hyperparameters.propose(provider="heuristic", n_rows=20_000, table_facts={"columns": 5}, epochs=300)

    assert hyperparameters.fit_budget(generous, minutes=600, probed=PROBED, n_rows=20_000)["epochs"] == 50
    kept = hyperparameters.fit_budget(explicit, minutes=1.0, probed=PROBED, n_rows=20_000)
    assert kept["epochs"] == 300
    assert "explicit epochs 300 kept" in kept["time_budget"]["note"]


def test_a_budget_too_small_for_one_epoch_says_so():
    record = hyperparameters.propose(provider="heuristic", n_rows=20_000, table_facts={"columns": 5})

    budgeted = hyperparameters.fit_budget(record, minutes=0.1, probed=PROBED, n_rows=20_000)

    assert budgeted["epochs"] == 1
    assert "even one epoch" in budgeted["time_budget"]["note"]
