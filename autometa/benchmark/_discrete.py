"""Discrete-mode benchmark (HPO-B style): every method chooses among a held-out dataset's evaluated pool.

Protocol
--------
- Held-out units are folds of whole groups (``metadata.groups``: family groups by default, see
  :meth:`autometa.knowledge.KnowledgeBase.groups`; ``folds``, ``fold_seed``). For each fold the
  meta-models (their metafeature scaling, nearest datasets, portfolio, surrogate) are rebuilt
  from the other folds only; nothing of a held-out dataset is used to choose for it.
- A method returns the pool configurations it would evaluate, in order, up to ``budget``; the
  score of each is read from the knowledge base, so no model is trained. A sampler that proposes
  a point outside the pool (TPE, MetaSampler) gets the nearest not-yet-used pool configuration
  on the unit scale of the space, and learns that configuration's score.
- Peers are never snapped onto the pool: ``flaml`` and ``autogluon`` are scored from the exact
  evaluations of their own configurations under the same protocol (:mod:`autometa.peers`,
  ``autometa kb peers``).
- Curves: normalized regret of the best-so-far score (HPO-B; 0 = the best of the pool and of
  every peer evaluation of the dataset), per (dataset, seed, method, budget). A method that stops
  proposing (defaults, FLAML: one configuration; AutoGluon: 16) keeps its last regret for the
  larger budgets.
- Time: each curve point also records ``time``, the summed recorded fit time of the trials so
  far (the knowledge base's ``fit_seconds``, peers' included), in units of the dataset's median
  pool configuration: what the regret cost in wall time, one trial after another.
- Deterministic methods give the same sequence for every seed; seeds vary random search, TPE
  and the samplers built on TPE. Each draws from (seed, dataset name), so each dataset gets its
  own draws: one seed for every dataset would make TPE's random start-up trials the same pool
  points on every dataset, and a mean curve an average over only `seeds` random orders.
- The ``autometa-d2v*`` and ``autometa-both*`` methods read Dataset2Vec embeddings (alone, or with
  the handcrafted metafeatures) from an encoder trained without the fold's datasets
  (``fold_features``, :func:`autometa.encoder.cached_fold_embeddings`); the other methods read
  the handcrafted metafeatures only.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from autometa.benchmark._metrics import best_so_far_regret
from autometa.deepkernel import PRIOR_WEIGHT
from autometa.exceptions import DataError
from autometa.groups import group_folds
from autometa.metamodel import DEFAULT_METHOD, MetaData, MetaModel

WARM_START = 5  # suggestions enqueued before TPE / MetaSampler take over


@dataclasses.dataclass
class HeldOut:
    """One held-out dataset: its pool scores (NaN = failed fit), metafeatures, and the exact
    evaluations of the peers' own configurations (peer -> scores in the peer's order)."""

    dataset: str
    task: str
    scores: pd.Series
    metafeatures: pd.Series
    peers: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    costs: pd.Series | None = None  # config id -> recorded fit seconds
    peer_costs: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def score(self, item) -> float:
        """The score of a pool configuration id, or of a peer's configuration ``(peer, rank)``."""
        if isinstance(item, tuple):
            return float(self.peers[item[0]][item[1]])
        return float(self.scores.loc[item])

    @functools.cached_property
    def typical_cost(self) -> float:
        """The median recorded fit time of the dataset's pool configurations (the time unit)."""
        return float(np.nanmedian(self.costs.to_numpy(dtype=float)))

    def cost(self, item) -> float:
        """The recorded fit time of a pool configuration or peer configuration, in units of the
        dataset's median pool configuration (1 where not recorded); NaN without recorded costs."""
        if self.costs is None:
            return float("nan")
        typical = self.typical_cost
        if isinstance(item, tuple):
            seconds = self.peer_costs.get(item[0], [])
            value = float(seconds[item[1]]) if item[1] < len(seconds) else float("nan")
        else:
            value = float(self.costs.loc[item])
        return value / typical if typical > 0 and value == value else 1.0

    def bounds(self) -> tuple[float, float]:
        """(best, worst) score over the pool and every peer evaluation: regret 0 is the best of both."""
        return score_bounds(self.scores, self.peers.values())


