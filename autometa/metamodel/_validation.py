"""Grouped leave-dataset-out validation of warm-start methods on a knowledge base.

The held-out datasets are whole near-duplicate groups: one group at a time, or ``folds``
folds of groups. For each, every method is fitted on the remaining datasets only (their
evaluations and their metafeature scaling; nothing of the held-out group), then asked for
configurations of the held-out datasets' pool. Reported: the normalized regret (HPO-B) of the
best of the first k suggestions, for each budget k.

A method is ``fit(train: MetaData) -> suggest``, where ``suggest(metafeatures: Series, n: int)``
returns config ids, best first. Methods see every metafeature column; :func:`on_features`
restricts one to handcrafted metafeatures, Dataset2Vec embeddings (columns ``d2v.*``) or both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from autometa.metamodel._data import MetaData, feature_view
from autometa.metamodel._knn import Scaling, fallback_threshold, l1_distances, nearest_dataset_configs
from autometa.metamodel._portfolio import greedy_portfolio
from autometa.metamodel._surrogate import Surrogate, greedy_best_of

Suggest = Callable[[pd.Series, int], list[int]]
Method = Callable[[MetaData], Suggest]


def on_features(method: Method, view: str) -> Method:
    """`method` fitted and queried on the columns of one feature view only."""

    def fit(train: MetaData) -> Suggest:
        columns = feature_view(list(train.metafeatures.columns), view)
        if not columns:
            raise ValueError(f"The meta-data has no {view} metafeatures.")
        suggest = method(dataclasses.replace(train, metafeatures=train.metafeatures[columns]))
        return lambda metafeatures, n: suggest(metafeatures.reindex(columns), n)

    return fit


def defaults_method(train: MetaData) -> Suggest:
    return lambda metafeatures, n: [0]


def portfolio_method(train: MetaData, size: int = 50) -> Suggest:
    portfolio = greedy_portfolio(train.regret(), size)
    return lambda metafeatures, n: portfolio[:n]


def knn_method(train: MetaData, depth: int = 25) -> Suggest:
    scaling = Scaling.fit(train.metafeatures)
    reference = scaling.transform(train.metafeatures)
    normalized = train.normalized()
    best = {d: list(normalized.loc[d].sort_values(ascending=False, kind="stable").index[:depth]) for d in train.datasets}

    def suggest(metafeatures: pd.Series, n: int) -> list[int]:
        query = scaling.transform(metafeatures.to_frame().T)[0]
        distances = pd.Series(l1_distances(query, reference), index=train.datasets)
        return [config for config, _ in nearest_dataset_configs(distances, best, n)]

    return suggest


def _nearest_scenarios(train: MetaData, neighbours: int) -> Callable[[pd.Series], np.ndarray]:
    """metafeatures -> the normalized pool scores of the `neighbours` nearest training datasets."""
    scaling = Scaling.fit(train.metafeatures)
    reference = scaling.transform(train.metafeatures)
    normalized = train.normalized().to_numpy()

    def scenarios(metafeatures: pd.Series) -> np.ndarray:
        query = scaling.transform(metafeatures.to_frame().T)[0]
        return normalized[np.argsort(l1_distances(query, reference), kind="stable")[:neighbours]]

    return scenarios


def knn_portfolio_method(train: MetaData, neighbours: int = 10) -> Suggest:
    """Greedy best-of-n over the `neighbours` nearest training datasets' normalized scores."""
    scenarios = _nearest_scenarios(train, neighbours)
    return lambda metafeatures, n: [int(train.configs.index[i]) for i in greedy_best_of(scenarios(metafeatures), n)]


_SURROGATES: dict[tuple, Surrogate] = {}


def _fitted_surrogate(params: dict[str, dict], train: MetaData, members: int, objective: str) -> Surrogate:
    """One surrogate per (training datasets, members, objective): methods of a fold share it."""
    key = (tuple(train.datasets), tuple(train.metafeatures.columns), members, objective)
    if key not in _SURROGATES:
        for old in [k for k in _SURROGATES if k[0] != key[0]]:
            del _SURROGATES[old]  # a new fold: the previous fold's surrogates are done
        _SURROGATES[key] = Surrogate(params, members=members, objective=objective).fit(train)
    return _SURROGATES[key]


def make_hybrid_method(params: dict[str, dict], members: int = 4, neighbours: int = 10) -> Method:
    """First pick: the ranking surrogate's best; the rest: greedy best-of-n over the nearest datasets."""

    def fit(train: MetaData) -> Suggest:
        surrogate = _fitted_surrogate(params, train, members, "rank")
        scenarios = _nearest_scenarios(train, neighbours)

        def suggest(metafeatures: pd.Series, n: int) -> list[int]:
            first = int(np.argmax(surrogate.predict_members(metafeatures, train.configs).mean(axis=0)))
            picks = greedy_best_of(scenarios(metafeatures), n, start=[first])
            return [int(train.configs.index[i]) for i in picks]

        return suggest

    return fit


