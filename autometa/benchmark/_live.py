"""Live-mode benchmark: real Optuna studies of real cross-validated fits on the datasets you give.

Every method runs `budget` trials of the same protocol (:mod:`autometa.protocol`: stratified
K-fold, the same row cap and seed) on each dataset, per seed. Leakage guard: the meta-models are
refitted without every knowledge-base group the dataset belongs to (the group of the same name,
of the same content fingerprint, or of the same name family; groups as in
:meth:`autometa.knowledge.KnowledgeBase.groups`). The Dataset2Vec methods
use the shipped encoder, so they run only on datasets outside the knowledge base (for the others
they are reported unavailable, with the reason).

Regret is normalized per dataset over every trial of every method and seed of the run
(``(best - s) / (best - worst)``), since a live dataset has no evaluated pool. Time: the fit
times of the trials so far (the protocol's measured cross-validation seconds), summed, in units
of the median trial of that dataset over the whole run.

Within a dataset, a configuration is cross-validated once: a method or seed that proposes one
already evaluated (the same suggestions, the TransferSampler's seed-independent pool phase, the
first points two samplers share) gets its recorded score and fit time. The protocol is
deterministic (one thread, fixed seeds), so this changes no score, only the run's length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from autometa.benchmark._discrete import WARM_START, MethodUnavailable
from autometa.benchmark._report import normalize_live
from autometa.deepkernel import PRIOR_WEIGHT
from autometa.exceptions import DataError
from autometa.metamodel import DEFAULT_METHOD

LIVE_METHODS = (
    "random",
    "tpe",
    "defaults",
    "flaml",
    "knn",
    "portfolio",
    "autometa",
    "autometa+tpe",
    "autometa+metasampler",
    "autometa+transfer",
    "autometa+transfer+deepkernel",
    "autometa+transfer+deepkernel+prior",
    "autometa+deepkernel",
    "autometa+deepkernel+prior",
    "rgpe",
    "autometa-d2v",
    "autometa-both",
)
D2V_SEEN = (
    "the shipped Dataset2Vec encoder was trained on this dataset's group, so its "
    "embedding would leak; the discrete benchmark trains encoders per fold instead"
)


def _excluded_groups(dataset, manifest, groups: pd.Series) -> set[str]:
    """The knowledge-base groups a live dataset belongs to: by name, by content fingerprint, or
    by name family (:func:`autometa.datasets.name_family`)."""
    from autometa.datasets import name_family

    info = manifest["datasets"]
    family = name_family(dataset.name)
    return {
        str(groups.loc[name])
        for name, entry in info.items()
        if name == dataset.name
        or (dataset.fingerprint and entry.get("fingerprint") == dataset.fingerprint)
        or name_family(name) == family
    }


def _flaml_params(rows, space: str) -> dict[str, Any]:
    """FLAML's zero-shot configuration, chosen on the rows it is scored on."""
    from autometa.exceptions import DataError, MissingDependencyError
    from autometa.peers import flaml_configuration

    try:
        return flaml_configuration(rows, space)
    except (MissingDependencyError, DataError) as error:
        raise MethodUnavailable(str(error)) from error


