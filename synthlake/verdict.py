"""The one-page verdict: fidelity, utility and privacy, each pass or fail in plain words.

Thresholds are deliberately simple and stated in every verdict, so that an auditor can
check the reasoning against the figures.
"""

from __future__ import annotations

from typing import Any

MIN_QUALITY = 0.75  # SDMetrics overall quality score
MIN_UTILITY_RATIO = 0.8  # model trained on synthetic / trained on real, on the real holdout


def _not_measured(summary: str, figures: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"status": "not measured", "passed": None, "figures": figures or {}, "summary": summary}


def _fidelity(fidelity: dict[str, Any]) -> dict[str, Any]:
    quality = fidelity.get("quality_score")
    auc = fidelity.get("detection_auc")
    if quality is None:
        return _not_measured("Fidelity could not be measured.")
    passed = quality >= MIN_QUALITY
    summary = (
        f"SDMetrics quality {quality:.2f} (pass at {MIN_QUALITY:.2f} or more): the synthetic columns and column "
        f"pairs {'resemble' if passed else 'differ noticeably from'} the real ones."
    )
    if auc is not None:
        summary += (
            f" A classifier tells real from synthetic rows with ROC-AUC {auc:.2f} (0.5 means it cannot tell them "
            "apart, 1.0 that it always can)."
        )
    return {
        "status": "pass" if passed else "fail",
        "passed": passed,
        "figures": {"quality": quality, "detection_auc": auc},
        "summary": summary,
    }


def _utility(model_metrics: dict[str, Any] | None) -> dict[str, Any]:
    if model_metrics is None:
        return _not_measured("No label_variable is set for this table, so usefulness for modelling was not measured.")
    if model_metrics.get("skipped"):
        return _not_measured(f"The model check was skipped: {model_metrics['skipped']}.")
    metric = "f1_macro" if model_metrics["task"] == "classification" else "r2"
    syn, real = model_metrics["synthetic"][metric], model_metrics["real"][metric]
    ratio = (model_metrics.get("ratio") or {}).get(metric)
    figures = {"metric": metric, "trained_on_synthetic": syn, "trained_on_real": real, "ratio": ratio}
    if ratio is None or real is None or real <= 0:
        score = "no score" if real is None else f"{metric} {real:.2f}"
        return _not_measured(
            f"A model trained on the real rows scores {score}: too weak a reference to judge the "
            "synthetic table against.",
            figures,
        )
    passed = ratio >= MIN_UTILITY_RATIO
    return {
        "status": "pass" if passed else "fail",
        "passed": passed,
        "figures": figures,
        "summary": (
            f"A decision tree trained on synthetic rows scores {metric} {syn:.2f} on real rows it never saw, "
            f"against {real:.2f} when trained on real rows: {ratio:.0%} of the real data's usefulness "
            f"(pass at {MIN_UTILITY_RATIO:.0%} or more)."
        ),
    }


def _privacy(privacy: dict[str, Any]) -> dict[str, Any]:
    passed = bool(privacy.get("passed"))
    keys = ("dcr_share", "dcr_threshold", "identical_train_sample_share", "identical_holdout_share", "n_compared")
    figures = {key: privacy.get(key) for key in keys}
    if passed:
        summary = (
            f"Synthetic rows are no closer to the training rows than to real rows CTGAN never saw: "
            f"{privacy['dcr_share']:.0%} are closer to a training row (about 50% is ideal; the limit is "
            f"{privacy['dcr_threshold']:.0%}), and {privacy['identical_train_sample_share']:.1%} copy a row of "
            f"a training sample the holdout's size, against {privacy['identical_holdout_share']:.1%} matching an "
            "unseen row."
        )
    else:
        summary = "The synthetic table sits too close to the training rows: " + "; ".join(privacy.get("reasons", []))
    if privacy.get("small_sample_warning"):
        summary += " The holdout is small, so these privacy figures are weak."
    released = privacy.get("released")
    if released is False:
        summary += " The table was quarantined, not released to the lakehouse."
    return {"status": "pass" if passed else "fail", "passed": passed, "figures": figures, "summary": summary}


def verdict(fidelity: dict[str, Any], model_metrics: dict[str, Any] | None, privacy: dict[str, Any]) -> dict[str, Any]:
    """Pass or fail per dimension, with the figures and what they mean.

    Returns:
        ``{"fidelity": ..., "utility": ..., "privacy": ..., "overall": ...}``; each part
        has ``status`` (pass, fail, not measured), ``passed``, ``figures`` and ``summary``.
        Overall fails when any measured part fails.
    """
    parts = {"fidelity": _fidelity(fidelity), "utility": _utility(model_metrics), "privacy": _privacy(privacy)}
    failed = [name for name, part in parts.items() if part["passed"] is False]
    parts["overall"] = {
        "status": "fail" if failed else "pass",
        "passed": not failed,
        "summary": ("Failed: " + ", ".join(failed) + ".") if failed else "Every measured check passed.",
        "thresholds": {"min_quality": MIN_QUALITY, "min_utility_ratio": MIN_UTILITY_RATIO},
    }
    return parts