def make_surrogate_method(params: dict[str, dict], members: int = 8, objective: str = "regression") -> Method:
    """Score the pool with a surrogate ensemble; choose n by expected best-of-n over its members."""

    def fit(train: MetaData) -> Suggest:
        surrogate = _fitted_surrogate(params, train, members, objective)

        def suggest(metafeatures: pd.Series, n: int) -> list[int]:
            scenarios = surrogate.predict_members(metafeatures, train.configs)
            return [int(train.configs.index[i]) for i in greedy_best_of(scenarios, n)]

        return suggest

    return fit


METHODS: dict[str, Method] = {"defaults": defaults_method, "portfolio": portfolio_method, "knn": knn_method,
                              "knn_portfolio": knn_portfolio_method}


def expected_random_best_of(regret: np.ndarray, k: int) -> float:
    """Expected best-of-k regret of k configurations drawn without replacement from a pool."""
    from scipy.special import gammaln

    ordered = np.sort(regret)
    n = ordered.size
    if k >= n:
        return float(ordered[0])
    # P(the minimum is the i-th smallest) = C(n-1-i, k-1) / C(n, k), in logs.
    i = np.arange(n - k + 1)
    log_weights = (gammaln(n - i) - gammaln(k) - gammaln(n - i - k + 1)) - (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1))
    return float(np.dot(np.exp(log_weights), ordered[: n - k + 1]))


def group_folds(metadata: MetaData, folds: int | None, seed: int = 0) -> list[list[str]]:
    """Held-out dataset lists: one per near-duplicate group (None), or `folds` folds of whole groups."""
    groups = sorted(metadata.groups.unique())
    if folds is None:
        assignment = {g: i for i, g in enumerate(groups)}
    else:
        order = np.random.default_rng(seed).permutation(len(groups))
        assignment = {groups[j]: rank % folds for rank, j in enumerate(order)}
    held: dict[int, list[str]] = {}
    for dataset in metadata.datasets:
        held.setdefault(assignment[metadata.groups.loc[dataset]], []).append(dataset)
    return [held[k] for k in sorted(held)]


def leave_group_out(metadata: MetaData, methods: dict[str, Method] | None = None,
                    budgets: Sequence[int] = (1, 5), folds: int | None = None,
                    fallback_quantile: float = 0.95, fold_features: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (held-out dataset, method) with ``regret@k`` for each budget k, and the held-out
    dataset's distance to its nearest training dataset (``nearest_distance``) and whether it lies
    beyond the fallback threshold the meta-model would set on this training set
    (``beyond_threshold``, at `fallback_quantile`), both on `metadata`'s own metafeatures.

    fold_features : extra metafeatures that differ per fold, indexed by (fold, dataset), e.g.
        Dataset2Vec embeddings from an encoder trained without that fold
        (:func:`autometa.encoder.fold_embeddings` over the same :func:`group_folds`). Joined to
        the metafeatures every method sees in that fold.
    """
    methods = methods or METHODS
    regret = metadata.regret()
    rows = []
    for fold, held_out in enumerate(group_folds(metadata, folds)):
        seen = metadata
        if fold_features is not None:
            seen = dataclasses.replace(metadata, metafeatures=metadata.metafeatures.join(
                fold_features.loc[fold].reindex(metadata.datasets)))
        train = seen.subset([d for d in metadata.datasets if d not in set(held_out)])
        fitted = {name: method(train) for name, method in methods.items()}
        own = metadata.metafeatures.loc[train.datasets]
        scaling = Scaling.fit(own)
        reference = scaling.transform(own)
        threshold = fallback_threshold(reference, fallback_quantile)
        for dataset in held_out:
            pool_regret = regret.loc[dataset]
            query = scaling.transform(metadata.metafeatures.loc[[dataset]])[0]
            base = {"dataset": dataset, "task": metadata.tasks.loc[dataset],
                    "nearest_distance": float(l1_distances(query, reference).min())}
            base["beyond_threshold"] = base["nearest_distance"] > threshold
            for name, suggest in fitted.items():
                picks = suggest(seen.metafeatures.loc[dataset], max(budgets))
                rows.append({**base, "method": name,
                             **{f"regret@{k}": float(pool_regret.loc[picks[:k]].min()) for k in budgets}})
            rows.append({**base, "method": "random",
                         **{f"regret@{k}": expected_random_best_of(pool_regret.to_numpy(), k) for k in budgets}})
    return pd.DataFrame(rows)
