"""Surrogate: expected normalized score of a configuration on a dataset, from metafeatures.

A small ensemble of LightGBM regressors on ``[metafeatures, configuration on the unit scale]``
-> normalized score (1 = best of the pool on that dataset). Each member is trained on a
bootstrap of the training *datasets* (all configurations of a drawn dataset go together), so
the members disagree where the meta-data is thin; that disagreement is what makes the
best-of-n selection (:func:`greedy_best_of`) pick diverse configurations.

Two objectives: ``"regression"`` (L2 on the normalized score; its predictions are expected
normalized scores) and ``"rank"`` (LightGBM lambdarank with one query per dataset, relevance =
the normalized score in 31 grades; its predictions only order configurations). Only evaluated
(dataset, configuration) pairs are training rows, so sparse meta-data (a user's own studies)
trains it too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from autometa.metamodel._data import MetaData

SURROGATE_PARAMS = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "colsample_bytree": 0.5,
    "subsample": 0.8,
    "subsample_freq": 1,
    "n_jobs": 1,
    "verbosity": -1,
}


OBJECTIVES = ("regression", "rank")
RANK_GRADES = 31


@dataclasses.dataclass
class Surrogate:
    space: Any  # the SearchSpace, with the ranges the pool was collected on (configurations go on its unit scale)
    members: int = 8
    random_state: int = 0
    objective: str = "regression"
    models: list = dataclasses.field(default_factory=list)
    metafeature_names: list[str] = dataclasses.field(default_factory=list)

    def fit(self, metadata: MetaData) -> Surrogate:
        import lightgbm

        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}.")
        normalized = metadata.normalized()
        units = self.space.to_unit(metadata.configs).to_numpy(dtype=float)
        self.metafeature_names = list(metadata.metafeatures.columns)
        mf = metadata.metafeatures.reindex(columns=self.metafeature_names).to_numpy(dtype=float)
        values = normalized.to_numpy(dtype=float)
        # Per dataset: the columns (configurations) it was evaluated on, and their targets.
        rows = [np.flatnonzero(~np.isnan(values[i])) for i in range(len(values))]
        rng = np.random.default_rng(self.random_state)
        self.models = []
        for member in range(self.members):
            drawn = (
                rng.choice(len(values), size=len(values), replace=True) if self.members > 1 else np.arange(len(values))
            )
            X = np.vstack([np.hstack([np.repeat(mf[i][None, :], rows[i].size, axis=0), units[rows[i]]]) for i in drawn])
            y = np.concatenate([values[i, rows[i]] for i in drawn])
            settings = {**SURROGATE_PARAMS, "random_state": self.random_state + member}
            if self.objective == "regression":
                model = lightgbm.LGBMRegressor(**settings).fit(X, y)
            else:
                grades = np.rint(y * (RANK_GRADES - 1)).astype(int)
                model = lightgbm.LGBMRanker(**settings, label_gain=list(range(RANK_GRADES))).fit(
                    X, grades, group=[rows[i].size for i in drawn]
                )
            self.models.append(model)
        return self

    def _design(self, metafeatures: pd.DataFrame, units: pd.DataFrame) -> np.ndarray:
        """Rows: every (dataset, configuration) pair, datasets outer, configurations inner."""
        mf = metafeatures.reindex(columns=self.metafeature_names).to_numpy(dtype=float)
        n_configs = len(units)
        return np.hstack([np.repeat(mf, n_configs, axis=0), np.tile(units.to_numpy(dtype=float), (len(mf), 1))])

    def predict_members(self, metafeatures: pd.Series, configs: pd.DataFrame) -> np.ndarray:
        """(members x configurations) predicted normalized scores for one dataset."""
        X = self._design(metafeatures.to_frame().T, self.space.to_unit(configs))
        return np.vstack([model.predict(X) for model in self.models])


def greedy_best_of(scenarios: np.ndarray, n: int, start: list[int] | None = None) -> list[int]:
    """Column indices maximizing the mean over scenarios (rows) of the best chosen value, greedily.

    The first pick is the best on average; each next pick is the one that adds most where the
    picks so far are weak, which is how a portfolio of n differs from the n best on average.
    `start`: picks already made (kept first).
    """
    best_so_far = np.full(scenarios.shape[0], -np.inf)
    chosen: list[int] = []
    for pick in (start or [])[:n]:
        chosen.append(int(pick))
        best_so_far = np.maximum(best_so_far, scenarios[:, pick])
    for _ in range(min(n, scenarios.shape[1]) - len(chosen)):
        gain = np.maximum(best_so_far[:, None], scenarios).mean(axis=0)
        gain[chosen] = -np.inf
        pick = int(np.argmax(gain))
        chosen.append(pick)
        best_so_far = np.maximum(best_so_far, scenarios[:, pick])
    return chosen
