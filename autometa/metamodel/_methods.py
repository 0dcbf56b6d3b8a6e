"""Meta-model methods: how a :class:`~autometa.metamodel.MetaModel` chooses configurations.

Each method is one class, registered by name in :data:`METHODS`. :class:`MetaModel` owns what
every method shares (the metafeature scaling, the distances to the training datasets, the
negative-transfer guard, the files); a method owns only its own choice. The validation, both
benchmark modes, ``suggest`` and the CLI all reach a method through ``MetaModel``, so a number
reported for a method is a number of the code that ships.

The contract of a method
------------------------
``name``
    Its key in :data:`METHODS`.
``uses_metafeatures``
    False for methods that ignore the dataset (``defaults``, ``portfolio``): the guard, which
    sends unfamiliar datasets to the static portfolio, does not apply to them.
``fit(metadata, space) -> self``
    Called once, by ``MetaModel.fit``, with the training meta-data (restricted to the metafeature
    view the meta-model reads; it may hold sparse rows of a user's own studies, see
    :meth:`MetaData.complete`) and the :class:`~autometa.spaces.SearchSpace` with the ranges the
    pool was collected on.
``rank(query, n, pool_only) -> list[Pick]``
    Called for one new dataset: up to `n` configurations in the order to try them. `query` is a
    :class:`Query`. With ``pool_only`` only configurations of the evaluated pool may be picked
    (what the validation and the discrete benchmark can score without training a model).
``to_json() -> (state, files)`` and ``from_json(document, files, settings, space)``
    The fitted state as JSON-able keys of ``metamodel.json`` (they must not collide with
    ``MetaModel``'s own) and text files (LightGBM models); ``MetaModel`` writes both and checks
    the files' checksums before ``from_json`` sees them. Never pickle.

A new method is one class here, added to :data:`METHODS`, plus its test.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from autometa.metamodel._data import MetaData
from autometa.metamodel._knn import nearest_dataset_configs
from autometa.metamodel._portfolio import greedy_portfolio
from autometa.metamodel._studies import FIRST_STUDY_CONFIG_ID
from autometa.metamodel._surrogate import Surrogate, greedy_best_of

DEFAULTS_ID = 0  # the pool's configuration 0 is the learner's defaults (see autometa.collect)
DEFAULT_METHOD = "knn_portfolio"  # the shipped default of every space, chosen by grouped validation
KNN_DEPTH = 50  # best configurations kept per training dataset by "knn"
PORTFOLIO_SIZE = 50
FRESH_CANDIDATES = 512  # fresh samples of the space a surrogate ranks besides the pool


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a method may be configured with (each method reads the fields it needs).

    members : surrogate ensemble size (``surrogate``, ``hybrid``).
    objective : surrogate objective, ``"regression"`` or ``"rank"`` (``surrogate``).
    random_state : seed of the surrogate's bootstraps and of fresh candidates.
    neighbours : nearest datasets whose scores are the scenarios (``knn_portfolio``, ``hybrid``).
    first_share : the first pick's robustness rule (``knn_portfolio``): None takes the best mean
        over the neighbours; a share in (0, 1] takes the best mean among the configurations that
        beat the library defaults on at least that share of the neighbours, and the defaults
        themselves where none does (:func:`robust_first`).
    """

    members: int = 8
    objective: str = "regression"
    random_state: int = 0
    neighbours: int = 10
    first_share: float | None = None


def robust_first(scenarios: np.ndarray, defaults: int, share: float) -> int:
    """The column of the "defaults unless" first pick over `scenarios` (neighbours x pool
    configurations, normalized scores): the best mean among the columns that beat column
    `defaults` (the library defaults) on at least `share` of the rows, else `defaults`
    (``benchmarks/first_pick_rules.py`` measures it against other rules)."""
    beats = (scenarios > scenarios[:, [defaults]]).mean(axis=0)
    mean = scenarios.mean(axis=0)
    admitted = np.flatnonzero(beats >= share - 1e-12)
    return int(admitted[np.argmax(mean[admitted])]) if len(admitted) else int(defaults)