def score_bounds(scores: pd.Series, peer_scores=()) -> tuple[float, float]:
    """(best, worst) of a dataset's pool `scores` and its peers' exact evaluations (lists of scores)."""
    every = np.concatenate([scores.to_numpy(dtype=float), *[np.asarray(s, dtype=float) for s in peer_scores]])
    return float(np.nanmax(every)), float(np.nanmin(every))


def dataset_bounds(metadata: MetaData, peers: pd.DataFrame | None) -> dict[str, list[float]]:
    """Every dataset's regret reference, ``[best, worst]`` (:meth:`HeldOut.bounds`), as a run uses it."""
    out = {}
    for dataset in metadata.datasets:
        own = [] if peers is None else [p["score"] for _, p in peers[peers["dataset"] == dataset].groupby("peer")]
        out[dataset] = list(score_bounds(metadata.scores.loc[dataset], own))
    return out


@dataclasses.dataclass
class Fold:
    """What the methods may learn from for one fold: the training meta-data and fitted meta-models."""

    train: MetaData
    space: Any  # the SearchSpace of the pool
    autometa_method: str
    members: int
    # MetaModel neighbours / guard_quantile / first_share
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    _models: dict[tuple, MetaModel] = dataclasses.field(default_factory=dict)
    _derived: dict[str, Any] = dataclasses.field(default_factory=dict)  # other fitted things, once a fold

    def model(self, method: str, features: str = "handcrafted", **overrides: Any) -> MetaModel:
        """The fold's meta-model of `method` (fitted once a fold); `overrides` change the fold's
        settings for this one (e.g. ``first_share=0.6``, a selection variant's)."""
        key = (method, features, *sorted(overrides.items()))
        if key not in self._models:
            if features != "handcrafted" and not any(c.startswith("d2v.") for c in self.train.metafeatures.columns):
                raise MethodUnavailable(
                    "no Dataset2Vec fold embeddings: run with --corpus and autometa[torch] "
                    "installed (encoders are trained per fold)"
                )
            self._models[key] = MetaModel(
                self.space.name, method, members=self.members, features=features, **{**self.settings, **overrides}
            ).fit(self.train, self.space)
        return self._models[key]

    def kernel(self):
        """A deep kernel pretrained on this fold's knn_portfolio pool scores (once a fold)."""
        if "deepkernel" not in self._derived:
            from autometa.optuna import pretrained_kernel

            try:
                self._derived["deepkernel"] = pretrained_kernel(self.model("knn_portfolio"), space=self.space.name)
            except DataError as error:  # no torch
                raise MethodUnavailable(str(error)) from error
        return self._derived["deepkernel"]


class Pool:
    """The space's pool on the unit scale, for snapping proposals to evaluated configurations."""

    def __init__(self, configs: pd.DataFrame, space):
        self.space = space
        self.ids = np.asarray(configs.index)
        self.configs = pd.DataFrame(
            {name: configs[name].clip(p.low, p.high) for name, p in space.params.items()}, index=configs.index
        )
        self.units = space.to_unit(self.configs).to_numpy(dtype=float)

    def typed(self, config_id: int) -> dict[str, Any]:
        row = self.configs.loc[config_id]
        return {k: int(round(row[k])) if p.integer else float(row[k]) for k, p in self.space.params.items()}

    def nearest_unused(self, config: dict[str, Any], used: set[int]) -> int:
        full = {**{k: self.configs.iloc[0][k] for k in self.space.params}, **config}
        frame = pd.DataFrame([{k: min(p.high, max(p.low, float(full[k]))) for k, p in self.space.params.items()}])
        point = self.space.to_unit(frame).to_numpy(dtype=float)[0]
        distance = np.square(self.units - point).sum(axis=1)
        distance[[i for i, c in enumerate(self.ids) if c in used]] = np.inf
        return int(self.ids[int(np.argmin(distance))])


