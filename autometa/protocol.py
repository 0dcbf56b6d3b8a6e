"""The fixed evaluation protocol of the meta-dataset: same folds, rows and metric everywhere.

- Rows: a stratified (classification) or plain random subsample of at most ``max_rows`` rows,
  seed ``seed``; datasets with fewer rows are used whole.
- Folds: ``folds``-fold cross-validation, shuffled with ``seed``; stratified when every class
  has at least ``folds`` rows, plain K-fold otherwise.
- Metric (higher is better): ROC-AUC for binary; macro one-vs-rest ROC-AUC for multiclass
  (averaged over the classes present in both labels of a test fold); R^2 for regression.
  Classification also records the log-loss. Multiclass AUC was chosen over log-loss as the
  score: it is bounded and comparable across datasets, where log-loss grows with the number of
  classes and explodes on one confident mistake.
- A fit that raises is a failure with its reason, never a silently missing row.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from autometa.datasets import Dataset
from autometa.exceptions import DataError
from autometa.spaces import SearchSpace


@dataclasses.dataclass(frozen=True)
class Metric:
    """A metric the knowledge base records for every evaluation, that suggestions can be learned
    from and a study can optimize.

    name : ``"score"`` (the protocol's own metric: ROC-AUC for classification, R^2 for
        regression) or ``"log_loss"``.
    column : the knowledge base's column that holds it.
    greater_is_better : direction.
    tasks : the task kinds that have it.
    """

    name: str
    column: str
    greater_is_better: bool
    tasks: tuple[str, ...]

    def signed(self, values):
        """Values turned so that higher is better (``-log_loss``)."""
        return values if self.greater_is_better else -values


METRICS = {
    "score": Metric("score", "score", True, ("binary", "multiclass", "regression")),
    "log_loss": Metric("log_loss", "log_loss", False, ("binary", "multiclass")),
}
# What a user may ask for, and the recorded metric it means; "auto" is the protocol's own.
METRIC_NAMES = {"auto": "score", "roc_auc": "score", "r2": "score", "log_loss": "log_loss"}
_NAMED_TASKS = {"roc_auc": ("binary", "multiclass"), "r2": ("regression",)}


def resolve_metric(name: str, task: str | None = None) -> Metric:
    """The recorded :class:`Metric` a user's metric name means (``auto``, ``roc_auc``, ``r2``,
    ``log_loss``, or a recorded name), checked against the dataset's `task` when given."""
    if name not in METRIC_NAMES and name not in METRICS:
        raise DataError(f"Unknown metric {name!r}; expected one of {sorted(METRIC_NAMES)}.")
    metric = METRICS[METRIC_NAMES.get(name, name)]
    allowed = _NAMED_TASKS.get(name, metric.tasks)
    if task is not None and task not in allowed:
        kind = "classification" if task in ("binary", "multiclass") else task
        raise DataError(
            f"The metric {name!r} is not recorded for a {kind} dataset (it is for {'/'.join(allowed)}); "
            f"use --metric auto{' or log_loss' if kind == 'classification' else ''}."
        )
    return metric


@dataclasses.dataclass(frozen=True)
class Protocol:
    """The evaluation protocol (see the module docstring).

    folds : cross-validation folds.
    max_rows : row cap of the subsample a dataset is evaluated on.
    seed : seed of the subsample, the folds and the learners.
    version : bumped when the protocol's meaning changes (recorded in the knowledge base).
    """

    folds: int = 3
    max_rows: int = 2000
    seed: int = 0
    version: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "metric": {"binary": "roc_auc", "multiclass": "roc_auc_ovr_macro", "regression": "r2"},
        }