@dataclasses.dataclass(frozen=True)
class Query:
    """One new dataset, as a method sees it.

    metafeatures : its metafeatures (the meta-model's view).
    distances : scaled L1 distance to every training dataset, nearest first.
    configs : every configuration the meta-model knows, by id (the pool, then study trials).
    space : the search space, with the ranges the pool was collected on.
    random_state : seed of fresh candidates (None: the method's own).
    """

    metafeatures: pd.Series
    distances: pd.Series
    configs: pd.DataFrame
    space: Any
    random_state: int | None = None


@dataclasses.dataclass(frozen=True)
class Pick:
    """One chosen configuration: a known one (``config_id``) or a fresh one (``config``)."""

    config_id: int | None
    predicted: float | None
    because: str
    config: dict[str, Any] | None = None


def _pool_ids(ids) -> list[int]:
    return [int(c) for c in ids if int(c) < FIRST_STUDY_CONFIG_ID]


class Method:
    """Base class of meta-model methods; see the module docstring for the contract."""

    name: ClassVar[str] = ""
    uses_metafeatures: ClassVar[bool] = True
    surrogate: Surrogate | None = None  # set by methods that fit one (the MetaSampler screens with it)

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()

    def fit(self, metadata: MetaData, space) -> Method:
        return self

    def rank(self, query: Query, n: int, pool_only: bool) -> list[Pick]:
        raise NotImplementedError

    def to_json(self) -> tuple[dict[str, Any], dict[str, str]]:
        return {}, {}

    @classmethod
    def from_json(cls, document: dict[str, Any], files: dict[str, str], settings: Settings, space) -> Method:
        return cls(settings)


class Defaults(Method):
    """The learner's own defaults (pool configuration 0): the baseline every method must beat."""

    name = "defaults"
    uses_metafeatures = False

    def rank(self, query, n, pool_only):
        return [Pick(0, None, "the learner's defaults")]


class Portfolio(Method):
    """Static greedy portfolio (auto-sklearn 2.0 / TabRepo style), no metafeatures: the pool
    configurations that, added one at a time, most lower the training datasets' mean best-so-far
    regret. Also the guard's fallback inside every :class:`MetaModel`."""

    name = "portfolio"
    uses_metafeatures = False

    def fit(self, metadata, space):
        complete = metadata.complete()
        self.portfolio = [int(c) for c in greedy_portfolio(complete.regret(), PORTFOLIO_SIZE)]
        return self

    def rank(self, query, n, pool_only):
        return [Pick(c, None, "static portfolio (no metafeatures)") for c in self.portfolio[:n]]

    def to_json(self):
        # The same greedy portfolio as every MetaModel's fallback, which MetaModel saves as "portfolio".
        return {}, {}

    @classmethod
    def from_json(cls, document, files, settings, space):
        method = cls(settings)
        method.portfolio = [int(c) for c in document["portfolio"]]
        return method


def _best_configs(metadata: MetaData, depth: int) -> dict[str, list[int]]:
    """Per training dataset, its best `depth` configurations, best first (studies included)."""
    normalized = metadata.normalized()
    return {
        d: [int(c) for c in normalized.loc[d].dropna().sort_values(ascending=False, kind="stable").index[:depth]]
        for d in metadata.datasets
    }


class Knn(Method):
    """auto-sklearn 1.0 (Feurer et al., 2015): the best configuration of the nearest dataset,
    then of the next nearest, skipping configurations already chosen."""

    name = "knn"

    def fit(self, metadata, space):
        self.best_configs = _best_configs(metadata, KNN_DEPTH)
        return self

    def rank(self, query, n, pool_only):
        best = self.best_configs
        if pool_only:
            best = {d: _pool_ids(ids) for d, ids in best.items()}
        picks = nearest_dataset_configs(query.distances, best, n)
        return [Pick(c, None, f"best on {d} (distance {query.distances[d]:.3f})") for c, d in picks]

    def to_json(self):
        return {"best_configs": self.best_configs}, {}

    @classmethod
    def from_json(cls, document, files, settings, space):
        method = cls(settings)
        method.best_configs = {d: [int(c) for c in ids] for d, ids in document["best_configs"].items()}
        return method