def run_live(
    datasets: Sequence[Any],
    *,
    methods: Sequence[str],
    budget: int = 30,
    seeds: int = 1,
    space: str = "lightgbm",
    knowledge_base=None,
    members: int = 4,
    autometa_method: str = DEFAULT_METHOD,
    metamodel_settings: dict[str, Any] | None = None,
    folds: int = 3,
    max_rows: int = 2000,
    target: str | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    variants: Mapping[str, dict[str, Any]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(curves, errors) like :func:`run_discrete`, from real studies. `workers` processes run
    datasets in parallel (one thread each); a dataset's regret is normalized over its own runs,
    so the result does not depend on it (up to the measured fit times). `variants` names extra
    methods for choosing settings live, each a transfer sampler with those settings, as in
    :func:`~autometa.benchmark.sampler_method`: ``{"transfer pool<=10": {"max_pool_trials": 10},
    "deepkernel warm 5": {"sampler": "deepkernel", "warm_start": 5}}``."""
    import optuna

    if workers > 1 and len(datasets) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        kwargs = dict(
            methods=methods,
            budget=budget,
            seeds=seeds,
            space=space,
            knowledge_base=knowledge_base,
            members=members,
            autometa_method=autometa_method,
            metamodel_settings=metamodel_settings,
            folds=folds,
            max_rows=max_rows,
            target=target,
            variants=variants,
        )
        parts: list[Any] = [None] * len(datasets)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as executor:
            futures = {executor.submit(run_live, [source], **kwargs): i for i, source in enumerate(datasets)}
            for future in as_completed(futures):
                parts[futures[future]] = future.result()
                if progress:
                    progress(str(datasets[futures[future]]))
        return (
            pd.concat([p[0] for p in parts], ignore_index=True),
            pd.concat([p[1] for p in parts], ignore_index=True),
        )

    from autometa.datasets import load_dataset
    from autometa.knowledge import KnowledgeBase
    from autometa.metamodel import MetaData, MetaModel
    from autometa.optuna import MetaSampler, TransferSampler
    from autometa.protocol import Protocol, evaluate, fold_indices, prepare_rows

    settings = dict(metamodel_settings or {})
    # The shipped sampler methods, run like variants: the TransferSampler, and its pool phase
    # followed by the DeepKernelSampler.
    variants = {
        "autometa+transfer": {},
        "autometa+transfer+deepkernel": {"refine": "deepkernel"},
        "autometa+transfer+deepkernel+prior": {"refine": "deepkernel", "refine_prior": PRIOR_WEIGHT},
        **(variants or {}),
    }
    unknown = sorted(set(methods) - set(LIVE_METHODS) - set(variants))
    if unknown:
        raise DataError(f"Unknown benchmark methods {unknown}; expected some of {[*LIVE_METHODS, *variants]}.")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kb = knowledge_base if knowledge_base is not None else KnowledgeBase()
    search_space = kb.space(space)
    metadata = MetaData.from_knowledge_base(kb, space)
    protocol = Protocol(folds=folds, max_rows=max_rows, seed=0)
    runs, errors = [], []
    loaded: dict[str, Any] = {}

    def d2v_inputs() -> tuple[pd.DataFrame, Any]:
        """The knowledge base's embeddings and the shipped encoder, read once a run."""
        if "encoder" not in loaded:
            from autometa.encoder import load_encoder

            loaded["embeddings"] = kb.embeddings()[0]
            loaded["encoder"] = load_encoder("default", device="cpu")
        return loaded["embeddings"], loaded["encoder"]

    for source in datasets:
        dataset = load_dataset(source, target=target)
        if dataset.task not in search_space.tasks:
            raise DataError(f"{dataset.name}: space {space!r} supports {list(search_space.tasks)}, not {dataset.task}.")
        excluded = _excluded_groups(dataset, kb.manifest(space), metadata.groups)
        train = metadata.subset([d for d in metadata.datasets if metadata.groups.loc[d] not in excluded])

        models: dict[Any, Any] = {}  # meta-models (and the pretrained deep kernel), once a dataset

        def model(method: str) -> MetaModel:
            if method not in models:
                models[method] = MetaModel(space, method, members=members, **settings).fit(train, search_space)
            return models[method]

        import metafeatures as mf

        values = mf.extract(dataset, random_state=0)
        embedding: list[pd.Series] = []  # its Dataset2Vec embedding, once a Dataset2Vec method needs it

        def learned_model(features: str) -> tuple[MetaModel, pd.Series]:
            """A meta-model on the shipped embeddings, and this dataset's metafeatures + embedding."""
            if excluded:
                raise MethodUnavailable(D2V_SEEN)
            try:
                embeddings, encoder = d2v_inputs()
            except DataError as error:
                raise MethodUnavailable(str(error)) from error
            if not embedding:  # this dataset's embedding: once for every method and seed
                embedding.append(encoder.transform(dataset))
            if ("d2v", features) not in models:
                seen = dataclasses.replace(
                    train, metafeatures=train.metafeatures.join(embeddings.reindex(train.datasets))
                )
                models[("d2v", features)] = MetaModel(
                    space, autometa_method, members=members, features=features, **settings
                ).fit(seen, search_space)
            return models[("d2v", features)], pd.concat([values, embedding[0]])

        def deep_kernel_sampler(seed: int, **more):
            """The DeepKernelSampler, its kernel pretrained once a dataset without its groups."""
            from autometa.optuna import DeepKernelSampler, pretrained_kernel

            if "deepkernel" not in models:
                try:
                    models["deepkernel"] = pretrained_kernel(model("knn_portfolio"), space=space)
                except DataError as error:  # no torch
                    raise MethodUnavailable(str(error)) from error
            return DeepKernelSampler(
                metamodel=model("knn_portfolio"),
                metafeatures=values,
                kernel=models["deepkernel"],
                seed=seed,
                space=space,
                **more,
            )

        rows = prepare_rows(dataset, protocol)
        split = fold_indices(rows, protocol)
        evaluated: dict[tuple, Any] = {}  # a configuration -> its result, once per dataset

        def cross_validate(config: dict[str, Any]):
            key = tuple(sorted((k, repr(v)) for k, v in config.items()))
            if key not in evaluated:
                evaluated[key] = evaluate(search_space, config, rows, protocol, split)
            return evaluated[key]

        def study_scores(sampler, enqueue: list[dict[str, Any]], n_trials: int) -> tuple[list[float], list[float]]:
            """(scores, fit seconds) of the trials of a real study."""
            study = optuna.create_study(direction="maximize", sampler=sampler)
            for config in enqueue[:n_trials]:
                study.enqueue_trial({k: v for k, v in config.items() if k in search_space.params})

            def objective(trial):
                result = cross_validate(search_space.suggest(trial))
                trial.set_user_attr("fit_seconds", result.fit_seconds)
                return result.score if result.ok else float("nan")

            study.optimize(objective, n_trials=n_trials, gc_after_trial=False)
            finished = [t for t in study.trials if t.state.is_finished()][:n_trials]
            return (
                [t.value if t.value is not None else float("nan") for t in finished],
                [float(t.user_attrs.get("fit_seconds", float("nan"))) for t in finished],
            )

        def fixed(configs: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
            results = [cross_validate(c) for c in configs]
            return [r.score for r in results], [r.fit_seconds for r in results]

        for method in methods:
            first: list[float] | None = None
            for seed in range(seeds):
                try:
                    if first is not None and method in ("defaults", "flaml", "knn", "portfolio"):
                        runs.append((dataset.name, dataset.task, seed, method, first))  # seed-independent
                        continue
                    if method in ("autometa-d2v", "autometa-both"):
                        chosen, described = learned_model("dataset2vec" if method == "autometa-d2v" else "both")
                        scores = fixed([s.params for s in chosen.suggest_configs(described, budget, random_state=seed)])
                    elif method == "random":
                        scores = study_scores(optuna.samplers.RandomSampler(seed=seed), [], budget)
                    elif method == "tpe":
                        scores = study_scores(optuna.samplers.TPESampler(seed=seed), [], budget)
                    elif method == "defaults":
                        scores = fixed([search_space.library_defaults(rows.task)])
                    elif method == "flaml":
                        scores = fixed([_flaml_params(rows, search_space.name)])
                    elif method in ("knn", "portfolio", "autometa"):
                        chosen = model(autometa_method if method == "autometa" else method)
                        scores = fixed([s.params for s in chosen.suggest_configs(values, budget, random_state=seed)])
                    elif method == "autometa+tpe":
                        start = [
                            s.params
                            for s in model(autometa_method).suggest_configs(values, WARM_START, random_state=seed)
                        ]
                        scores = study_scores(optuna.samplers.TPESampler(seed=seed), start, budget)
                    elif method == "autometa+metasampler":
                        start = [
                            s.params
                            for s in model(autometa_method).suggest_configs(values, WARM_START, random_state=seed)
                        ]
                        sampler = MetaSampler(metamodel=model("surrogate"), metafeatures=values, seed=seed, space=space)
                        scores = study_scores(sampler, start, budget)
                    elif method in variants and variants[method].get("sampler") == "deepkernel":
                        more = {k: v for k, v in variants[method].items() if k != "sampler"}
                        scores = study_scores(deep_kernel_sampler(seed, **more), [], budget)
                    elif method in variants:
                        transfer = {k: v for k, v in variants.get(method, {}).items() if k != "sampler"}
                        refine_prior = transfer.pop("refine_prior", 0.0)
                        if transfer.pop("refine", "tpe") == "deepkernel":  # after the pool phase
                            transfer["base_sampler"] = deep_kernel_sampler(seed, prior=refine_prior)
                        sampler = TransferSampler(
                            metamodel=model("knn_portfolio"),
                            metafeatures=values,
                            seed=seed,
                            space=space,
                            **transfer,
                        )
                        scores = study_scores(sampler, [], budget)
                    elif method == "autometa+deepkernel":
                        scores = study_scores(deep_kernel_sampler(seed), [], budget)
                    elif method == "autometa+deepkernel+prior":
                        scores = study_scores(deep_kernel_sampler(seed, prior=PRIOR_WEIGHT), [], budget)
                    elif method == "rgpe":
                        from autometa.benchmark._rgpe import RGPESampler

                        scores = study_scores(RGPESampler(model("knn_portfolio"), seed=seed), [], budget)
                    else:
                        raise AssertionError(method)
                    runs.append((dataset.name, dataset.task, seed, method, scores))
                    first = scores
                except MethodUnavailable as error:
                    errors.append({"method": method, "dataset": dataset.name, "error": str(error)})
                    break
        if progress:
            progress(dataset.name)
    curves = []
    for dataset_name, task, seed, method, (scores, seconds) in runs:
        scores = np.asarray(scores, dtype=float)[:budget]
        seconds = np.asarray(seconds, dtype=float)[:budget]
        # A study that ended early: its missing trials add no score (NaN) and no time.
        scores = np.concatenate([scores, np.full(budget - scores.size, np.nan)])
        seconds = np.concatenate([seconds, np.zeros(budget - seconds.size)])
        curves.extend(
            {
                "dataset": dataset_name,
                "task": task,
                "seed": seed,
                "method": method,
                "budget": b + 1,
                "score": float(scores[b]),
                "seconds": float(seconds[b]),
            }
            for b in range(budget)
        )
    if not curves:
        return pd.DataFrame(curves), pd.DataFrame(errors, columns=["method", "dataset", "error"])
    # Regret and time normalized per dataset over every trial of the run (as a merge does).
    return normalize_live(pd.DataFrame(curves)), pd.DataFrame(errors, columns=["method", "dataset", "error"])
