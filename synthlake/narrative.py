"""The narrative: a plain-words account of how the synthetic table compares.

``report_prompting`` builds the prompt from aggregates (summaries, comparison scores,
model scores: never rows). ``gpt_prompting`` sends it to the model, or, offline or
when the model fails, writes the narrative from a template stating the same findings.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from synthlake.config import LLMSettings

log = logging.getLogger(__name__)

SYSTEM = (
    "You are a data-quality analyst. You receive aggregate statistics comparing a real table with a "
    "synthetic copy produced by CTGAN. Write a short report in Markdown (at most 300 words, with "
    "'## ' headings) for an auditor: the verdict (fidelity, utility, privacy) first, then overall "
    "fidelity, the largest differences, correlation gaps, the decision-tree results, and practical advice. "
    "Use only the figures given; do not invent any."
)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def facts(
    table: str,
    comparison: dict[str, Any],
    model_metrics: dict[str, Any] | None,
    *,
    verdict: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The aggregates the narrative may use (what the prompt carries)."""
    result: dict[str, Any] = {
        "table": table,
        "real_rows": comparison.get("real_rows"),
        "synthetic_rows": comparison.get("synthetic_rows"),
        "overall_score": comparison.get("overall_score"),
        "column_shape_score": comparison.get("column_shape_score"),
        "correlation_score": comparison.get("correlation_score"),
        "largest_differences": [
            {"column": item["column"], "kind": item["kind"], "score": round(item["score"], 4)}
            for item in comparison.get("largest_differences", [])
        ],
        "correlation_gaps": [
            {"pair": item["pair"], "real": round(item["real"], 3), "synthetic": round(item["synthetic"], 3)}
            for item in comparison.get("correlation_gaps", [])
        ],
    }
    if model_metrics is None:
        result["model"] = "no label_variable set: decision-tree check skipped"
    elif model_metrics.get("skipped"):
        result["model"] = f"decision-tree check skipped: {model_metrics['skipped']}"
    else:
        result["model"] = {key: model_metrics.get(key) for key in ("task", "label", "synthetic", "real", "ratio")}
    if verdict is not None:
        result["verdict"] = {
            name: {"status": verdict[name]["status"], "summary": verdict[name]["summary"]}
            for name in ("fidelity", "utility", "privacy", "overall")
        }
    return result


def build_prompt(table_facts: dict[str, Any]) -> list[dict[str, str]]:
    """Chat messages for the narrative model."""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Comparison figures (JSON):\n" + json.dumps(table_facts, indent=1)},
    ]


def template(table_facts: dict[str, Any]) -> str:
    """The offline narrative: the same findings, stated from a template."""
    table = table_facts["table"]
    lines = [f"## Overview of `{table}`", ""]
    judged = table_facts.get("verdict")
    if judged:
        lines += [f"**Verdict: {judged['overall']['status']}.** {judged['overall']['summary']}", ""]
        lines += [f"- {name.capitalize()}: **{judged[name]['status']}**. {judged[name]['summary']}"
                  for name in ("fidelity", "utility", "privacy")]  # fmt: skip
        lines.append("")
    overall = table_facts.get("overall_score")
    verdict = "no similarity could be measured"
    if overall is not None:
        verdict = "a " + ("close" if overall >= 0.85 else "fair" if overall >= 0.7 else "weak") + " match"
    lines.append(
        f"The synthetic table has {table_facts.get('synthetic_rows')} rows, generated from "
        f"{table_facts.get('real_rows')} real rows. Its overall similarity score is "
        f"{_pct(overall)} (column shapes {_pct(table_facts.get('column_shape_score'))}, "
        f"correlations {_pct(table_facts.get('correlation_score'))}): {verdict}."
    )
    lines += ["", "## Largest differences", ""]
    differences = table_facts.get("largest_differences") or []
    if differences:
        lines += [
            f"- `{item['column']}` ({item['kind']}): similarity {_pct(item['score'])}" for item in differences[:3]
        ]
    else:
        lines.append("No column could be compared.")
    lines += ["", "## Correlations", ""]
    gaps = table_facts.get("correlation_gaps") or []
    if gaps:
        lines += [
            f"- `{a}` and `{b}`: {item['real']:+.2f} in the real data, {item['synthetic']:+.2f} in the synthetic data"
            for item in gaps[:3]
            for a, b in [item["pair"]]
        ]
    else:
        lines.append("Fewer than two numeric columns: no correlation to compare.")
    lines += ["", "## Decision tree", ""]
    model = table_facts.get("model")
    if isinstance(model, str):
        lines.append(model[0].upper() + model[1:] + ".")
    else:
        main = "accuracy" if model["task"] == "classification" else "r2"
        syn, real = model["synthetic"].get(main), model["real"].get(main)
        ratio = (model.get("ratio") or {}).get(main)
        lines.append(
            f"A {model['task']} tree for `{model['label']}` trained on synthetic data scores "
            f"{main} {syn:.3f} on the real holdout, against {real:.3f} when trained on real data"
            + (f" (ratio {ratio:.2f})." if ratio is not None else ".")
        )
    lines += ["", "## Advice", ""]
    if overall is None:
        lines.append("- No similarity could be measured: check that the synthetic table has comparable columns.")
    elif overall < 0.85:
        lines.append("- Train for more epochs, or review the columns with the largest differences before sharing.")
    else:
        lines.append("- The synthetic table follows the real one closely on the measured aggregates.")
    lines.append("- This narrative was written from a template (no language model was used).")
    return "\n".join(lines) + "\n"


def write(
    *, provider: str, prompt: list[dict[str, str]], table_facts: dict[str, Any], llm: LLMSettings | None = None
) -> tuple[str, dict[str, Any]]:
    """The narrative text and a record of how it was produced.

    With ``provider="openai"`` the model writes it; any failure falls back to the
    template, and the record says why.
    """
    record: dict[str, Any] = {"provider": provider, "prompt": prompt}
    if provider == "openai":
        from synthlake import llm as llm_module

        settings = llm or LLMSettings()
        try:
            client = llm_module.make_client(settings)
            text, seconds = llm_module.ask_text(client, settings.model, prompt)
            record.update({"source": "openai", "model": settings.model, "seconds": round(seconds, 3), "answer": text})
            return text + "\n", record
        except Exception as exc:  # noqa: BLE001 - any failure falls back, and says why
            record["fallback_reason"] = llm_module.describe_failure(exc)
            log.warning("narrative model failed (%s); using the template", record["fallback_reason"])
    record["source"] = "template"
    return template(table_facts), record