# -- methods: (fold, held-out, pool, budget, seed) -> config ids in evaluation order ------------


def _dataset_seed(seed: int, dataset: str) -> int:
    """A seed of its own per (seed, dataset): samplers must not make the same random draws on every
    dataset (crc32: stable across processes)."""
    return int(np.random.SeedSequence([seed, zlib.crc32(dataset.encode())]).generate_state(1)[0])


def _random(fold, held, pool, budget, seed):
    rng = np.random.default_rng([seed, zlib.crc32(held.dataset.encode())])
    return [int(c) for c in rng.permutation(pool.ids)[:budget]]


def _defaults(fold, held, pool, budget, seed):
    # The learner's own defaults: evaluated exactly as a peer where they differ by task or are no
    # point of the space (random forests), else the pool's first configuration.
    return [("defaults", 0)] if "defaults" in held.peers else [0]


def _portfolio(fold, held, pool, budget, seed):
    return fold.model("portfolio").rank_pool(held.metafeatures, budget)[0]


def _knn(fold, held, pool, budget, seed):
    return fold.model("knn").rank_pool(held.metafeatures, budget)[0]


def _autometa_on(features: str) -> Callable:
    def run(fold, held, pool, budget, seed):
        return fold.model(fold.autometa_method, features).rank_pool(held.metafeatures, budget)[0]

    return run


_autometa = _autometa_on("handcrafted")


def _sequential(held: HeldOut, pool: Pool, budget: int, sampler, start: Sequence[int]) -> list[int]:
    """Ask `sampler` for proposals, snap each to the nearest unused pool configuration, and tell
    the sampler that configuration's score (the proposal itself is marked failed: never evaluated)."""
    import optuna
    from optuna.trial import TrialState, create_trial

    distributions = pool.space.distributions()
    study = optuna.create_study(direction="maximize", sampler=sampler)
    chosen: list[int] = []

    def record(config_id: int) -> None:
        chosen.append(config_id)
        score = held.score(config_id)
        state = TrialState.FAIL if math.isnan(score) else TrialState.COMPLETE
        study.add_trial(
            create_trial(
                params=pool.typed(config_id),
                distributions=distributions,
                value=None if state == TrialState.FAIL else score,
                state=state,
            )
        )

    for config_id in list(start)[:budget]:
        record(config_id)
    used = set(chosen)
    while len(chosen) < min(budget, len(pool.ids)):
        trial = study.ask(distributions)
        config_id = pool.nearest_unused(trial.params, used)
        study.tell(trial, state=TrialState.FAIL)
        used.add(config_id)
        record(config_id)
    return chosen


def _tpe(fold, held, pool, budget, seed):
    import optuna

    return _sequential(held, pool, budget, optuna.samplers.TPESampler(seed=_dataset_seed(seed, held.dataset)), [])


def _autometa_tpe_on(features: str) -> Callable:
    def run(fold, held, pool, budget, seed):
        import optuna

        start = _autometa_on(features)(fold, held, pool, WARM_START, seed)
        sampler = optuna.samplers.TPESampler(seed=_dataset_seed(seed, held.dataset))
        return _sequential(held, pool, budget, sampler, start)

    return run


def _autometa_metasampler_on(features: str) -> Callable:
    def run(fold, held, pool, budget, seed):
        from autometa.optuna import MetaSampler

        start = _autometa_on(features)(fold, held, pool, WARM_START, seed)
        sampler = MetaSampler(
            metamodel=fold.model("surrogate", features),
            metafeatures=held.metafeatures,
            seed=_dataset_seed(seed, held.dataset),
            space=fold.space.name,
        )
        return _sequential(held, pool, budget, sampler, start)

    return run


