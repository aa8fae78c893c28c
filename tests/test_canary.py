"""The canary test: plant unmistakable values in a real table, run the whole pipeline (the
real notebooks), and look for them everywhere a product could carry them.

Canaries: a one-off category in two columns, extreme numbers, and unique e-mail strings,
added to the bundled Palmer penguins table. None may appear in the synthetic table, the
CSVs, the JSON, the executed notebooks (outputs and metadata), the PDF's text, the model
files (the pickled synthesizer and its cached data transformer hold their strings as text)
or the requests sent to the model; nor may the API key.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openai_server import FakeOpenAIServer
from pypdf import PdfReader

from synthlake import cli
from synthlake.lakehouse import Lakehouse

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "penguins.csv"
HYPERPARAMETERS_ANSWER = json.dumps({"epochs": 2, "batch_size": 100, "reason": "small table"})
# every rendering a canary could take in a product: raw, rounded, compact tick labels, scientific
CANARIES = [
    "Canaryspecies", "Canaryland", "canary.bird", "secret.example",
    "987.65", "987.6", "31337", "31.3k", "3.134e+04", "3.13e+04", "77.77",
    "sk-test-canary",  # the API key, set in the environment only
]  # fmt: skip


def _with_canaries(folder: Path) -> pd.DataFrame:
    real = pd.read_csv(SAMPLE)
    real.insert(0, "keeper_email", [f"keeper{i}@zoo.example" for i in range(len(real))])
    canaries = pd.DataFrame(
        {
            "keeper_email": ["canary.bird@secret.example", "canary.bird2@secret.example"],
            "species": ["Canaryspecies", "Canaryspecies"],
            "island": ["Canaryland", "Canaryland"],
            "bill_length_mm": [987.65, 45.0],
            "bill_depth_mm": [77.77, 17.0],
            "flipper_length_mm": [200.0, 200.0],
            "body_mass_g": [4000.0, 31337.0],
            "sex": ["female", "male"],
            "year": [2008, 2009],
        }
    )
    table = pd.concat([real, canaries], ignore_index=True)
    folder.mkdir()
    table.to_csv(folder / "penguins.csv", index=False)
    return table


def _answer(request: dict) -> str:
    return HYPERPARAMETERS_ANSWER if "response_format" in request else "## Summary\n\nA model-written narrative."


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("canary")
    _with_canaries(root / "source")
    with pytest.MonkeyPatch.context() as patch, FakeOpenAIServer(responses=[_answer]) as server:
        patch.setenv("OPENAI_API_KEY", "sk-test-canary")
        params = root / "params.yaml"
        params.write_text(
            yaml.safe_dump(
                {
                    "source": str(root / "source"),
                    "destination": str(root / "lake"),
                    "output_dir": str(root / "runs"),
                    "synthetic_dataset_len": 400,
                    "progress": False,
                    "tables": {"penguins": {"label_variable": "species"}},
                    "hyperparameters": {"provider": "openai"},
                    "narrative": {"provider": "openai"},
                    "llm": {"model": "test-model", "base_url": server.base_url, "max_retries": 0},
                }
            )
        )
        code = cli.main(["--params", str(params), "--run-id", "canary"])
        requests = [request["json"] for request in server.requests]
    return {"code": code, "dir": root / "runs" / "canary", "lake": root / "lake", "requests": requests}


def _found(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary.lower() in text.lower()]


@pytest.mark.slow
def test_the_run_completes(run):
    manifest = json.loads((run["dir"] / "manifest.json").read_text())

    assert manifest["tables"]["penguins"]["status"] in ("completed", "quarantined")
    assert run["code"] in (0, 3)
    assert (run["dir"] / "penguins" / "report.pdf").is_file()


@pytest.mark.slow
def test_no_canary_in_the_synthetic_table(run):
    release = json.loads((run["dir"] / "penguins" / "release.json").read_text())
    synthetic = Lakehouse(run["lake"], area=release["area"]).read("penguins_synthetic")

    assert not _found(synthetic.to_csv(index=False))
    assert synthetic["bill_length_mm"].max() < 100 and synthetic["body_mass_g"].max() < 10_000


@pytest.mark.slow
def test_no_canary_in_any_product_notebook_or_pdf(run):
    checked = 0
    for path in sorted(run["dir"].rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".pdf":
            text = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
        else:
            text = path.read_text(errors="ignore")
        assert not _found(text), f"{path.relative_to(run['dir'])} holds {_found(text)}"
        checked += 1
    assert checked >= 20  # CSVs, JSON, narrative, manifest, nine notebooks, the PDF, the model files


@pytest.mark.slow
def test_no_canary_in_what_the_model_was_sent(run):
    assert len(run["requests"]) >= 2
    assert not _found(json.dumps(run["requests"]))
