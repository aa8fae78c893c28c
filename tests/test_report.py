"""The PDF report: it builds, has every section, and never shows an identifier value."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pdf2image import convert_from_path
from pypdf import PdfReader

from synthlake import models
from synthlake.evaluation import Comparison
from synthlake.profiling import summarize
from synthlake.report import MODEL_SKIPPED_NO_LABEL, _Redactor, build_report
from synthlake.schema import infer_schema

HEADINGS = [
    "Run and hyperparameters",
    "Columns",
    "Summary statistics",
    "Fidelity scores",
    "Correlation matrices",
    "Distributions: real vs synthetic",
    "Most correlated pairs",
    "Model check",
    "Narrative",
]
HYPERPARAMETERS = {
    "epochs": 2,
    "batch_size": 50,
    "source": "heuristic",
    "reason": "a small table: few epochs",
    "adjustments": ["batch_size lowered to fit 150 training rows"],
    "provider": "openai",
    "fallback_reason": "ConnectError: endpoint unreachable",
}


def make_real(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(50_000, 12_000, n)
    spend = 0.3 * income + rng.normal(0, 2_000, n)
    spend[rng.choice(n, 15, replace=False)] = np.nan
    return pd.DataFrame(
        {
            "email": [f"person{i}.secret@corp-example.com" for i in range(n)],
            "income": income,
            "spend": spend,
            "visits": rng.poisson(4, n),
            "segment": rng.choice(["bronze", "silver", "gold", "platinum"], n, p=[0.5, 0.3, 0.15, 0.05]),
            "active": rng.choice([True, False], n),
            "signup": (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")).astype(str),
        }
    )


def make_synthetic(real: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """A stand-in for CTGAN output: shuffled, perturbed columns and fresh identifiers."""
    rng = np.random.default_rng(seed)
    synthetic = real.apply(lambda column: column.sample(frac=1, random_state=seed).to_numpy())
    synthetic["income"] = synthetic["income"] * rng.normal(1, 0.1, len(real))
    if "spend" in synthetic:
        synthetic["spend"] = 0.25 * synthetic["income"] + rng.normal(0, 4_000, len(real))
    if "email" in synthetic:
        synthetic["email"] = [f"user{i}@synthetic.example" for i in range(len(real))]
    return synthetic


def report_inputs(real_raw: pd.DataFrame, synthetic_raw: pd.DataFrame, table: str, label: str | None) -> dict:
    """Every argument of build_report, computed the way the pipeline does."""
    schema, real = infer_schema(real_raw, table)
    synthetic = synthetic_raw.copy()
    for column in schema.columns:  # the synthesizer hands back the schema's types
        if column.name in synthetic and column.kind == "datetime":
            synthetic[column.name] = pd.to_datetime(synthetic[column.name], errors="coerce")
    comparison = Comparison().generate(real, synthetic, schema).get_details()
    model_metrics = None
    if label:
        split = int(len(real) * 0.75)
        model_metrics = models.evaluate(
            schema=schema,
            label=label,
            real_train=real.iloc[:split],
            real_holdout=real.iloc[split:],
            synthetic=synthetic,
        )
    return {
        "table": table,
        "schema": schema,
        "real": real,
        "synthetic": synthetic,
        "summary_real": summarize(real, schema),
        "summary_synthetic": summarize(synthetic, schema),
        "comparison": comparison,
        "hyperparameters": HYPERPARAMETERS,
        "model_metrics": model_metrics,
        "narrative": "## Summary\nThe synthetic table follows the real one.\n\n- income <matches> & spend drifts\n",
        "run_facts": {"run_id": "r-001", "seed": 42, "real_rows": len(real), "synthetic_rows": len(synthetic)},
    }


def pdf_text(path: Path) -> str:
    """The PDF's text with whitespace collapsed, so wrapped sentences still match."""
    text = " ".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def full_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    real = make_real()
    inputs = report_inputs(real, make_synthetic(real), "customers", label="segment")
    leaked = real["email"].iloc[3]
    inputs["narrative"] += f"\nA value that must not leak: {leaked}, even in a **bold** sentence.\n"
    path = build_report(tmp_path_factory.mktemp("report") / "customers.pdf", **inputs)
    return path, real