@dataclasses.dataclass(frozen=True)
class SamplerMethod:
    """A transfer sampler with given settings, run from the first trial on the fold's
    knn_portfolio meta-model: ``settings["sampler"]`` names it, ``"transfer"`` (the default, the
    :class:`~autometa.optuna.TransferSampler`) or ``"deepkernel"`` (the
    :class:`~autometa.optuna.DeepKernelSampler` with the fold's pretrained kernel); the other
    settings are its keyword arguments. A TransferSampler's ``refine="deepkernel"`` hands over to
    the DeepKernelSampler after the pool phase instead of TPE (``refine_prior``: that sampler's
    ``prior``, default 0). ``first_share``: the fold's knn_portfolio meta-model with that robust
    first-pick rule (:class:`~autometa.metamodel.MetaModel`). A plain object (not a closure), so
    that a variant registered in :data:`METHODS` reaches the benchmark's worker processes."""

    settings: dict = dataclasses.field(default_factory=dict)

    def __call__(self, fold, held, pool, budget, seed):
        from autometa.optuna import DeepKernelSampler, TransferSampler

        settings = dict(self.settings)
        kind = settings.pop("sampler", "transfer")
        if kind not in ("transfer", "deepkernel"):
            raise DataError(f"Unknown sampler {kind!r} of a benchmark variant; expected 'transfer' or 'deepkernel'.")
        first_share = settings.pop("first_share", None)
        model = fold.model("knn_portfolio", **({} if first_share is None else {"first_share": first_share}))
        seed = _dataset_seed(seed, held.dataset)

        def deep_kernel(**more):
            return DeepKernelSampler(
                space=fold.space.name,
                metamodel=model,
                kernel=fold.kernel(),
                metafeatures=held.metafeatures,
                continuous=False,
                seed=seed,
                **more,
            )

        if kind == "deepkernel":
            sampler = deep_kernel(**settings)
        else:  # "transfer"
            refine_prior = settings.pop("refine_prior", 0.0)
            if settings.pop("refine", "tpe") == "deepkernel":  # after the pool phase: the deep-kernel GP
                settings["base_sampler"] = deep_kernel(prior=refine_prior)
            sampler = TransferSampler(
                space=fold.space.name,
                metamodel=model,
                metafeatures=held.metafeatures,
                seed=seed,
                **settings,
            )
        return _sequential(held, pool, budget, sampler, [])


def sampler_method(sampler: str = "transfer", **settings: Any) -> Callable:
    """A method running `sampler` (``"transfer"`` or ``"deepkernel"``) with these settings (its
    own defaults when none); register a variant as
    ``METHODS[name] = sampler_method(max_pool_trials=10)``."""
    return SamplerMethod({"sampler": sampler, **settings})


def _rgpe(fold, held, pool, budget, seed):
    """RGPE (Feurer et al., 2018), written from the paper: :mod:`autometa.benchmark._rgpe`."""
    from autometa.benchmark._rgpe import RGPESampler

    sampler = RGPESampler(fold.model("knn_portfolio"), seed=_dataset_seed(seed, held.dataset))
    return _sequential(held, pool, budget, sampler, [])


class MethodUnavailable(DataError):
    """A method that cannot run in this installation; reported with its reason, not dropped."""


def _peer(name: str) -> Callable:
    """A peer's own configurations, evaluated exactly (``autometa kb peers``), in its order."""

    def run(fold, held, pool, budget, seed):
        if name not in held.peers:
            raise MethodUnavailable(
                f"no exact {name} evaluation of {held.dataset!r} in the knowledge base; make them with: "
                "autometa kb peers --corpus PATH"
            )
        return [(name, rank) for rank in range(len(held.peers[name]))]

    return run