class KnnPortfolio(Knn):
    """The `n` pool configurations that maximize the expected best-of-n over the normalized
    scores of the ``settings.neighbours`` nearest datasets, chosen greedily; the best trial of a
    user's own study among the nearest datasets goes first."""

    name = "knn_portfolio"

    def fit(self, metadata, space):
        super().fit(metadata, space)
        # Normalized pool scores of the complete datasets: the scenarios of the best-of-n.
        complete = metadata.complete()
        self.pool_scores = complete.normalized().round(4)
        # What each pool configuration cost there, relative to the dataset's typical one (log):
        # the TransferSampler's cost model. None when the meta-data records no costs.
        relative = complete.relative_costs()
        self.pool_costs = None if relative is None else relative.reindex_like(self.pool_scores).fillna(0.0).round(2)
        return self

    def rank(self, query, n, pool_only):
        distances = query.distances
        scores = self.pool_scores
        complete = [d for d in distances.index if d in scores.index][: self.settings.neighbours]
        studies = (
            []
            if pool_only
            else [
                d
                for d in distances.index[: self.settings.neighbours]
                if d not in scores.index and self.best_configs.get(d)
            ]
        )
        start = [(self.best_configs[d][0], d) for d in studies][:n]
        scenarios = scores.loc[complete].to_numpy(dtype=float)
        first = self.first_column(scenarios)
        chosen = greedy_best_of(scenarios, n - len(start), start=None if first is None else [first])
        because = (
            f"best-of-{len(start) + len(chosen)} over the {len(complete)} nearest datasets: "
            + ", ".join(f"{d} ({distances[d]:.3f})" for d in complete[:5])
            + (", ..." if len(complete) > 5 else "")
        )
        return [Pick(c, None, f"best trial of {d} (distance {distances[d]:.3f})") for c, d in start] + [
            Pick(int(scores.columns[i]), float(scenarios[:, i].mean()), because) for i in chosen
        ]

    def first_column(self, scenarios: np.ndarray) -> int | None:
        """The first pick's column under ``settings.first_share`` (None: the greedy best mean)."""
        share = self.settings.first_share
        if share is None or DEFAULTS_ID not in self.pool_scores.columns or not len(scenarios):
            return None
        return robust_first(scenarios, list(self.pool_scores.columns).index(DEFAULTS_ID), share)

    def to_json(self):
        state, files = super().to_json()
        state["pool_scores"] = {
            "datasets": list(self.pool_scores.index),
            "configs": [int(c) for c in self.pool_scores.columns],
            "values": self.pool_scores.to_numpy().tolist(),
        }
        if self.pool_costs is not None:  # same datasets and configurations as pool_scores
            state["pool_costs"] = self.pool_costs.to_numpy().tolist()
        return state, files

    @classmethod
    def from_json(cls, document, files, settings, space):
        method = super().from_json(document, files, settings, space)
        scores = document["pool_scores"]
        method.pool_scores = pd.DataFrame(scores["values"], index=scores["datasets"], columns=scores["configs"])
        costs = document.get("pool_costs")  # absent in a meta-model saved before costs were kept
        method.pool_costs = (
            None if costs is None else pd.DataFrame(costs, index=scores["datasets"], columns=scores["configs"])
        )
        return method


def _surrogate_files(surrogate: Surrogate) -> tuple[dict[str, Any], dict[str, str]]:
    files = {
        f"surrogate_{i}.txt": getattr(model, "booster_", model).model_to_string()
        for i, model in enumerate(surrogate.models)
    }
    return {"surrogate_metafeatures": surrogate.metafeature_names}, files


def _surrogate_from(document, files, settings, objective: str, space) -> Surrogate:
    import lightgbm

    surrogate = Surrogate(space, members=settings.members, random_state=settings.random_state, objective=objective)
    surrogate.metafeature_names = list(document["surrogate_metafeatures"])
    surrogate.models = [
        lightgbm.Booster(model_str=files[name])
        for name in sorted(files, key=lambda f: int(f.removeprefix("surrogate_").removesuffix(".txt")))
    ]
    return surrogate


