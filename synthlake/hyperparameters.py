"""CTGAN epochs and batch size for a table: proposed, then checked.

Proposals come from an offline heuristic (the default), from an OpenAI-compatible
model, or from explicit per-table settings. Whatever proposes them, the values are
checked: CTGAN needs a batch size that is even and a multiple of ``pac`` (10), no
larger than the training rows, and epochs within sane bounds.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from synthlake.config import MAX_BATCH, MAX_EPOCHS, LLMSettings

log = logging.getLogger(__name__)

PAC = 10  # CTGAN's default pac: samples per discriminator pack
MIN_EPOCHS, MIN_BATCH = 1, PAC  # the most of each are the parameters' own bounds (synthlake.config)
TARGET_STEPS = 2000

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "epochs": {"type": "integer"},
        "batch_size": {"type": "integer"},
        "reason": {"type": "string"},
    },
    "required": ["epochs", "batch_size", "reason"],
    "additionalProperties": False,
}


def heuristic(n_rows: int, n_columns: int) -> dict[str, Any]:
    """Epochs and batch size from the table's size.

    The batch is about a tenth of the rows (at least 20, at most CTGAN's default 500),
    and epochs are chosen so that training takes roughly ``TARGET_STEPS`` optimiser
    steps (more for wide tables), between 20 and 300 (CTGAN's default).
    """
    batch = int(min(max(n_rows // 10, 20), 500))
    batch -= batch % PAC
    steps_per_epoch = max(n_rows // batch, 1)
    target = TARGET_STEPS * (1.5 if n_columns > 30 else 1.0)
    epochs = int(min(max(math.ceil(target / steps_per_epoch), 20), 300))
    return {
        "epochs": epochs,
        "batch_size": batch,
        "reason": (
            f"{n_rows} training rows and {n_columns} columns: batch of about a tenth of the rows "
            f"(20-500), epochs for about {int(target)} optimiser steps (20-300)"
        ),
    }


def check(epochs: Any, batch_size: Any, n_rows: int) -> tuple[int, int, list[str]]:
    """Clamp a proposal to values CTGAN accepts for ``n_rows`` training rows.

    Returns:
        Epochs, batch size, and a note for every change made.
    """
    notes: list[str] = []
    epochs_in, batch_in = int(epochs), int(batch_size)
    epochs_out = min(max(epochs_in, MIN_EPOCHS), MAX_EPOCHS)
    if epochs_out != epochs_in:
        notes.append(f"epochs {epochs_in} clamped to {epochs_out} (allowed {MIN_EPOCHS}-{MAX_EPOCHS})")
    largest = max(MIN_BATCH, (n_rows // PAC) * PAC)
    batch_out = min(max(batch_in, MIN_BATCH), MAX_BATCH, largest)
    batch_out -= batch_out % PAC
    if batch_out != batch_in:
        notes.append(
            f"batch_size {batch_in} changed to {batch_out} (even, a multiple of pac={PAC}, "
            f"at most the {n_rows} training rows)"
        )
    return epochs_out, batch_out, notes


def build_prompt(table_facts: dict[str, Any]) -> list[dict[str, str]]:
    """The messages asking a model for hyperparameters; they carry counts only."""
    facts = "\n".join(f"- {key}: {value}" for key, value in table_facts.items())
    return [
        {
            "role": "system",
            "content": (
                "You configure CTGAN (the ctgan Python package) to synthesise tabular data. "
                "Answer with JSON: epochs (integer), batch_size (integer, even and a multiple of 10, "
                "at most the number of training rows), and a one-sentence reason."
            ),
        },
        {"role": "user", "content": f"Choose epochs and batch_size for this table:\n{facts}"},
    ]


def propose(
    *,
    provider: str,
    n_rows: int,
    table_facts: dict[str, Any],
    llm: LLMSettings | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Choose epochs and batch size, recording how they were chosen.

    Args:
        provider: ``heuristic`` or ``openai``.
        n_rows: training rows (the real table less its holdout).
        table_facts: aggregate facts about the table (rows, column counts by kind).
        llm: endpoint settings for the ``openai`` provider.
        epochs: an explicit override (wins over any proposal).
        batch_size: an explicit override (wins over any proposal).

    Returns:
        A record for ``hyperparameters.json``: the chosen values, the proposal, its
        source, the prompt and answer when a model was asked, and any fallback reason.
    """
    n_columns = int(table_facts.get("columns", 0))
    record: dict[str, Any] = {"provider": provider, "training_rows": n_rows, "table_facts": table_facts}
    proposal = heuristic(n_rows, n_columns)
    source = "heuristic"
    if provider == "openai":
        from synthlake import llm as llm_module

        messages = build_prompt(table_facts)
        record["prompt"] = messages
        try:
            settings = llm or LLMSettings()
            client = llm_module.make_client(settings)
            answer, raw, seconds = llm_module.ask_json(
                client, settings.model, messages, ANSWER_SCHEMA, name="ctgan_hyperparameters"
            )
            record.update({"answer": raw, "model": settings.model, "seconds": round(seconds, 3)})
            proposal = {
                "epochs": int(answer["epochs"]),
                "batch_size": int(answer["batch_size"]),
                "reason": str(answer.get("reason", ""))[:500],
            }
            source = "openai"
        except Exception as exc:  # noqa: BLE001 - any failure falls back, and says why
            record["fallback_reason"] = llm_module.describe_failure(exc)
            log.warning("hyperparameter model failed (%s); using the heuristic", record["fallback_reason"])
    record["proposal"] = {**proposal, "source": source}
    chosen_epochs = epochs if epochs is not None else proposal["epochs"]
    chosen_batch = batch_size if batch_size is not None else proposal["batch_size"]
    final_epochs, final_batch, notes = check(chosen_epochs, chosen_batch, n_rows)
    record.update(
        {
            "epochs": final_epochs,
            "batch_size": final_batch,
            "source": "parameters" if epochs is not None or batch_size is not None else source,
            "reason": proposal["reason"],
            "adjustments": notes,
        }
    )
    return record


BUDGET_SHARE = 0.9  # of the budget for CTGAN's fit; the rest for sampling and the privacy check


def fit_budget(record: dict[str, Any], *, minutes: float, probed: dict[str, float], n_rows: int) -> dict[str, Any]:
    """Lower the epochs of ``record`` so that the predicted fit stays within ``minutes``.

    The budget is a ceiling: epochs are never raised. Explicit epochs from the
    parameters are kept, with a note when they are predicted to overrun.

    Returns:
        ``record`` with ``epochs`` possibly lowered and a ``time_budget`` entry holding the
        probe, the prediction and what was done.
    """
    from synthlake.synthesis import predict_fit_seconds

    budget = minutes * 60 * BUDGET_SHARE
    batch = record["batch_size"]
    steps_per_epoch = max(n_rows // batch, 1)
    transform = probed["transform_seconds_per_row"] * n_rows
    affordable = int((budget - transform) // (steps_per_epoch * probed["seconds_per_step"]))
    wanted = record["epochs"]
    note = None
    if record["source"] == "parameters":
        if affordable < wanted:
            note = f"explicit epochs {wanted} kept, though about {max(affordable, 0)} fit the budget"
    elif affordable < wanted:
        record["epochs"] = max(affordable, MIN_EPOCHS)
        note = f"epochs lowered from {wanted} to {record['epochs']} to fit {minutes:g} minutes"
        if affordable < MIN_EPOCHS:
            note += " (even one epoch is predicted to overrun)"
        record["adjustments"] = [*record.get("adjustments", []), note]
    record["time_budget"] = {
        "minutes": minutes,
        "probe": probed,
        "predicted_fit_seconds": round(
            predict_fit_seconds(probed, n_rows=n_rows, epochs=record["epochs"], batch_size=batch), 1
        ),
        "note": note,
    }
    return record