@dataclasses.dataclass(frozen=True)
class Evaluation:
    score: float  # NaN when failed
    fold_scores: list[float]
    log_loss: float  # NaN for regression or failure
    fit_seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def fold_indices(dataset: Dataset, protocol: Protocol) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    n = dataset.n_rows
    if dataset.is_classification:
        codes = dataset.y.cat.codes.to_numpy()
        if np.bincount(codes).min() >= protocol.folds:
            return list(StratifiedKFold(protocol.folds, shuffle=True, random_state=protocol.seed).split(codes, codes))
    return list(KFold(protocol.folds, shuffle=True, random_state=protocol.seed).split(np.arange(n)))


def ovr_auc(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Macro one-vs-rest AUC over the classes with both positives and negatives in `y_true`."""
    from sklearn.metrics import roc_auc_score

    scores = [
        roc_auc_score(y_true == k, proba[:, k]) for k in range(proba.shape[1]) if 0 < np.sum(y_true == k) < len(y_true)
    ]
    return float(np.mean(scores)) if scores else float("nan")


def _proba_all_classes(model, X, n_classes: int) -> np.ndarray:
    """predict_proba with a column for every class, also those absent from a training fold."""
    proba = model.predict_proba(X)
    full = np.zeros((proba.shape[0], n_classes))
    full[:, np.asarray(model.classes_, dtype=int)] = proba
    # Learners that compute in float32 (XGBoost) return rows summing to 1 only up to rounding.
    return full / full.sum(axis=1, keepdims=True)


def prepare_rows(dataset: Dataset, protocol: Protocol) -> Dataset:
    return dataset.subsample(protocol.max_rows, random_state=protocol.seed)


def evaluate(
    space: SearchSpace,
    params: dict[str, Any],
    dataset: Dataset,
    protocol: Protocol,
    folds: list[tuple[np.ndarray, np.ndarray]] | None = None,
    fit: Callable[[Any, pd.DataFrame, np.ndarray], Any] | None = None,
) -> Evaluation:
    """Cross-validate one configuration on `dataset` (already capped by :func:`prepare_rows`).

    fit : ``fit(model, X_train, y_train) -> fitted model``, for a learner that fits its own way
        within the training fold (a peer's early stopping on an inner split); default
        ``model.fit(X_train, y_train)``. Scoring is the same either way.
    """
    from sklearn.metrics import log_loss, r2_score

    folds = folds if folds is not None else fold_indices(dataset, protocol)
    X = dataset.X
    task = dataset.task
    y = dataset.y.cat.codes.to_numpy() if dataset.is_classification else dataset.y.to_numpy()
    n_classes = dataset.n_classes or 0
    scores, losses = [], []
    start = time.perf_counter()
    try:
        for train, test in folds:
            model = space.estimator(task, params, random_state=protocol.seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # learners warn on tiny folds; the score tells the story
                model = model.fit(X.iloc[train], y[train]) if fit is None else fit(model, X.iloc[train], y[train])
                if task == "regression":
                    scores.append(float(r2_score(y[test], model.predict(X.iloc[test]))))
                    continue
                proba = _proba_all_classes(model, X.iloc[test], n_classes)
            scores.append(ovr_auc(y[test], proba) if task == "multiclass" else _binary_auc(y[test], proba))
            losses.append(float(log_loss(y[test], np.clip(proba, 1e-15, 1), labels=np.arange(n_classes))))
    except Exception as error:  # recorded, not raised: a failed fit is a result of the meta-dataset
        return Evaluation(
            float("nan"), scores, float("nan"), time.perf_counter() - start, f"{type(error).__name__}: {error}"[:500]
        )
    elapsed = time.perf_counter() - start
    finite = [s for s in scores if np.isfinite(s)]
    if not finite:
        return Evaluation(float("nan"), scores, float("nan"), elapsed, "no fold had a defined score")
    return Evaluation(float(np.mean(finite)), scores, float(np.mean(losses)) if losses else float("nan"), elapsed)


def _binary_auc(y_true: np.ndarray, proba: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if np.unique(y_true).size < 2:
        return float("nan")
    return float(roc_auc_score(y_true, proba[:, 1]))
