"""The decision-tree check: does a model trained on synthetic data work on real data?

The label decides the task: a categorical, boolean or low-cardinality whole-number
label gets a classifier, any other numeric label a regressor. Two trees are trained,
one on the synthetic table and one on the real training rows, and both are tested on
the real holdout that CTGAN never saw (train-synthetic-test-real against
train-real-test-real).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score, roc_auc_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from synthlake.errors import DataError
from synthlake.evaluation import numeric_view
from synthlake.schema import TableSchema

Task = Literal["classification", "regression"]
CLASSIFY_MAX_INTEGER_VALUES = 10
MAX_CATEGORIES = 30
MIN_HOLDOUT_LABELS = 5


def check_label(schema: TableSchema, label: str) -> None:
    """Refuse a label the model step cannot use, naming the table and column.

    Raises:
        DataError: the label is not a column, or has fewer than two distinct values,
            or is an identifier or datetime column.
    """
    table = schema.table
    if label not in schema.names():
        raise DataError(
            f"Label '{label}' is not a column of table '{table}'; set 'tables.{table}.label_variable' "
            "to one of its columns",
            table=table,
            column=label,
        )
    column = schema.column(label)
    if column.kind in ("empty", "constant"):
        raise DataError(
            f"Label '{label}' of table '{table}' has a single value (or none); a model cannot learn it. "
            "Choose another label or remove it",
            table=table,
            column=label,
        )
    if column.kind in ("identifier", "datetime"):
        raise DataError(
            f"Label '{label}' of table '{table}' is a {column.kind} column; choose a categorical, "
            "boolean or numeric label",
            table=table,
            column=label,
        )


def choose_task(schema: TableSchema, label: str) -> Task:
    """Classification or regression, from the label's kind and cardinality."""
    column = schema.column(label)
    if column.kind in ("categorical", "boolean"):
        return "classification"
    if column.integer and column.n_unique <= CLASSIFY_MAX_INTEGER_VALUES:
        return "classification"
    return "regression"


class _Features:
    """Turns a table into a numeric feature matrix, with categories learned from real data."""

    def __init__(self, schema: TableSchema, label: str, reference: pd.DataFrame, k: int = 1):
        self.schema = schema
        self.numeric = [
            c.name for c in schema.columns if c.kind in ("numeric", "datetime", "boolean") and c.name != label
        ]
        self.categories = {}
        for column in schema.columns:
            if column.kind == "categorical" and column.name != label:
                counts = reference[column.name].dropna().astype(str).value_counts()
                counts = counts[counts >= k]  # a rare label would be named in the feature importances
                self.categories[column.name] = list(counts.index[:MAX_CATEGORIES])
        self.source: dict[str, str] = {}

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        parts = [numeric_view(frame, self.schema)[self.numeric]]
        for name in self.numeric:
            self.source[name] = name
        for name, labels in self.categories.items():
            values = frame[name].astype(object).where(frame[name].notna(), None)
            for label in labels:
                feature = f"{name}={label}"
                self.source[feature] = name
                parts.append(
                    pd.DataFrame({feature: (values.astype(str) == label).astype("float64")}, index=frame.index)
                )
        return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)


def _metrics(task: Task, model: Any, features: pd.DataFrame, target: pd.Series) -> dict[str, float | None]:
    predicted = model.predict(features)
    if task == "regression":
        return {
            "r2": float(r2_score(target, predicted)),
            "mae": float(mean_absolute_error(target, predicted)),
            "rmse": float(np.sqrt(np.mean((np.asarray(target, dtype=float) - predicted) ** 2))),
        }
    result: dict[str, float | None] = {
        "accuracy": float(accuracy_score(target, predicted)),
        "f1_macro": float(f1_score(target, predicted, average="macro", zero_division=0)),
        "roc_auc": None,
    }
    classes = sorted(pd.unique(target))
    if len(classes) == 2 and len(model.classes_) == 2:
        positive = list(model.classes_).index(model.classes_[1])
        result["roc_auc"] = float(
            roc_auc_score(target == model.classes_[1], model.predict_proba(features)[:, positive])
        )
    return result


def _importance(model: Any, features: _Features, columns: list[str]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for feature, value in zip(columns, model.feature_importances_, strict=True):
        source = features.source.get(feature, feature)
        totals[source] = totals.get(source, 0.0) + float(value)
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def _target(frame: pd.DataFrame, label: str, task: Task) -> pd.Series:
    values = frame[label]
    if task == "classification":
        return values.astype(object).where(values.notna(), None).map(lambda v: None if v is None else str(v))
    return pd.to_numeric(values, errors="coerce").astype("float64")


def evaluate(
    *,
    schema: TableSchema,
    label: str,
    real_train: pd.DataFrame,
    real_holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    seed: int = 42,
    task: Task | None = None,
    k: int = 1,
) -> dict[str, Any]:
    """Train on synthetic and on real, test both on the real holdout.

    Args:
        k: categories held by fewer than ``k`` real training rows are not used as
            features, so that their labels never appear in the importances.

    Returns:
        A record for ``model_metrics.json``. When the data make the check impossible
        (too few labelled holdout rows, no feature), ``skipped`` says why.
    """
    check_label(schema, label)
    task = task or choose_task(schema, label)
    record: dict[str, Any] = {"label": label, "task": task, "skipped": None}
    targets = {name: _target(frame, label, task) for name, frame in
               (("real", real_train), ("holdout", real_holdout), ("synthetic", synthetic))}  # fmt: skip
    frames = {"real": real_train, "holdout": real_holdout, "synthetic": synthetic}
    kept = {name: frames[name][targets[name].notna()] for name in frames}
    targets = {name: targets[name].dropna() for name in targets}
    record.update({f"{name}_rows": len(kept[name]) for name in kept})
    if len(kept["holdout"]) < MIN_HOLDOUT_LABELS or len(kept["real"]) < MIN_HOLDOUT_LABELS:
        record["skipped"] = f"fewer than {MIN_HOLDOUT_LABELS} labelled rows in the real training part or holdout"
        return record
    if len(kept["synthetic"]) == 0:
        record["skipped"] = "the synthetic table has no labelled row"
        return record
    features = _Features(schema, label, kept["real"], k)
    matrices = {name: features.transform(kept[name]) for name in kept}
    if matrices["real"].shape[1] == 0:
        record["skipped"] = "no column other than the label can be used as a feature"
        return record
    columns = list(matrices["real"].columns)
    record["features"] = sorted(set(features.source.values()))
    estimator = DecisionTreeClassifier if task == "classification" else DecisionTreeRegressor
    results, importances = {}, {}
    for name in ("synthetic", "real"):
        model = estimator(min_samples_leaf=5, max_depth=10, random_state=seed)
        model.fit(matrices[name][columns], targets[name])
        results[name] = _metrics(task, model, matrices["holdout"][columns], targets["holdout"])
        importances[name] = _importance(model, features, columns)
    record["synthetic"], record["real"] = results["synthetic"], results["real"]
    record["ratio"] = {
        metric: (results["synthetic"][metric] / results["real"][metric])
        if results["real"][metric] not in (None, 0) and results["synthetic"][metric] is not None
        else None
        for metric in results["real"]
        if metric in ("accuracy", "f1_macro", "roc_auc", "r2")
    }
    record["feature_importance"] = importances
    return record
