"""The one-page verdict: pass, fail or not measured, with the figures in plain words."""

from __future__ import annotations

from synthlake.verdict import MIN_QUALITY, MIN_UTILITY_RATIO, verdict

PRIVACY_OK = {
    "passed": True, "reasons": [], "dcr_share": 0.49, "dcr_threshold": 0.55, "identical_train_share": 0.0,
    "identical_train_sample_share": 0.0, "identical_holdout_share": 0.0, "n_compared": 400,
    "small_sample_warning": None, "released": True,
}  # fmt: skip
CLASSIFIER = {
    "task": "classification", "label": "species", "synthetic": {"f1_macro": 0.9}, "real": {"f1_macro": 0.95},
    "ratio": {"f1_macro": 0.9 / 0.95},
}  # fmt: skip


def test_everything_passes():
    judged = verdict({"quality_score": 0.9, "detection_auc": 0.6}, CLASSIFIER, PRIVACY_OK)

    assert [judged[part]["status"] for part in ("fidelity", "utility", "privacy", "overall")] == ["pass"] * 4
    assert "0.90" in judged["fidelity"]["summary"] and "ROC-AUC 0.60" in judged["fidelity"]["summary"]
    assert "95%" in judged["utility"]["summary"]


def test_low_quality_and_low_utility_fail_with_their_thresholds():
    weak = {**CLASSIFIER, "synthetic": {"f1_macro": 0.4}, "ratio": {"f1_macro": 0.4 / 0.95}}

    judged = verdict({"quality_score": MIN_QUALITY - 0.1, "detection_auc": 0.95}, weak, PRIVACY_OK)

    assert judged["fidelity"]["status"] == "fail" and judged["utility"]["status"] == "fail"
    assert f"{MIN_UTILITY_RATIO:.0%}" in judged["utility"]["summary"]
    assert judged["overall"]["status"] == "fail"
    assert judged["overall"]["summary"] == "Failed: fidelity, utility."


def test_privacy_failure_gives_the_reasons_and_says_quarantined():
    leaky = {**PRIVACY_OK, "passed": False, "released": False, "reasons": ["30% of synthetic rows copy a training row"]}

    judged = verdict({"quality_score": 0.95, "detection_auc": 0.5}, CLASSIFIER, leaky)

    assert judged["privacy"]["status"] == "fail"
    assert "30% of synthetic rows copy a training row" in judged["privacy"]["summary"]
    assert "quarantined" in judged["privacy"]["summary"]
    assert judged["overall"]["status"] == "fail"


def test_unlabelled_table_and_weak_reference_are_not_measured():
    no_label = verdict({"quality_score": 0.9, "detection_auc": None}, None, PRIVACY_OK)
    weak_reference = {**CLASSIFIER, "task": "regression", "synthetic": {"r2": 0.1}, "real": {"r2": -0.2},
                      "ratio": {}}  # fmt: skip
    weak = verdict({"quality_score": 0.9, "detection_auc": None}, weak_reference, PRIVACY_OK)

    assert no_label["utility"]["status"] == "not measured" and no_label["utility"]["passed"] is None
    assert weak["utility"]["status"] == "not measured"
    assert no_label["overall"]["status"] == "pass"


def test_small_holdout_is_said():
    small = {**PRIVACY_OK, "small_sample_warning": "The holdout has only 12 rows"}

    assert "weak" in verdict({"quality_score": 0.9}, None, small)["privacy"]["summary"]


def test_a_real_reference_without_a_score_is_not_measured_not_a_crash():
    nan_real = {"task": "regression", "label": "y", "synthetic": {"r2": 0.1}, "real": {"r2": None}, "ratio": {}}

    judged = verdict({"quality_score": 0.9, "detection_auc": 0.6}, nan_real, PRIVACY_OK)

    assert judged["utility"]["status"] == "not measured"
    assert "no score" in judged["utility"]["summary"]


def test_privacy_words_compare_copies_on_samples_of_the_same_size():
    figures = {**PRIVACY_OK, "identical_train_share": 0.08, "identical_train_sample_share": 0.02,
               "identical_holdout_share": 0.02}  # fmt: skip

    summary = verdict({"quality_score": 0.9, "detection_auc": 0.6}, CLASSIFIER, figures)["privacy"]["summary"]

    assert "2.0% copy a row of a training sample the holdout's size, against 2.0%" in summary
