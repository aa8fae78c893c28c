"""End to end: the real notebooks, executed by papermill, on tiny tables (1 epoch).

One run covers a labelled table (regressor branch, model providers over HTTP), an
unlabelled table (model step skipped) and a broken table (fails at import while the
others go on). It then checks every product, the audit trail, and that no real
identifier value and no key leaked into any of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from openai_server import FakeOpenAIServer
from pdf2image import convert_from_path, pdfinfo_from_path

from synthlake import cli
from synthlake.lakehouse import Lakehouse

KEY = "sk-test-canary-7f3a9c"
HYPERPARAMETERS_ANSWER = json.dumps({"epochs": 3, "batch_size": 20, "reason": "small table"})
NARRATIVE_ANSWER = "## Summary\n\nThe synthetic table is a reasonable copy (model-written)."
PRODUCTS = [
    "schema.json", "split.json", "import.json", "summary_raw_data.csv", "hyperparameters.json", "synthesis.json",
    "model/synthesizer.pkl", "privacy.json", "release.json", "summary_synthetic_data.csv", "comparison.json",
    "evaluation.json", "prompt.json", "narrative.md", "narrative.json", "report.pdf",
]  # fmt: skip


def _answer(request: dict) -> str:
    return HYPERPARAMETERS_ANSWER if "response_format" in request else NARRATIVE_ANSWER


def _tables(folder: Path) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 60
    age = rng.integers(20, 80, n).astype(float)
    age[::10] = np.nan
    patients = pd.DataFrame(
        {
            "patient_email": [f"canary.patient{i}@hospital.example" for i in range(n)],
            "age": age,
            "ward": rng.choice(["A", "B", "C"], n),
            "admitted": pd.date_range("2023-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "score": np.round(rng.normal(50, 10, n), 1),
        }
    )
    visits = pd.DataFrame({"minutes": rng.integers(5, 90, 40), "kind": rng.choice(["phone", "visit"], 40)})
    # its label has one value: only the rows show it, so the table fails at import, not the pre-flight
    broken = pd.DataFrame({"x": rng.normal(size=30), "outcome": ["same"] * 30})
    folder.mkdir()
    patients.to_csv(folder / "patients.csv", index=False)
    visits.to_parquet(folder / "visits.parquet")
    broken.to_csv(folder / "broken.csv", index=False)
    return {"patients": patients, "visits": visits}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    real = _tables(root / "source")
    with pytest.MonkeyPatch.context() as patch, FakeOpenAIServer(responses=[_answer]) as server:
        patch.setenv("OPENAI_API_KEY", KEY)
        params = root / "params.yaml"
        params.write_text(
            yaml.safe_dump(
                {
                    "source": str(root / "source"),
                    "destination": str(root / "lake"),
                    "output_dir": str(root / "runs"),
                    "synthetic_dataset_len": 50,
                    "epochs": 1,
                    "progress": False,
                    "tables": {"patients": {"label_variable": "score"}, "broken": {"label_variable": "outcome"}},
                    "hyperparameters": {"provider": "openai"},
                    "narrative": {"provider": "openai"},
                    "llm": {"model": "test-model", "base_url": server.base_url, "max_retries": 0},
                }
            )
        )
        code = cli.main(["--params", str(params), "--run-id", "e2e"])
        requests = list(server.requests)
        again = [
            "--params",
            str(params),
            "--run-id",
            "again",
            "--tables",
            "visits",
            "--destination",
            str(root / "lake2"),
        ]
        code_again = cli.main(again)
    run_dir = root / "runs" / "e2e"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return {
        "code": code,
        "code_again": code_again,
        "dir": run_dir,
        "manifest": manifest,
        "real": real,
        "lake": root / "lake",
        "lake_again": root / "lake2",
        "requests": requests,
    }


def test_exit_code_and_manifest_say_which_table_failed(run):
    tables = run["manifest"]["tables"]

    assert run["code"] == 1
    assert tables["patients"]["status"] == "completed"
    assert tables["visits"]["status"] == "completed"
    assert tables["broken"]["status"] == "failed"
    assert tables["broken"]["failed_step"] == "import_data_to_lakehouse"
    assert tables["broken"]["error"]["type"] == "DataError"
    assert "Label 'outcome' of table 'broken' has a single value" in tables["broken"]["error"]["message"]
    assert tables["broken"]["error"]["cell"] is not None


def test_branching_follows_the_label(run):
    tables = run["manifest"]["tables"]

    assert tables["patients"]["model_step"] == "decision_tree_regressor"
    assert tables["visits"]["model_step"] is None
    assert tables["visits"]["steps"]["decision_tree"]["status"] == "skipped"
    metrics = json.loads((run["dir"] / "patients" / "model_metrics.json").read_text())
    assert metrics["task"] == "regression" and set(metrics["synthetic"]) == {"r2", "mae", "rmse"}


@pytest.mark.parametrize("table", ["patients", "visits"])
def test_every_product_exists_and_is_recorded(run, table):
    folder = run["dir"] / table
    recorded = {
        name: digest for step in run["manifest"]["tables"][table]["steps"].values()
        for name, digest in (step.get("products") or {}).items()
    }  # fmt: skip

    for name in PRODUCTS:
        assert (folder / name).is_file(), name
        assert name in recorded, name
    assert sorted(p.name for p in (folder / "notebooks").iterdir()) == sorted(
        f"{step}.ipynb" for step in [
            "01_import_data_to_lakehouse", "02_summary_raw_data", "03_gpt_prompting_configuration",
            "04_synthetic_data_generation", "05_summary_synthetic_data", "06_report_prompting", "07_gpt_prompting",
            "09_generate_reports", *(["08_decision_tree_regressor"] if table == "patients" else []),
        ]
    )  # fmt: skip


@pytest.mark.parametrize("table", ["patients", "visits"])
def test_report_opens_and_delta_tables_read_back(run, table):
    pdf = run["dir"] / table / "report.pdf"
    lake = Lakehouse(run["lake"])

    assert pdfinfo_from_path(str(pdf))["Pages"] >= 2
    assert convert_from_path(str(pdf), dpi=20, first_page=1, last_page=1)[0].size[0] > 0
    synthetic = lake.read(f"{table}_synthetic")
    assert len(synthetic) == 50
    assert list(synthetic.columns) == list(run["real"][table].columns)
    assert len(lake.read(table)) == len(run["real"][table])


def test_summaries_have_the_statistics(run):
    summary = pd.read_csv(run["dir"] / "patients" / "summary_raw_data.csv").set_index("column")

    for name in ("count", "missing", "mean", "std", "min", "p1", "p5", "p25", "p50", "p75", "p95", "p99", "max"):
        assert name in summary.columns
    assert summary.loc["age", "missing"] == 6
    assert summary.loc["patient_email", "kind"] == "identifier"


def test_model_providers_were_asked_over_http_without_rows(run):
    patients = run["real"]["patients"]
    bodies = json.dumps([request["json"] for request in run["requests"]])

    assert len(run["requests"]) >= 4  # hyperparameters and narrative, for two tables
    for email in patients["patient_email"]:
        assert email not in bodies
    hyperparameters = json.loads((run["dir"] / "patients" / "hyperparameters.json").read_text())
    assert hyperparameters["proposal"]["source"] == "openai"
    assert hyperparameters["epochs"] == 1 and hyperparameters["source"] == "parameters"
    assert "model-written" in (run["dir"] / "patients" / "narrative.md").read_text()


def test_no_executed_notebook_of_a_completed_table_has_an_error(run):
    for table in ("patients", "visits"):
        for path in (run["dir"] / table / "notebooks").glob("*.ipynb"):
            book = nbformat.read(path, as_version=4)
            errors = [out for cell in book.cells if cell.cell_type == "code" for out in cell.outputs
                      if out.output_type == "error"]  # fmt: skip
            assert not errors, f"{path.name}: {errors[0]['ename']}" if errors else ""


def test_failed_notebook_is_kept_with_the_failing_cell(run):
    book = nbformat.read(run["dir"] / "broken" / "notebooks" / "01_import_data_to_lakehouse.ipynb", as_version=4)

    errors = [out for cell in book.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]  # fmt: skip
    assert errors and errors[0]["ename"] == "DataError"


def test_no_real_identifier_and_no_key_in_any_product_or_notebook(run):
    emails = set(run["real"]["patients"]["patient_email"])
    from pypdf import PdfReader

    for path in run["dir"].rglob("*"):
        if not path.is_file() or path.suffix == ".pkl":
            continue
        if path.suffix == ".pdf":
            text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
        else:
            text = path.read_text(errors="ignore")
        assert KEY not in text, path
        leaked = [email for email in emails if email in text]
        assert not leaked, f"{path.relative_to(run['dir'])} holds a real e-mail"


def test_same_seed_same_synthetic_table(run):
    first = Lakehouse(run["lake"]).read("visits_synthetic")
    second = Lakehouse(run["lake_again"]).read("visits_synthetic")

    assert run["code_again"] == 0
    pd.testing.assert_frame_equal(first, second)
