"""The release gate: a generator that returns training rows is quarantined; CTGAN is released."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthlake import steps
from synthlake.config import build_config
from synthlake.lakehouse import Lakehouse
from synthlake.products import read_json, write_json
from synthlake.synthesis import Synthesizer


def _table(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    x = rng.normal(50, 10, n)
    return pd.DataFrame(
        {
            "x": x.round(2),
            "y": (0.5 * x + rng.normal(0, 3, n)).round(2),
            "group": rng.choice(["a", "b", "c", "d"], n),
            "count": rng.integers(0, 500, n),
            "member_code": [f"M-{i:06d}" for i in range(n)],
        }
    )


def _prepared(tmp_path: Path, seed: int = 42, **privacy) -> steps.StepContext:
    """A context whose table is imported and whose hyperparameters are chosen (1 epoch)."""
    source = tmp_path / "t.csv"
    _table().to_csv(source, index=False)
    config = build_config(
        {"source": str(source), "destination": str(tmp_path / "lake"), "output_dir": str(tmp_path / "runs"),
         "epochs": 1, "batch_size": 100, "synthetic_dataset_len": 300, "progress": False, "privacy": privacy,
         "seed": seed}
    )  # fmt: skip
    run_dir = tmp_path / "runs" / "r"
    run_dir.mkdir(parents=True)
    write_json(run_dir / steps.RUN_PARAMETERS, config.public_dict())
    ctx = steps.validate(table="t", run_dir=str(run_dir))
    steps.import_data(ctx)
    steps.choose_hyperparameters(ctx)
    return ctx


@pytest.fixture
def leaky(monkeypatch):
    """CTGAN still trains, but sampling returns training rows: the worst generator there is."""

    def sample(self, num_rows, *, seed=None):
        rng = np.random.default_rng(seed or 0)
        return self._leaked.iloc[rng.integers(0, len(self._leaked), num_rows)].reset_index(drop=True)

    original_fit = Synthesizer.fit

    def fit(self, frame):
        self._leaked = frame.reset_index(drop=True)
        return original_fit(self, frame)

    monkeypatch.setattr(Synthesizer, "fit", fit)
    monkeypatch.setattr(Synthesizer, "sample", sample)


@pytest.mark.slow
def test_leaky_generator_is_quarantined(tmp_path, leaky):
    ctx = _prepared(tmp_path)

    record = steps.generate_synthetic(ctx)

    release = read_json(ctx.path("release.json"))
    assert record["released"] is False and release["released"] is False
    assert release["area"] == "Quarantine" and release["reasons"]
    assert not Lakehouse(ctx.config.destination).exists("t_synthetic")
    assert Lakehouse(ctx.config.destination, area="Quarantine").exists("t_synthetic")
    beside = read_json(Lakehouse(ctx.config.destination, area="Quarantine").table_path("t_synthetic.reasons.json"))
    assert beside["reasons"] == release["reasons"] and beside["table"] == "t"
    assert not ctx.released and len(ctx.synthetic()) == 300  # later steps read the quarantined table
    privacy = read_json(ctx.path("privacy.json"))
    assert privacy["identical_train_share"] == 1.0 and not privacy["passed"]


@pytest.mark.slow
def test_repair_cannot_launder_a_leaky_generator(tmp_path, leaky):
    ctx = _prepared(tmp_path, repair=True)

    steps.generate_synthetic(ctx)

    privacy = read_json(ctx.path("privacy.json"))
    assert privacy["repair"] and privacy["repair"][0]["copies"] == 300
    assert not read_json(ctx.path("release.json"))["released"]


@pytest.mark.slow
def test_repair_replaces_rows_that_hug_training_rows(tmp_path, monkeypatch):
    """Half the rows copy training rows, half are fresh: repair drops the copies and redraws."""
    original_fit, original_sample = Synthesizer.fit, Synthesizer.sample

    def fit(self, frame):
        self._leaked = frame.reset_index(drop=True)
        return original_fit(self, frame)

    def sample(self, num_rows, *, seed=None):
        fresh = original_sample(self, num_rows, seed=seed)
        if seed is not None:  # redraws are honest
            return fresh
        copies = self._leaked.sample(num_rows // 2, random_state=0)
        return pd.concat([copies, fresh.iloc[num_rows // 2 :]], ignore_index=True)

    monkeypatch.setattr(Synthesizer, "fit", fit)
    monkeypatch.setattr(Synthesizer, "sample", sample)
    ctx = _prepared(tmp_path, repair=True)

    record = steps.generate_synthetic(ctx)

    privacy = read_json(ctx.path("privacy.json"))
    assert privacy["repair"][0]["copies"] >= 150
    assert record["released"] is True and privacy["passed"]
    assert privacy["identical_train_share"] < 0.05
    assert Lakehouse(ctx.config.destination).exists("t_synthetic")
    assert len(ctx.synthetic()) == 300


@pytest.mark.slow
def test_ctgan_is_released(tmp_path):
    ctx = _prepared(tmp_path)

    record = steps.generate_synthetic(ctx)

    assert record["released"] is True, read_json(ctx.path("privacy.json"))["reasons"]
    assert Lakehouse(ctx.config.destination).exists("t_synthetic")
    assert not Lakehouse(ctx.config.destination, area="Quarantine").exists("t_synthetic")


@pytest.mark.slow
def test_large_tables_are_sampled_checked_and_written_in_frames(tmp_path, monkeypatch):
    from synthlake import synthesis

    monkeypatch.setattr(synthesis, "BATCH_ROWS", 140)  # 300 rows: frames of 140, 140 and 20
    ctx = _prepared(tmp_path, seed=3)

    record = steps.generate_synthetic(ctx)

    table = Lakehouse(ctx.config.destination).read("t_synthetic")
    assert record["synthetic_rows"] == 300 and len(table) == 300
    assert table["member_code"].is_unique  # unique identifiers stay unique across frames
    assert read_json(ctx.path("privacy.json"))["n_compared"] == 140  # the first frame stands for the table
    assert len(ctx.synthetic(max_rows=50)) == 50