class SurrogateMethod(Method):
    """A bagged LightGBM surrogate on [metafeatures, configuration] (``settings.objective``:
    regression on the normalized score, or lambdarank); the pool and fresh samples of the space
    are scored, and `n` chosen for the expected best-of-n over the ensemble members."""

    name = "surrogate"

    def fit(self, metadata, space):
        self.surrogate = Surrogate(
            space,
            members=self.settings.members,
            random_state=self.settings.random_state,
            objective=self.settings.objective,
        ).fit(metadata)
        return self

    def rank(self, query, n, pool_only):
        pool = query.configs.loc[query.configs.index < FIRST_STUDY_CONFIG_ID]
        if pool_only:
            candidates = pool
        else:
            seed = self.settings.random_state + 1 if query.random_state is None else query.random_state + 1
            from autometa.spaces import get_space

            # Fresh samples of the installed space (its own parameter order draws the same points).
            fresh = pd.DataFrame(get_space(query.space.name).pool(FRESH_CANDIDATES, seed=seed)[1:])
            candidates = pd.concat([query.configs, fresh], ignore_index=True)
        scenarios = self.surrogate.predict_members(query.metafeatures, candidates)
        expected = scenarios.mean(axis=0)
        nearest = ", ".join(f"{d} ({v:.3f})" for d, v in query.distances.head(3).items())
        because = f"surrogate; nearest known datasets: {nearest}"
        # A ranking surrogate only orders configurations: it predicts no normalized score.
        predicted = self.settings.objective == "regression"
        picks = []
        for i in greedy_best_of(scenarios, n):
            value = float(expected[i]) if predicted else None
            if pool_only:
                picks.append(Pick(int(candidates.index[i]), value, because))
            else:
                picks.append(Pick(None, value, because, config=candidates.iloc[i].to_dict()))
        return picks

    def to_json(self):
        return _surrogate_files(self.surrogate)

    @classmethod
    def from_json(cls, document, files, settings, space):
        method = cls(settings)
        method.surrogate = _surrogate_from(document, files, settings, settings.objective, space)
        return method


class Hybrid(KnnPortfolio):
    """First pick: the pool configuration a ranking surrogate (lambdarank) puts first; the rest:
    the knn_portfolio best-of-n over the nearest datasets, given that first pick."""

    name = "hybrid"

    def fit(self, metadata, space):
        super().fit(metadata, space)
        self.surrogate = Surrogate(
            space, members=self.settings.members, random_state=self.settings.random_state, objective="rank"
        ).fit(metadata)
        return self

    def rank(self, query, n, pool_only):
        pool = self.pool_scores.columns
        configs = query.configs.loc[pool]
        first = int(np.argmax(self.surrogate.predict_members(query.metafeatures, configs).mean(axis=0)))
        complete = [d for d in query.distances.index if d in self.pool_scores.index][: self.settings.neighbours]
        scenarios = self.pool_scores.loc[complete].to_numpy(dtype=float)
        chosen = greedy_best_of(scenarios, n, start=[first])
        because = (
            f"ranking surrogate's first choice, then best-of-{len(chosen)} over the {len(complete)} nearest datasets: "
            + ", ".join(f"{d} ({query.distances[d]:.3f})" for d in complete[:5])
        )
        return [Pick(int(pool[i]), None, because) for i in chosen]

    def to_json(self):
        state, files = super().to_json()
        more, files = _surrogate_files(self.surrogate)
        return {**state, **more}, files

    @classmethod
    def from_json(cls, document, files, settings, space):
        method = super().from_json(document, files, settings, space)
        method.surrogate = _surrogate_from(document, files, settings, "rank", space)
        return method


METHODS: dict[str, type[Method]] = {
    cls.name: cls for cls in (Defaults, Portfolio, Knn, KnnPortfolio, SurrogateMethod, Hybrid)
}