METHODS: dict[str, Callable] = {
    "random": _random,
    "tpe": _tpe,
    "defaults": _defaults,
    "flaml": _peer("flaml"),  # flaml.default's zero-shot configuration, chosen on the rows it is scored on
    "autogluon": _peer("autogluon"),  # AutoGluon's zero-shot LightGBM portfolio, in its order
    "knn": _knn,
    "portfolio": _portfolio,
    "autometa+transfer": sampler_method(),
    # per expected second: what `autometa tune --sampler transfer --timeout` uses
    "autometa+transfer+cost": sampler_method(cost_exponent=1.0),
    "rgpe": _rgpe,
    "autometa+deepkernel": sampler_method("deepkernel"),  # FSBO-style: a deep-kernel GP pretrained on the fold
    # the same, the GP's prior mean the metafeature neighbours' mean scores, as `tune` runs it
    "autometa+deepkernel+prior": sampler_method("deepkernel", prior=PRIOR_WEIGHT),
    # the TransferSampler's pool phase, then the DeepKernelSampler instead of TPE (chosen on the
    # selection fold seeds: transfer_selection_lightgbm_hybrid.md)
    "autometa+transfer+deepkernel": sampler_method(refine="deepkernel"),
    # ... the DeepKernelSampler with the neighbours' prior mean (transfer_selection_lightgbm_deepkernel_prior_pool.md)
    "autometa+transfer+deepkernel+prior": sampler_method(refine="deepkernel", refine_prior=PRIOR_WEIGHT),
}
for _suffix, _features in (("", "handcrafted"), ("-d2v", "dataset2vec"), ("-both", "both")):
    METHODS[f"autometa{_suffix}"] = _autometa_on(_features)
    METHODS[f"autometa{_suffix}+tpe"] = _autometa_tpe_on(_features)
    METHODS[f"autometa{_suffix}+metasampler"] = _autometa_metasampler_on(_features)
_BUILT_IN = frozenset(METHODS)  # worker processes know these; others are sent along with the job
DETERMINISTIC = {"defaults", "flaml", "autogluon", "knn", "portfolio", "autometa", "autometa-d2v", "autometa-both"}


def _run_fold(
    metadata: MetaData,
    space,
    held_out: list[str],
    methods: Sequence[str],
    budget: int,
    seeds: int,
    members: int,
    autometa_method: str,
    peers: pd.DataFrame,
    fold_seed: int,
    settings: dict[str, Any],
    extra: pd.DataFrame | None = None,
    registered: dict[str, Callable] | None = None,
) -> tuple[list[dict], list[dict]]:
    """Every method on the held-out datasets of one fold (the unit of parallel work); `extra`:
    this fold's Dataset2Vec embeddings of every dataset, joined to the metafeatures;
    `registered`: methods added to :data:`METHODS` after import (picklable callables)."""
    import optuna
    from threadpoolctl import threadpool_limits

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per study would flood the output
    table = {**METHODS, **(registered or {})}
    pool = Pool(metadata.configs, space)
    if extra is not None:
        metadata = dataclasses.replace(
            metadata, metafeatures=metadata.metafeatures.join(extra.reindex(metadata.datasets))
        )
    train = metadata.subset([d for d in metadata.datasets if d not in set(held_out)])
    fold = Fold(train, space, autometa_method, members, settings)
    rows, errors = [], []
    with threadpool_limits(1):
        for dataset in held_out:
            own = peers[peers["dataset"] == dataset].sort_values(["peer", "rank"])
            held = HeldOut(
                dataset,
                metadata.tasks.loc[dataset],
                metadata.scores.loc[dataset],
                metadata.metafeatures.loc[dataset],
                {peer: list(rows["score"].astype(float)) for peer, rows in own.groupby("peer")},
                None if metadata.costs is None else metadata.costs.loc[dataset],
                {
                    peer: list(rows["fit_seconds"].astype(float))
                    for peer, rows in own.groupby("peer")
                    if "fit_seconds" in rows
                },
            )
            best, worst = held.bounds()
            for method in methods:
                try:
                    first = None
                    for seed in range(seeds):
                        if method in DETERMINISTIC and first is not None:
                            chosen = first
                        else:
                            chosen = list(table[method](fold, held, pool, budget, seed))[:budget]
                            first = chosen
                        scores = np.array([held.score(c) for c in chosen], dtype=float)
                        curve = best_so_far_regret(scores, best, worst)
                        curve = np.concatenate([curve, np.full(budget - curve.size, curve[-1])])
                        spent = np.cumsum([held.cost(c) for c in chosen])
                        spent = np.concatenate([spent, np.full(budget - spent.size, spent[-1])])
                        rows.extend(
                            {
                                "dataset": dataset,
                                "task": held.task,
                                "fold_seed": fold_seed,
                                "seed": seed,
                                "method": method,
                                "budget": b + 1,
                                "regret": float(curve[b]),
                                "time": float(spent[b]),
                            }
                            for b in range(budget)
                        )
                except MethodUnavailable as error:
                    errors.append({"method": method, "dataset": dataset, "error": str(error)})
    return rows, errors


