"""The run loop, with an in-process runner standing in for papermill (fast).

The notebooks themselves are executed for real in test_pipeline.py.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthlake import steps
from synthlake.config import build_config
from synthlake.errors import ConfigError, RunExistsError
from synthlake.orchestration import Manifest, Orchestrator, RunLock, check_notebook_parameters, summary_lines
from synthlake.products import read_json

STEP_OF = {
    "01_import_data_to_lakehouse": lambda ctx: steps.import_data(ctx),
    "02_summary_raw_data": steps.summarize_real,
    "03_gpt_prompting_configuration": steps.choose_hyperparameters,
    "04_synthetic_data_generation": steps.generate_synthetic,
    "05_summary_synthetic_data": steps.summarize_synthetic,
    "06_report_prompting": steps.prepare_prompt,
    "07_gpt_prompting": steps.write_narrative,
    "08_decision_tree_classifier": lambda ctx: steps.train_decision_tree(ctx, task="classification"),
    "08_decision_tree_regressor": lambda ctx: steps.train_decision_tree(ctx, task="regression"),
    "09_generate_reports": steps.generate_report,
}


class InProcessRunner:
    """Runs the step function a notebook would call; records calls; can fail on demand."""

    def __init__(self, fail: set[tuple[str, str]] | None = None):
        self.calls: list[tuple[str, str]] = []
        self.fail = fail or set()

    def __call__(self, source: Path, output: Path, parameters: dict, cwd: Path, progress: bool) -> None:
        key = (parameters["table"], source.stem)
        self.calls.append(key)
        if key in self.fail:
            raise RuntimeError(f"planned failure in {source.stem}")
        output.write_text("{}")
        STEP_OF[source.stem](steps.validate(**parameters))


def _source(folder: Path) -> Path:
    rng = np.random.default_rng(1)
    n = 60
    x = rng.normal(0, 1, n)
    folder.mkdir()
    pd.DataFrame({"x": x, "y": 2 * x + rng.normal(0, 0.1, n), "g": rng.choice(["a", "b"], n)}).to_csv(
        folder / "alpha.csv", index=False
    )
    pd.DataFrame({"v": rng.integers(0, 100, n), "w": rng.choice(["p", "q", "r"], n)}).to_csv(
        folder / "beta.csv", index=False
    )
    return folder


@pytest.fixture
def config(tmp_path: Path):
    source = _source(tmp_path / "source")
    return build_config(
        {
            "source": str(source),
            "destination": str(tmp_path / "lake"),
            "output_dir": str(tmp_path / "runs"),
            "epochs": 1,
            "batch_size": 20,
            "synthetic_dataset_len": 40,
            "progress": False,
            "tables": {"alpha": {"label_variable": "y"}},
        }
    )


def test_run_completes_every_table_and_branches_per_label(config):
    runner = InProcessRunner()

    manifest = Orchestrator(config, "r1", runner=runner).run()

    assert manifest.data["status"] == "completed"
    alpha, beta = manifest.data["tables"]["alpha"], manifest.data["tables"]["beta"]
    assert alpha["model_step"] == "decision_tree_regressor"
    assert beta["model_step"] is None and beta["steps"]["decision_tree"]["status"] == "skipped"
    assert ("alpha", "08_decision_tree_regressor") in runner.calls
    assert not any(table == "beta" and stem.startswith("08") for table, stem in runner.calls)
    for step in alpha["steps"].values():
        assert step["status"] == "completed"
        assert all(len(digest) == 64 for digest in step["products"].values())
    assert manifest.data["versions"]["ctgan"]


def test_a_failed_table_does_not_stop_the_others(config):
    runner = InProcessRunner(fail={("alpha", "04_synthetic_data_generation")})

    manifest = Orchestrator(config, "r2", runner=runner).run()

    alpha = manifest.data["tables"]["alpha"]
    assert manifest.data["status"] == "failed"
    assert alpha["status"] == "failed" and alpha["failed_step"] == "synthetic_data_generation"
    assert alpha["error"]["type"] == "RuntimeError"
    assert alpha["steps"]["generate_reports"]["status"] == "not run"
    assert manifest.data["tables"]["beta"]["status"] == "completed"
    assert any("alpha: failed at synthetic_data_generation" in line for line in summary_lines(manifest))


def test_a_table_failing_the_privacy_gate_is_quarantined_and_the_run_says_so(config, monkeypatch):
    from synthlake.synthesis import Synthesizer

    def leaky_sample(self, num_rows, *, seed=None):  # returns training rows, as a memorising model would
        return self._training.sample(num_rows, replace=True, random_state=0).reset_index(drop=True)

    original_fit = Synthesizer.fit

    def fit(self, frame):
        self._training = frame.reset_index(drop=True)
        return original_fit(self, frame)

    monkeypatch.setattr(Synthesizer, "fit", fit)
    monkeypatch.setattr(Synthesizer, "sample", leaky_sample)

    manifest = Orchestrator(config, "rq", runner=InProcessRunner()).run()

    assert manifest.data["status"] == "quarantined"
    for name, info in manifest.data["tables"].items():
        assert info["status"] == "quarantined", name
        assert info["released"] is False and info["quarantine_reasons"]
        assert info["evaluation"]["verdict"]["privacy"] == "fail"
        assert "/Quarantine/" in info["quarantine_path"]
        assert info["steps"]["generate_reports"]["status"] == "completed"  # the report says why
    assert any("QUARANTINED" in line for line in summary_lines(manifest))


def test_manifest_records_the_verdict_of_a_released_table(config):
    manifest = Orchestrator(config, "rv", runner=InProcessRunner()).run()

    alpha = manifest.data["tables"]["alpha"]
    assert alpha["released"] is True
    assert set(alpha["evaluation"]["verdict"]) == {"fidelity", "utility", "privacy", "overall"}
    assert 0 <= alpha["evaluation"]["quality_score"] <= 1
    assert alpha["evaluation"]["dcr_share"] <= alpha["evaluation"]["dcr_threshold"]


@pytest.mark.slow
def test_tables_run_in_worker_processes(config):
    manifest = Orchestrator(config, "rw", runner=InProcessRunner(), workers=2).run()

    assert manifest.data["status"] == "completed"
    on_disk = Manifest.load(manifest.path.parent).data
    for table in ("alpha", "beta"):
        assert on_disk["tables"][table]["status"] == "completed"
        assert on_disk["tables"][table]["steps"]["generate_reports"]["status"] == "completed"
        assert not (manifest.path.parent / table / "manifest.part.json").exists()
    assert on_disk["tables"]["alpha"]["model_step"] == "decision_tree_regressor"


@pytest.mark.slow
def test_a_failing_table_in_a_worker_does_not_stop_the_other(config):
    runner = InProcessRunner(fail={("alpha", "02_summary_raw_data")})

    manifest = Orchestrator(config, "rwf", runner=runner, workers=2).run()

    assert manifest.data["tables"]["alpha"]["status"] == "failed"
    assert manifest.data["tables"]["beta"]["status"] == "completed"
    assert manifest.data["status"] == "failed"


def test_an_interrupted_workers_record_is_merged_on_resume(config):
    orchestrator = Orchestrator(config, "rp", runner=InProcessRunner())
    manifest = orchestrator.start()
    part = json.loads(json.dumps(manifest.data))
    part["tables"]["beta"]["status"] = "running"
    part["tables"]["beta"]["steps"]["import_data_to_lakehouse"] = {"status": "completed", "products": {}}
    (orchestrator.run_dir / "beta").mkdir()
    (orchestrator.run_dir / "beta" / "manifest.part.json").write_text(json.dumps(part))

    loaded = Manifest.load(orchestrator.run_dir)

    assert loaded.data["tables"]["beta"]["steps"]["import_data_to_lakehouse"]["status"] == "completed"
    assert loaded.data["tables"]["alpha"]["steps"] == {}


def test_resume_reruns_only_what_did_not_complete(config):
    Orchestrator(config, "r3", runner=InProcessRunner(fail={("alpha", "05_summary_synthetic_data")})).run()
    runner = InProcessRunner()

    manifest = Orchestrator(config, "r3", runner=runner).run(resume=True)

    assert manifest.data["status"] == "completed"
    assert [stem for table, stem in runner.calls if table == "alpha"] == [
        "05_summary_synthetic_data", "08_decision_tree_regressor", "06_report_prompting",
        "07_gpt_prompting", "09_generate_reports",
    ]  # fmt: skip
    assert not [call for call in runner.calls if call[0] == "beta"]
    assert len(manifest.data["resumed"]) == 1


def test_resume_reruns_a_step_whose_product_changed(config):
    orchestrator = Orchestrator(config, "r4", runner=InProcessRunner())
    orchestrator.run()
    (orchestrator.run_dir / "beta" / "summary_synthetic_data.csv").write_text("tampered")
    runner = InProcessRunner()

    Orchestrator(config, "r4", runner=runner).run(resume=True)

    assert [stem for _, stem in runner.calls] == [
        "05_summary_synthetic_data",
        "06_report_prompting",
        "07_gpt_prompting",
        "09_generate_reports",
    ]


def test_resume_reruns_from_the_step_whose_delta_table_changed(config):
    from deltalake import write_deltalake

    orchestrator = Orchestrator(config, "r5", runner=InProcessRunner())
    orchestrator.run()
    release = read_json(orchestrator.run_dir / "beta" / "release.json")
    write_deltalake(release["delta_path"], pd.DataFrame({"x": [1]}), mode="overwrite", schema_mode="overwrite")
    runner = InProcessRunner()

    Orchestrator(config, "r5", runner=runner).run(resume=True)

    assert [stem for _, stem in runner.calls][0] == "04_synthetic_data_generation"
    assert {table for table, _ in runner.calls} == {"beta"}


def test_a_lock_left_by_a_killed_run_is_taken_over(config):
    orchestrator = Orchestrator(config, "killed", runner=InProcessRunner())
    orchestrator.start()
    (orchestrator.run_dir / "run.lock").write_text("999999999\n")  # no such process

    manifest = orchestrator.run(resume=True)

    assert manifest.data["status"] == "completed"
    assert not (orchestrator.run_dir / "run.lock").exists()


def test_a_second_run_into_the_same_folder_refuses(config):
    Orchestrator(config, "same", runner=InProcessRunner()).start()

    with pytest.raises(RunExistsError, match="already exists"):
        Orchestrator(config, "same", runner=InProcessRunner()).start()


def test_a_locked_run_folder_refuses_a_concurrent_run(config, tmp_path):
    orchestrator = Orchestrator(config, "locked", runner=InProcessRunner())
    orchestrator.start()

    with RunLock(orchestrator.run_dir):
        with pytest.raises(RunExistsError, match="in use"):
            orchestrator.run(resume=True)


def test_resume_of_a_missing_run_is_refused(config):
    with pytest.raises(ConfigError, match="does not exist"):
        Orchestrator(config, "nope", runner=InProcessRunner()).run(resume=True)


def test_unknown_notebook_parameter_is_refused_by_name():
    source = Path(__file__).resolve().parent.parent / "notebooks" / "02_summary_raw_data.ipynb"

    with pytest.raises(ConfigError, match="no parameter 'epochs'"):
        check_notebook_parameters(source, {"table": "t", "run_dir": "/tmp", "epochs": 3})


def test_manifest_holds_parameters_but_no_secret(config, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-0123456789")
    orchestrator = Orchestrator(config, "r5", runner=InProcessRunner())

    orchestrator.run()

    text = (orchestrator.run_dir / "manifest.json").read_text()
    assert "sk-canary" not in text
    assert Manifest.load(orchestrator.run_dir).data["parameters"]["seed"] == 42
    for path in orchestrator.run_dir.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".csv", ".md"}:
            assert "sk-canary" not in path.read_text(errors="ignore"), path


def test_workers_keep_their_kernels_to_a_share_of_the_cores(monkeypatch):
    from synthlake import orchestration

    for name in orchestration.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")  # set by the user: kept

    orchestration._init_worker(logging.INFO, 1)

    assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["MKL_NUM_THREADS"] == "3"