def test_report_has_every_section_and_pages(full_report: tuple[Path, pd.DataFrame]) -> None:
    path, _ = full_report

    pages = convert_from_path(path, dpi=20)
    text = pdf_text(path)

    assert path.exists()
    assert len(pages) > 2
    assert "customers" in text
    assert "synthlake report — customers" in text
    for heading in HEADINGS:
        assert heading in text, heading
    assert "income <matches> & spend drifts" in text  # escaped, not swallowed as markup
    assert "ConnectError: endpoint unreachable" in text
    assert "Feature importance" in text
    assert not list(path.parent.glob(".*.tmp")), "the temporary file is renamed, not left behind"


def test_report_never_shows_an_identifier_value(full_report: tuple[Path, pd.DataFrame]) -> None:
    path, real = full_report

    text = pdf_text(path)

    assert "[redacted]" in text
    assert "secret@corp-example.com" not in text
    leaked = [email for email in real["email"] if email in text]
    assert leaked == []


def test_without_label_the_model_check_is_skipped(tmp_path: Path) -> None:
    real = make_real(80)[["income", "segment"]]  # few columns: few charts, a fast test
    inputs = report_inputs(real, make_synthetic(real), "no_label", label=None)

    path = build_report(tmp_path / "no_label.pdf", **inputs)

    assert MODEL_SKIPPED_NO_LABEL in pdf_text(path)


def test_a_skipped_model_check_says_why(tmp_path: Path) -> None:
    real = make_real(80)[["income", "segment"]]
    inputs = report_inputs(real, make_synthetic(real), "skipped", label=None)
    inputs["model_metrics"] = {"label": "segment", "skipped": "fewer than 5 labelled rows in the holdout"}

    path = build_report(tmp_path / "skipped.pdf", **inputs)

    assert "skipped: fewer than 5 labelled rows in the holdout" in pdf_text(path)


def test_a_single_numeric_column_still_builds(tmp_path: Path) -> None:
    real = pd.DataFrame({"amount": np.random.default_rng(0).gamma(2.0, 10.0, 120)})
    inputs = report_inputs(real, real.sample(frac=1, random_state=1).reset_index(drop=True) * 1.1, "one", None)

    path = build_report(tmp_path / "one.pdf", **inputs)

    text = pdf_text(path)
    assert "Not enough numeric columns" in text
    assert "no pair to draw" in text
    assert "amount" in text


def test_degenerate_data_degrades_without_crashing(tmp_path: Path) -> None:
    real = make_real(60)
    real["nothing"] = np.nan
    real["same"] = "x"
    real["income"] = real["income"].iloc[0]  # now constant
    synthetic = make_synthetic(real).iloc[0:0]
    inputs = report_inputs(real, synthetic, "degenerate", label=None)

    path = build_report(tmp_path / "degenerate.pdf", **inputs)

    text = pdf_text(path)
    assert "Narrative" in text
    assert "carried as it is, not learned" in text
    assert len(convert_from_path(path, dpi=15)) >= 2


def test_identifier_values_are_redacted_from_free_text() -> None:
    real = pd.DataFrame(
        {"full_name": ["Ada Lovelace", "Alan Turing", "Grace Hopper"], "user_id": ["a1", "b22", "c333"]}
    )
    schema, real = infer_schema(real, "people", identifier_columns=["full_name", "user_id"])
    redact = _Redactor(schema, real)

    text = redact("Rows like Alan Turing, or (b22) and c333. Then 17 rows and Ada alone.")

    assert text == "Rows like [redacted], or ([redacted]) and [redacted]. Then 17 rows and Ada alone."


def test_category_bars_never_stand_for_fewer_than_k_rows() -> None:
    from synthlake.report import _frequencies

    real = pd.Series([True] * 97 + [False] * 3)  # a boolean's minority of 3
    syn = pd.Series([True] * 95 + [False] * 5)

    labels, real_freq, syn_freq = _frequencies(real, syn, min_count=10)
    _, _, quarantined = _frequencies(real, syn, min_count=10, syn_min_count=10)

    shares = dict(zip(labels, real_freq, strict=True))
    assert shares["True"] == pytest.approx(0.97) and shares["False"] == 0.0
    assert dict(zip(labels, syn_freq, strict=True))["False"] == pytest.approx(0.05)
    assert dict(zip(labels, quarantined, strict=True))["False"] == 0.0


def test_a_quarantined_table_is_drawn_like_real_data(tmp_path: Path) -> None:
    real = make_real(120)[["income", "spend", "segment"]]
    inputs = report_inputs(real, real.copy(), "leaky", label=None)  # a leaky "synthetic" table: copies

    path = build_report(tmp_path / "leaky.pdf", released=False, **inputs)

    assert "quarantined (its rows may copy real ones)" in pdf_text(path)
    assert "never as points" in pdf_text(path)
