"""Grouped leave-dataset-out validation of warm-start methods on a knowledge base.

For every dataset, each method is rebuilt on the other datasets minus the held-out dataset's
near-duplicate group (its evaluations and its metafeature scaling never reach the method), then
asked for `n` configurations of the held-out dataset's pool. Reported: the normalized regret
(HPO-B) of the first suggestion and of the best of the first k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from autometa.metamodel._data import MetaData
from autometa.metamodel._knn import Scaling, l1_distances, nearest_dataset_configs
from autometa.metamodel._portfolio import greedy_portfolio

# A method: (training meta-data, held-out dataset's metafeatures, n) -> config ids, best first.
Method = Callable[[MetaData, pd.Series, int], list[int]]


def defaults_method(train: MetaData, metafeatures: pd.Series, n: int) -> list[int]:
    return [0]


def portfolio_method(train: MetaData, metafeatures: pd.Series, n: int) -> list[int]:
    return greedy_portfolio(train.regret(), n)


def knn_method(train: MetaData, metafeatures: pd.Series, n: int) -> list[int]:
    scaling = Scaling.fit(train.metafeatures)
    distances = pd.Series(l1_distances(scaling.transform(metafeatures.to_frame().T)[0],
                                       scaling.transform(train.metafeatures)), index=train.datasets)
    normalized = train.normalized()
    best = {d: list(normalized.loc[d].sort_values(ascending=False, kind="stable").index[:n]) for d in train.datasets}
    return [config for config, _ in nearest_dataset_configs(distances, best, n)]


METHODS: dict[str, Method] = {"defaults": defaults_method, "portfolio": portfolio_method, "knn": knn_method}


def expected_random_best_of(regret: np.ndarray, k: int) -> float:
    """Expected best-of-k regret of k configurations drawn without replacement from a pool."""
    ordered = np.sort(regret)
    n = ordered.size
    if k >= n:
        return float(ordered[0])
    # P(the minimum is the i-th smallest) = C(n-1-i, k-1) / C(n, k), computed in logs.
    from scipy.special import gammaln

    def log_comb(a: np.ndarray | int, b: int) -> np.ndarray:
        return gammaln(np.asarray(a) + 1) - gammaln(b + 1) - gammaln(np.asarray(a) - b + 1)

    i = np.arange(n - k + 1)
    weights = np.exp(log_comb(n - 1 - i, k - 1) - log_comb(n, k))
    return float(np.dot(weights, ordered[: n - k + 1]))


def leave_group_out(metadata: MetaData, methods: dict[str, Method] | None = None,
                    budgets: Sequence[int] = (1, 5)) -> pd.DataFrame:
    """One row per (dataset, method): regret of the best of the first k suggestions for each budget."""
    methods = methods or METHODS
    regret = metadata.regret()
    rows = []
    for dataset in metadata.datasets:
        train = metadata.without_group_of(dataset)
        held_out = regret.loc[dataset]
        query = metadata.metafeatures.loc[dataset]
        for name, method in methods.items():
            suggestions = method(train, query, max(budgets))
            row = {"dataset": dataset, "task": metadata.tasks.loc[dataset], "method": name}
            for k in budgets:
                row[f"regret@{k}"] = float(held_out.loc[suggestions[:k]].min())
            rows.append(row)
        row = {"dataset": dataset, "task": metadata.tasks.loc[dataset], "method": "random"}
        for k in budgets:
            row[f"regret@{k}"] = expected_random_best_of(held_out.to_numpy(), k)
        rows.append(row)
    return pd.DataFrame(rows)
