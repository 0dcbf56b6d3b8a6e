"""Grouped leave-dataset-out validation of meta-models on a knowledge base.

The held-out datasets are whole groups (:func:`autometa.groups.group_folds`): one group at a
time, or ``folds`` folds of groups. For each, every candidate :class:`MetaModel` is fitted on
the remaining datasets only (their evaluations and their metafeature scaling; nothing of the
held-out group), then asked for configurations of the held-out datasets' pool with
:meth:`MetaModel.rank_pool`: the very code ``suggest`` runs, guard included. Reported: the
normalized regret (HPO-B) of the best of the first k suggestions, for each budget k.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from autometa.groups import group_folds
from autometa.metamodel._data import MetaData
from autometa.metamodel._knn import Scaling, fallback_threshold, l1_distances
from autometa.metamodel._methods import DEFAULT_METHOD
from autometa.metamodel._model import FALLBACK_QUANTILE, NEIGHBOURS, MetaModel


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A meta-model to validate: the :class:`MetaModel` parameters it is fitted with."""

    method: str = DEFAULT_METHOD
    features: str = "handcrafted"
    members: int = 4
    objective: str = "regression"
    neighbours: int = NEIGHBOURS
    guard_quantile: float | None = FALLBACK_QUANTILE

    def fit(self, train: MetaData, space) -> MetaModel:
        return MetaModel(
            space.name,
            self.method,
            members=self.members,
            objective=self.objective,
            features=self.features,
            neighbours=self.neighbours,
            guard_quantile=self.guard_quantile,
        ).fit(train, space)


# ``beyond_threshold`` in the validation's table: farther from the training datasets than this
# quantile of their distances to the nearest dataset of another group (a diagnostic, whatever the
# candidates' own guards are).
FAR_QUANTILE = 0.95

# The candidates of the shipped validation (benchmarks/metamodel_validation.py).
CANDIDATES = {
    "defaults": Candidate("defaults"),
    "portfolio": Candidate("portfolio"),
    "knn": Candidate("knn"),
    "knn_portfolio": Candidate("knn_portfolio"),
    "surrogate": Candidate("surrogate"),
    "surrogate_rank": Candidate("surrogate", objective="rank"),
    "hybrid": Candidate("hybrid"),
}


def expected_random_best_of(regret: np.ndarray, k: int) -> float:
    """Expected best-of-k regret of k configurations drawn without replacement from a pool."""
    from scipy.special import gammaln

    ordered = np.sort(regret)
    n = ordered.size
    if k >= n:
        return float(ordered[0])
    # P(the minimum is the i-th smallest) = C(n-1-i, k-1) / C(n, k), in logs.
    i = np.arange(n - k + 1)
    log_weights = (gammaln(n - i) - gammaln(k) - gammaln(n - i - k + 1)) - (
        gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    )
    return float(np.dot(np.exp(log_weights), ordered[: n - k + 1]))


def leave_group_out(
    metadata: MetaData,
    space,
    candidates: dict[str, Candidate] | None = None,
    budgets: Sequence[int] = (1, 5),
    folds: int | None = None,
    fold_features: pd.DataFrame | None = None,
    seed: int = 0,
    judge: MetaData | None = None,
) -> pd.DataFrame:
    """One row per (held-out dataset, candidate) with ``regret@k`` for each budget k, the held-out
    dataset's distance to its nearest training dataset (``nearest_distance``), whether it lies
    beyond the threshold of the meta-models' guard on this training set (``beyond_threshold``),
    (at :data:`FAR_QUANTILE`) both on `metadata`'s own metafeatures, and whether the candidate fell back
    (``fell_back``).

    space : the :class:`~autometa.spaces.SearchSpace` of the pool (``KnowledgeBase.space(name)``).
    folds, seed : `folds` folds of whole groups drawn with `seed`, or one group at a time (None).
    fold_features : extra metafeatures that differ per fold, indexed by (fold, dataset), e.g.
        Dataset2Vec embeddings from an encoder trained without that fold
        (:func:`autometa.encoder.fold_embeddings` over the same :func:`~autometa.groups.group_folds`).
        Joined to the metafeatures every candidate sees in that fold.
    judge : meta-data of the same pool under another metric (``MetaData.from_knowledge_base(...,
        metric="log_loss")``): the picks learned from `metadata` are scored by the judge's regret,
        on the held-out datasets the judge has; default `metadata` itself.
    """
    candidates = candidates or {"knn_portfolio": Candidate()}
    regret = (judge or metadata).regret()
    rows = []
    for fold, held_out in enumerate(group_folds(metadata, folds, seed)):
        seen = metadata
        if fold_features is not None:
            seen = dataclasses.replace(
                metadata, metafeatures=metadata.metafeatures.join(fold_features.loc[fold].reindex(metadata.datasets))
            )
        train = seen.subset([d for d in metadata.datasets if d not in set(held_out)])
        fitted = {name: candidate.fit(train, space) for name, candidate in candidates.items()}
        own = metadata.metafeatures.loc[train.datasets]
        scaling = Scaling.fit(own)
        reference = scaling.transform(own)
        threshold = fallback_threshold(reference, FAR_QUANTILE, train.groups.to_numpy())
        for dataset in held_out:
            if dataset not in regret.index:
                continue
            pool_regret = regret.loc[dataset]
            query = scaling.transform(metadata.metafeatures.loc[[dataset]])[0]
            base = {
                "dataset": dataset,
                "task": metadata.tasks.loc[dataset],
                "fold": fold,
                "nearest_distance": float(l1_distances(query, reference).min()),
            }
            base["beyond_threshold"] = base["nearest_distance"] > threshold
            for name, model in fitted.items():
                picks, fell_back = model.rank_pool(seen.metafeatures.loc[dataset], max(budgets))
                rows.append(
                    {
                        **base,
                        "method": name,
                        "fell_back": fell_back,
                        **{f"regret@{k}": float(pool_regret.loc[picks[:k]].min()) for k in budgets},
                    }
                )
            rows.append(
                {
                    **base,
                    "method": "random",
                    "fell_back": False,
                    **{f"regret@{k}": expected_random_best_of(pool_regret.to_numpy(), k) for k in budgets},
                }
            )
    return pd.DataFrame(rows)
