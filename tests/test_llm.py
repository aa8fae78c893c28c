"""The OpenAI-compatible model, over real HTTP to a local fake server.

Hyperparameter proposals and narratives: the model's answer is used when valid, clamped when
out of range, and replaced by the offline heuristic or template when anything goes wrong. The
requests carry aggregates only, never a cell of the table, and the key never reaches a record.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from openai_server import FakeOpenAIServer

from synthlake import hyperparameters, llm, narrative
from synthlake.config import LLMSettings
from synthlake.errors import ConfigError
from synthlake.evaluation import Comparison
from synthlake.schema import infer_schema

KEY = "sk-test-7f3c9e1a2b4d6f80"
AZURE_KEY = "azure-test-5a6b7c8d9e0f"
FACTS = {"training_rows": 1000, "columns": 6, "numeric_columns": 4, "categorical_columns": 2}


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key, endpoint or proxy from the developer's environment leaks into a test."""
    for name in (
        "OPENAI_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "AZURE_OPENAI_ENDPOINT",
        "OPENAI_API_VERSION",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


def settings(server: FakeOpenAIServer, **extra: object) -> LLMSettings:
    return LLMSettings(base_url=server.base_url, max_retries=0, timeout_s=5, **extra)


def answer(epochs: object, batch_size: object, reason: str = "a mid-sized table") -> str:
    return json.dumps({"epochs": epochs, "batch_size": batch_size, "reason": reason})


def table_facts(frame: pd.DataFrame, table: str = "customers") -> dict[str, object]:
    """The facts steps.choose_hyperparameters builds, from a real schema."""
    schema, _ = infer_schema(frame, table)
    kinds = pd.Series([c.kind for c in schema.columns]).value_counts().to_dict()
    return {
        "training_rows": len(frame),
        "columns": len(schema.learned),
        **{f"{kind}_columns": count for kind, count in sorted(kinds.items())},
        "categories_to_encode": sum(c.n_unique for c in schema.columns if c.kind == "categorical"),
    }


def cell_texts(frame: pd.DataFrame) -> list[str]:
    """Distinctive cell values of mixed_frame as they could appear in a request."""
    texts = list(frame["email"])
    for value in frame["income"]:
        texts += [repr(float(value)), f"{value:.2f}", f"{value:.1f}"]
    texts += list(pd.to_datetime(frame["joined"]).dt.strftime("%Y-%m-%d"))
    return texts


def assert_no_cells(text: str, frame: pd.DataFrame) -> None:
    leaked = [value for value in cell_texts(frame) if value in text]
    assert not leaked, f"cell values in the request: {leaked[:5]}"
    for label in frame["group"].unique():
        assert not re.search(rf"\b{label}\b", text), label


# -- hyperparameters ----------------------------------------------------------------------


def test_valid_answer_is_used_and_recorded() -> None:
    with FakeOpenAIServer(responses=[answer(150, 200)]) as server:
        record = hyperparameters.propose(provider="openai", n_rows=1000, table_facts=FACTS, llm=settings(server))

    assert (record["epochs"], record["batch_size"]) == (150, 200)
    assert record["source"] == "openai"
    assert record["proposal"] == {"epochs": 150, "batch_size": 200, "reason": "a mid-sized table", "source": "openai"}
    assert record["adjustments"] == []
    assert "fallback_reason" not in record
    assert record["prompt"] == hyperparameters.build_prompt(FACTS)
    assert record["answer"] == answer(150, 200)
    assert record["model"] == "gpt-4o-mini"
    assert server.requests[0]["json"]["messages"] == record["prompt"]
    assert server.requests[0]["path"] == "/v1/chat/completions"


@pytest.mark.parametrize(
    ("epochs", "batch_size", "expected", "changed"),
    [
        (999_999, 333, (2000, 330), ("epochs", "batch_size")),
        (0, 5, (1, 10), ("epochs", "batch_size")),
        (100, 5000, (100, 1000), ("batch_size",)),
        (-3, 200, (1, 200), ("epochs",)),
    ],
)
def test_invalid_answer_values_are_clamped_with_notes(
    epochs: int, batch_size: int, expected: tuple[int, int], changed: tuple[str, ...]
) -> None:
    with FakeOpenAIServer(responses=[answer(epochs, batch_size)]) as server:
        record = hyperparameters.propose(provider="openai", n_rows=1000, table_facts=FACTS, llm=settings(server))

    assert (record["epochs"], record["batch_size"]) == expected
    assert record["batch_size"] % 10 == 0
    assert record["source"] == "openai"
    assert (record["proposal"]["epochs"], record["proposal"]["batch_size"]) == (epochs, batch_size)
    assert len(record["adjustments"]) == len(changed)
    for name, note in zip(changed, record["adjustments"], strict=True):
        assert note.startswith(f"{name} ")
        assert str(record[name]) in note


def test_request_carries_no_cell_value_and_asks_for_a_json_schema(mixed_frame: pd.DataFrame) -> None:
    facts = table_facts(mixed_frame)
    with FakeOpenAIServer(responses=[answer(100, 20)]) as server:
        record = hyperparameters.propose(
            provider="openai", n_rows=len(mixed_frame), table_facts=facts, llm=settings(server)
        )

    assert record["source"] == "openai"
    assert len(server.requests) == 1
    body = server.requests[0]["json"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "ctgan_hyperparameters"
    assert body["response_format"]["json_schema"]["schema"] == hyperparameters.ANSWER_SCHEMA
    sent = json.dumps(body)
    assert "identifier_columns" in sent and "training_rows: 120" in sent
    assert_no_cells(sent, mixed_frame)
    assert_no_cells(json.dumps(record), mixed_frame)


@pytest.mark.parametrize(
    ("response", "error"),
    [
        ("not json", "JSONDecodeError"),
        ("[150, 200]", "ValueError"),
        ('{"epochs": 150, "reason": "no batch"}', "KeyError"),
        ('{"epochs": "many", "batch_size": 200, "reason": "words"}', "ValueError"),
        ("", "JSONDecodeError"),
        (500, "InternalServerError"),
        (401, "AuthenticationError"),
    ],
)
def test_malformed_answer_or_error_falls_back_to_the_heuristic(response: str | int, error: str) -> None:
    expected = hyperparameters.heuristic(1000, FACTS["columns"])
    with FakeOpenAIServer(responses=[response]) as server:
        record = hyperparameters.propose(provider="openai", n_rows=1000, table_facts=FACTS, llm=settings(server))

    assert server.call_count == 1
    assert record["fallback_reason"].startswith(f"{error}: ")
    assert record["source"] == "heuristic"
    assert record["proposal"]["source"] == "heuristic"
    assert (record["epochs"], record["batch_size"]) == (expected["epochs"], expected["batch_size"])
    assert record["reason"] == expected["reason"]
    assert record["prompt"] == hyperparameters.build_prompt(FACTS)


def test_unreachable_endpoint_falls_back() -> None:
    with FakeOpenAIServer() as server:
        closed = settings(server)
    record = hyperparameters.propose(provider="openai", n_rows=1000, table_facts=FACTS, llm=closed)

    assert record["fallback_reason"].startswith("APIConnectionError")
    assert record["source"] == "heuristic"


def test_explicit_values_win_over_the_model() -> None:
    with FakeOpenAIServer(responses=[answer(150, 200)]) as server:
        record = hyperparameters.propose(
            provider="openai", n_rows=1000, table_facts=FACTS, llm=settings(server), epochs=7, batch_size=40
        )

    assert (record["epochs"], record["batch_size"], record["source"]) == (7, 40, "parameters")
    assert record["proposal"]["source"] == "openai"


def test_environment_key_is_the_bearer_token_and_stays_out_of_the_record(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with FakeOpenAIServer(responses=[answer(999_999, 333)]) as server:
        record = hyperparameters.propose(provider="openai", n_rows=1000, table_facts=FACTS, llm=settings(server))

    assert server.requests[0]["headers"]["authorization"] == f"Bearer {KEY}"
    assert record["source"] == "openai"
    assert KEY not in json.dumps(record)


def test_local_server_without_a_key_gets_a_placeholder() -> None:
    with FakeOpenAIServer(responses=[answer(150, 200)]) as server:
        record = hyperparameters.propose(provider="openai", n_rows=1000, table_facts=FACTS, llm=settings(server))

    assert record["source"] == "openai"
    assert server.requests[0]["headers"]["authorization"] == "Bearer not-needed"


def test_hosted_endpoint_without_a_key_is_a_config_error_and_the_heuristic_is_used() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        llm.make_client(LLMSettings())

    record = hyperparameters.propose(provider="openai", n_rows=1000, table_facts=FACTS, llm=LLMSettings())
    assert record["fallback_reason"].startswith("ConfigError: ")
    assert record["source"] == "heuristic"


def test_key_echoed_in_an_error_message_is_not_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)

    def echo_key(_: dict) -> str:
        # some proxies quote the key they rejected; the fake server turns this into a 500 body
        raise PermissionError(f"Received API Key = {server.requests[-1]['headers']['authorization']}")

    with FakeOpenAIServer(responses=[echo_key]) as server:
        record = hyperparameters.propose(provider="openai", n_rows=1000, table_facts=FACTS, llm=settings(server))

    assert record["source"] == "heuristic"
    assert KEY not in json.dumps(record)


def test_heuristic_provider_makes_no_request() -> None:
    with FakeOpenAIServer(responses=[answer(150, 200)]) as server:
        record = hyperparameters.propose(provider="heuristic", n_rows=1000, table_facts=FACTS, llm=settings(server))

    assert server.call_count == 0
    assert "prompt" not in record
    assert record["source"] == "heuristic"


# -- Azure --------------------------------------------------------------------------------


def test_azure_uses_the_deployment_path_and_api_key_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # must not be used for Azure
    with FakeOpenAIServer(responses=[answer(150, 200)]) as server:
        azure = LLMSettings(
            azure_endpoint=server.endpoint, api_version="2024-06-01", model="my-deployment", max_retries=0, timeout_s=5
        )
        record = hyperparameters.propose(provider="openai", n_rows=1000, table_facts=FACTS, llm=azure)

    request = server.requests[0]
    assert "/openai/deployments/my-deployment/chat/completions" in request["path"]
    assert "api-version=2024-06-01" in request["query"]
    assert request["headers"]["api-key"] == AZURE_KEY
    assert KEY not in json.dumps(request["headers"])
    assert record["source"] == "openai"
    assert record["model"] == "my-deployment"
    assert AZURE_KEY not in json.dumps(record)


def test_azure_without_its_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # the OpenAI key is no substitute
    azure = LLMSettings(azure_endpoint="http://127.0.0.1:9", api_version="2024-06-01", model="my-deployment")

    with pytest.raises(ConfigError, match="AZURE_OPENAI_API_KEY"):
        llm.make_client(azure)


# -- narrative ----------------------------------------------------------------------------


def comparison_of(frame: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """A real comparison of mixed_frame with a perturbed copy, and the converted real frame."""
    schema, real = infer_schema(frame, "customers")
    rng = np.random.default_rng(1)
    synthetic = real.copy()
    synthetic["income"] = (real["income"] * 1.07 + rng.normal(0, 900, len(real))).round(2)
    synthetic["age"] = real["age"].sample(frac=1, random_state=2).to_numpy()
    synthetic["group"] = rng.choice(["north", "south", "east"], len(real))
    details = Comparison().generate(real, synthetic, schema).get_details()
    return details, synthetic


def test_narrative_from_the_model() -> None:
    facts = narrative.facts("customers", {"overall_score": 0.8, "real_rows": 10, "synthetic_rows": 10}, None)
    prompt = narrative.build_prompt(facts)
    with FakeOpenAIServer(responses=["  ## Overview\nThe copy is faithful.  \n"]) as server:
        text, record = narrative.write(provider="openai", prompt=prompt, table_facts=facts, llm=settings(server))

    assert text == "## Overview\nThe copy is faithful.\n"
    assert record["source"] == "openai"
    assert record["answer"] == "## Overview\nThe copy is faithful."
    assert record["prompt"] == prompt
    assert "fallback_reason" not in record
    assert server.requests[0]["json"]["messages"] == prompt
    assert "response_format" not in server.requests[0]["json"]


@pytest.mark.parametrize(("response", "error"), [(500, "InternalServerError"), ("   ", "ValueError")])
def test_narrative_falls_back_to_the_template(response: str | int, error: str) -> None:
    facts = narrative.facts("customers", {"overall_score": 0.8, "real_rows": 10, "synthetic_rows": 10}, None)
    with FakeOpenAIServer(responses=[response]) as server:
        text, record = narrative.write(
            provider="openai", prompt=narrative.build_prompt(facts), table_facts=facts, llm=settings(server)
        )

    assert record["fallback_reason"].startswith(f"{error}: ")
    assert record["source"] == "template"
    assert text == narrative.template(facts)


def test_narrative_prompt_carries_aggregates_only(mixed_frame: pd.DataFrame) -> None:
    details, synthetic = comparison_of(mixed_frame)
    facts = narrative.facts("customers", details, None)
    prompt = narrative.build_prompt(facts)
    with FakeOpenAIServer(responses=["## Overview\nFine."]) as server:
        narrative.write(provider="openai", prompt=prompt, table_facts=facts, llm=settings(server))

    sent = json.dumps(server.requests[0]["json"])
    assert f"{details['overall_score']}" in sent
    assert '"largest_differences"' in prompt[1]["content"]
    assert_no_cells(json.dumps(prompt), mixed_frame)
    assert_no_cells(sent, mixed_frame)
    assert not [value for value in cell_texts(synthetic) if value in sent]
    assert set(facts) == {
        "table",
        "real_rows",
        "synthetic_rows",
        "overall_score",
        "column_shape_score",
        "correlation_score",
        "largest_differences",
        "correlation_gaps",
        "model",
    }


# -- the template -------------------------------------------------------------------------


def scored_facts(model_metrics: dict | None, overall: float = 0.912) -> dict:
    comparison = {
        "real_rows": 120,
        "synthetic_rows": 500,
        "overall_score": overall,
        "column_shape_score": 0.9,
        "correlation_score": 0.924,
        "largest_differences": [
            {"column": "income", "kind": "numeric", "score": 0.61234},
            {"column": "group", "kind": "categorical", "score": 0.7},
            {"column": "joined", "kind": "datetime", "score": 0.8},
            {"column": "age", "kind": "numeric", "score": 0.95},
        ],
        "correlation_gaps": [{"pair": ["age", "income"], "real": 0.81, "synthetic": 0.12, "gap": 0.69}],
    }
    return narrative.facts("customers", comparison, model_metrics)


def test_template_states_scores_and_largest_differences() -> None:
    text = narrative.template(scored_facts(None))

    assert "## Overview of `customers`" in text
    assert "500 rows, generated from 120 real rows" in text
    assert "91.2%" in text and "column shapes 90.0%" in text and "correlations 92.4%" in text
    assert "a close match" in text
    assert "- `income` (numeric): similarity 61.2%" in text
    assert "- `group` (categorical): similarity 70.0%" in text
    assert "`age` (numeric)" not in text  # the three largest only
    assert "`age` and `income`: +0.81 in the real data, +0.12 in the synthetic data" in text
    assert "template" in text


def test_template_weak_score_gives_advice() -> None:
    text = narrative.template(scored_facts(None, overall=0.6))

    assert "60.0%" in text and "a weak match" in text
    assert "Train for more epochs" in text


def test_template_classification_model() -> None:
    metrics = {
        "task": "classification",
        "label": "group",
        "skipped": None,
        "synthetic": {"accuracy": 0.6125, "f1_macro": 0.5},
        "real": {"accuracy": 0.75, "f1_macro": 0.7},
        "ratio": {"accuracy": 0.81667},
    }
    text = narrative.template(scored_facts(metrics))

    assert "A classification tree for `group` trained on synthetic data scores accuracy 0.613" in text
    assert "against 0.750 when trained on real data (ratio 0.82)." in text


def test_template_regression_model_without_ratio() -> None:
    metrics = {
        "task": "regression",
        "label": "income",
        "skipped": None,
        "synthetic": {"r2": 0.4321, "mae": 1.0},
        "real": {"r2": 0.0, "mae": 1.0},
        "ratio": {"r2": None},
    }
    text = narrative.template(scored_facts(metrics))

    assert "A regression tree for `income` trained on synthetic data scores r2 0.432" in text
    assert "against 0.000 when trained on real data." in text
    assert "ratio" not in text


def test_template_skipped_and_no_label() -> None:
    skipped = narrative.template(scored_facts({"task": "classification", "label": "group", "skipped": "too few rows"}))
    no_label = narrative.template(scored_facts(None))

    assert "Decision-tree check skipped: too few rows." in skipped
    assert "No label_variable set: decision-tree check skipped." in no_label


def test_template_without_comparable_columns() -> None:
    facts = narrative.facts("empty_table", {"real_rows": 5, "synthetic_rows": 5}, None)
    text = narrative.template(facts)

    assert "n/a" in text
    assert "No column could be compared." in text
    assert "no correlation to compare" in text


def test_template_does_not_claim_a_close_match_when_nothing_was_measured() -> None:
    facts = narrative.facts("empty_table", {"real_rows": 5, "synthetic_rows": 5}, None)
    text = narrative.template(facts)

    assert "follows the real one closely" not in text
