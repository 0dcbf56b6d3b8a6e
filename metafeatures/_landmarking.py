"""Landmarking: cross-validated scores of cheap learners (Pfahringer, Bensusan and
Giraud-Carrier, "Meta-learning by landmarking various learning algorithms", ICML 2000).

Scores are accuracy (classification, as in pymfe) or R^2 (regression) over ``N_FOLDS``
shuffled folds (stratified when every class has enough rows) of at most
``LEARNER_MAX_ROWS`` (2,000) rows of the subsample (and, for distance and linear learners, at most
200 seeded random columns of wider data). Distance and linear learners see standardized
numeric columns and one-hot categoricals; stumps see numeric values and categorical codes.
"""

from __future__ import annotations

import warnings

import numpy as np

from metafeatures._base import FOLD_SUMMARIES, Failed, Group, Metafeature
from metafeatures._input import Prepared

PFAHRINGER = "Pfahringer et al. 2000"
N_FOLDS = 5
MIN_ROWS = 2 * N_FOLDS


def _folds(y: np.ndarray, classification: bool, random_state: int):
    from sklearn.model_selection import KFold, StratifiedKFold

    if classification and np.bincount(y).min() >= N_FOLDS:
        return StratifiedKFold(N_FOLDS, shuffle=True, random_state=random_state).split(y, y)
    return KFold(N_FOLDS, shuffle=True, random_state=random_state).split(y)


def _score(model, X: np.ndarray, y: np.ndarray, classification: bool, random_state: int) -> np.ndarray:
    from sklearn.metrics import accuracy_score, r2_score

    scores = []
    for train, test in _folds(y, classification, random_state):
        if classification and np.unique(y[train]).size < 2:
            continue
        with warnings.catch_warnings():
            # Collinear or constant columns inside a fold are the data's nature, not an error here.
            warnings.simplefilter("ignore", category=UserWarning)
            warnings.simplefilter("ignore", category=RuntimeWarning)
            predicted = model.fit(X[train], y[train]).predict(X[test])
        scores.append(accuracy_score(y[test], predicted) if classification else r2_score(y[test], predicted))
    return np.asarray(scores, dtype=float)


def _compute(data: Prepared) -> dict:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import Ridge
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    rows, y = data.learner_rows, data.learner_target()
    if rows.size < MIN_ROWS:
        return {f.name: Failed(f"landmarking needs at least {MIN_ROWS} rows") for f in LANDMARKING.features}
    ordinal, scaled = data.ordinal_design[rows], data.capped_columns(data.scaled_design)[rows]
    cls, seed = data.classification, data.random_state
    stump = DecisionTreeClassifier if cls else DecisionTreeRegressor
    neighbours = KNeighborsClassifier if cls else KNeighborsRegressor
    out: dict = {}
    if ordinal.shape[1] == 0:
        return {f.name: Failed("no column with values") for f in LANDMARKING.features}
    out["best_node"] = _score(stump(max_depth=1, random_state=seed), ordinal, y, cls, seed)
    column = np.random.default_rng(seed).integers(ordinal.shape[1])
    out["random_node"] = _score(stump(max_depth=1, random_state=seed), ordinal[:, [column]], y, cls, seed)
    if scaled.shape[1] == 0:
        reason = Failed("no varying column for distance/linear learners")
        out.update({"one_nn": reason, "linear": reason, "naive_bayes": reason})
        return out
    out["one_nn"] = _score(neighbours(n_neighbors=1, algorithm="brute"), scaled, y, cls, seed)
    out["linear"] = _score(LinearDiscriminantAnalysis() if cls else Ridge(alpha=1.0), scaled, y, cls, seed)
    out["naive_bayes"] = _score(GaussianNB(), scaled, y, cls, seed) if cls else Failed("classification only")
    return out


LANDMARKING = Group(
    name="landmarking",
    description="Cross-validated accuracy / R^2 of cheap learners (subsample of at most 2,000 rows).",
    compute=_compute,
    features=(
        Metafeature(
            "best_node",
            "Score of a decision stump (depth-1 tree) on all columns, per fold.",
            PFAHRINGER,
            True,
            FOLD_SUMMARIES,
        ),
        Metafeature(
            "random_node", "Score of a decision stump on one random column, per fold.", PFAHRINGER, True, FOLD_SUMMARIES
        ),
        Metafeature(
            "one_nn",
            "Score of 1-nearest-neighbour (Euclidean, standardized), per fold.",
            PFAHRINGER,
            True,
            FOLD_SUMMARIES,
        ),
        Metafeature(
            "linear",
            "Score of LDA (classification) or ridge regression (alpha=1), per fold.",
            PFAHRINGER,
            True,
            FOLD_SUMMARIES,
        ),
        Metafeature(
            "naive_bayes",
            "Accuracy of Gaussian naive Bayes, per fold (classification).",
            PFAHRINGER,
            True,
            FOLD_SUMMARIES,
        ),
    ),
)