def _empty_peers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": pd.Series(dtype=str),
            "peer": pd.Series(dtype=str),
            "rank": pd.Series(dtype=int),
            "score": pd.Series(dtype=float),
            "fit_seconds": pd.Series(dtype=float),
        }
    )


def run_discrete(
    metadata: MetaData,
    space,
    *,
    methods: Sequence[str],
    budget: int = 50,
    seeds: int = 5,
    folds: int = 10,
    members: int = 4,
    autometa_method: str = DEFAULT_METHOD,
    peers: pd.DataFrame | None = None,
    workers: int = 1,
    fold_features: pd.DataFrame | None = None,
    fold_seed: int = 0,
    metamodel_settings: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(curves, errors). Folds: `folds` folds of whole groups of ``metadata.groups``, drawn with
    `fold_seed` (:func:`autometa.groups.group_folds`). `space`: the :class:`~autometa.spaces.SearchSpace` of the pool
    (``KnowledgeBase.space(name)``). Curves: one row per dataset, seed, method, budget with ``regret``;
    errors: one row per (method, dataset) that could not run, with the reason. `workers`
    processes run folds in parallel (one thread each); the result does not depend on it.

    metamodel_settings : ``neighbours``, ``guard_quantile`` and ``first_share`` (where set) of every meta-model the folds
        fit (default: MetaModel's own; ``autometa benchmark`` passes the shipped model's).
    peers : the knowledge base's exact peer evaluations (:meth:`KnowledgeBase.peers`): the
        ``flaml`` and ``autogluon`` methods read their scores there, and every method's regret is
        measured against the best of pool and peers. Without them those two methods are
        reported unavailable.
    fold_features : Dataset2Vec embeddings indexed by (fold, dataset), fold i's from an encoder
        trained without fold i (:func:`autometa.encoder.cached_fold_embeddings` with the same
        `folds`); without them the ``-d2v`` and ``-both`` methods are reported unavailable.
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise DataError(f"Unknown benchmark methods {unknown}; expected some of {list(METHODS)}.")
    jobs = [
        (
            metadata,
            space,
            held_out,
            list(methods),
            budget,
            seeds,
            members,
            autometa_method,
            _empty_peers() if peers is None else peers,
            fold_seed,
            dict(metamodel_settings or {}),
            None if fold_features is None else fold_features.loc[i],
            {m: METHODS[m] for m in methods if m not in _BUILT_IN},
        )
        for i, held_out in enumerate(group_folds(metadata, folds, fold_seed))
    ]
    results: list[tuple[list[dict], list[dict]] | None] = [None] * len(jobs)
    if workers <= 1:
        for i, job in enumerate(jobs):
            results[i] = _run_fold(*job)
            for dataset in job[2] if progress else ():
                progress(dataset)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as executor:
            futures = {executor.submit(_run_fold, *job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                for dataset in jobs[futures[future]][2] if progress else ():
                    progress(dataset)
    rows = [r for result in results for r in result[0]]
    errors = [e for result in results for e in result[1]]
    return pd.DataFrame(rows), pd.DataFrame(errors, columns=["method", "dataset", "error"])
