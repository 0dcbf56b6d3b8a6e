"""`autometa tune`: a real Optuna study of cross-validated learner fits, warm-started by autometa."""

from __future__ import annotations

import sys
import time
from typing import Any

from autometa.exceptions import DataError

SAMPLERS = ("auto", "tpe", "meta", "transfer", "transfer+deepkernel", "deepkernel")
WARM_START = 5  # suggestions enqueued before TPE or the MetaSampler when n_suggestions is None
DEEPKERNEL_WARM_START = 1  # picks before the DeepKernelSampler's GP when n_suggestions is None


def tune(
    data: Any,
    *,
    target: str | None = None,
    trials: int = 50,
    warm_start: bool = True,
    storage: str | None = None,
    space: str = "lightgbm",
    metamodel: Any = "default",
    folds: int = 3,
    max_rows: int | None = None,
    seed: int = 0,
    n_suggestions: int | None = None,
    sampler: str = "auto",
    sampler_metamodel: Any = "default",
    metric: str = "auto",
    task: str | None = None,
    timeout: float | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Tune `space` on `data` until the study holds `trials` finished evaluations.

    The study starts with autometa's suggestions (``warm_start``), from the meta-model measured
    nearest the rows it cross-validates (on large data a shipped second fidelity, as for
    :func:`autometa.suggest`; the samplers after them learn on the main pool), then
    continues with `sampler`: ``"tpe"`` (Optuna's TPE), ``"meta"`` (the
    :class:`~autometa.optuna.MetaSampler`: TPE whose proposals the surrogate in
    `sampler_metamodel` screens) or ``"transfer"`` (the :class:`~autometa.optuna.TransferSampler`,
    which makes the same first suggestions itself, keeps re-weighting the known datasets by the
    scores it sees, and hands over to TPE after 10 pool trials; with a `timeout` it ranks by
    expected improvement per expected second of fitting), ``"transfer+deepkernel"`` (the same pool
    phase, then the DeepKernelSampler instead of TPE) or ``"deepkernel"`` (the
    :class:`~autometa.optuna.DeepKernelSampler`: the first suggestion, then
    expected improvement under a deep-kernel GP pretrained on the knowledge base (shipped with the
    default meta-models; about 10 s on one thread at the start of the run for one of your own),
    whose prior mean is what the metafeature neighbours scored (``prior=1``), fine-tuned on the
    study's trials; needs torch).
    ``"auto"`` (:func:`auto_sampler`): "transfer+deepkernel" when warm-starting with torch
    installed and a meta-model with pool scores (the shipped ones); else "meta" when warm-starting
    a space that ships a surrogate (LightGBM) or with a `sampler_metamodel` of your own; else "tpe".
    On data nearer a larger shipped fidelity, the samplers that pick from the pool themselves
    (transfer, deepkernel) come after that fidelity's first `n_suggestions` (default 1).

    A resumed study (same `storage`, same dataset and space) counts what it already finished:
    completed trials and trials whose fit failed. A trial interrupted by Ctrl-C is put back in the
    queue and evaluated first by the next run. With a storage, trials carry heartbeats: a trial
    whose process was killed is marked failed and re-enqueued, so its configuration is evaluated
    again: at once by a run on the same machine (the trial records its process), else once its
    heartbeat is stale; neither counts towards `trials`. Completed trials are never
    re-run.

    Parameters
    ----------
    data, target, task : the dataset (anything :func:`autometa.load_dataset` reads), its target
        column, and its task kind when the target's values do not say it.
    trials : the study's total of finished trials (a resumed study counts what it has).
    warm_start : start from autometa's suggestions, or from scratch.
    storage : Optuna storage URL (resumable), default in memory.
    space, metamodel : the search space and the meta-model that suggests (``"default"``: shipped).
    folds, max_rows, seed : cross-validation folds, row cap (default: every row), seed of folds
        and samplers.
    n_suggestions : how many suggestions come first; default: each sampler's own (5 before TPE or the
        MetaSampler, 1 before the DeepKernelSampler's GP, the value its benchmarks chose). The
        TransferSampler picks from the pool itself and ignores it, except after a larger fidelity's
        picks (above).
    sampler, sampler_metamodel : see above.
    metric : ``"auto"`` (ROC-AUC / R^2), or ``"log_loss"`` (minimized; suggestions learned from
        log-losses), as for :func:`autometa.suggest`.
    timeout : seconds after which no new trial starts (the running ones finish); default none.
    n_jobs : trials evaluated at once, in threads (each fit uses one thread).
    progress : show a progress bar.

    Returns a dict: dataset, task, space, metric, best_score, best_trial, trials, warm_started,
    sampler, advice_max_rows (the row cap of the evaluations behind the first suggestions; None
    without a warm start), best_params (for the learner), protocol, rows (cross-validated: the subsample when
    `max_rows` is below the dataset's) and dataset_rows, and stopped (``"trials"`` or
    ``"timeout"``).
    """
    import optuna
    from tqdm.auto import tqdm

    from autometa._suggest import load_metamodel
    from autometa.datasets import load_dataset
    from autometa.optuna import warm_start as enqueue_suggestions
    from autometa.protocol import Protocol, evaluate, fold_indices, prepare_rows, resolve_metric
    from autometa.spaces import get_space
    from autometa.storage import OWNER_ATTR, check_storage_url, fail_orphans, open_storage, owner

    if trials < 1:
        raise DataError(f"--trials must be at least 1, got {trials}.")
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise DataError(f"--n-jobs must be a positive integer (trials at once), got {n_jobs!r}.")
    if timeout is not None and not timeout > 0:
        raise DataError(f"--timeout must be a positive number of seconds, got {timeout!r}.")
    if folds < 2:
        raise DataError(f"--folds must be at least 2 (cross-validation needs a held-out fold), got {folds}.")
    if max_rows is not None and max_rows < 2 * folds:
        raise DataError(
            f"--max-rows must leave at least 2 rows per fold ({2 * folds} for {folds} folds), got {max_rows}."
        )
    if n_suggestions is not None and (not isinstance(n_suggestions, int) or n_suggestions < 1):
        raise DataError(
            f"n_suggestions must be a positive integer (or None: the sampler's own), got {n_suggestions!r}."
        )
    if sampler not in SAMPLERS:
        raise DataError(f"sampler must be one of {list(SAMPLERS)}, got {sampler!r}.")
    resolve_metric(metric)  # an unknown name fails before the data is read
    if storage is not None:
        check_storage_url(storage)  # a bad URL is an error now, not after loading and describing the data
    search_space = get_space(space)
    dataset = load_dataset(data, target=target, task=task)
    recorded = resolve_metric(metric, dataset.task)
    # The first suggestions come from the meta-model measured nearest the rows cross-validated here
    # (a shipped folder's rows-<N>/ fidelity on large data, see load_metamodel); the samplers that
    # follow learn on the main pool.
    advice_rows = min(dataset.n_rows, max_rows or dataset.n_rows)
    first = load_metamodel(metamodel, space, metric=metric, rows=advice_rows, task=dataset.task) if warm_start else None
    next_sampler = _sampler_factory(
        sampler,
        sampler_metamodel,
        warm_start,
        space,
        dataset,
        suggest_metamodel=metamodel,
        metric=metric,
        cost_exponent=0.0 if timeout is None else 1.0,
        n_suggestions=n_suggestions,
        first_metamodel=first,
    )
    protocol = Protocol(folds=folds, max_rows=max_rows or max(dataset.n_rows, 1), seed=seed)
    rows = prepare_rows(dataset, protocol)
    split = fold_indices(rows, protocol)
    if progress and rows.n_rows < dataset.n_rows:
        print(
            f"cross-validating on a subsample of {rows.n_rows:,} of the {dataset.n_rows:,} rows "
            f"(--max-rows {protocol.max_rows:,}, seed {seed}"
            + (", stratified" if dataset.task != "regression" else "")
            + ")",
            file=sys.stderr,
        )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if storage is not None:
        storage = open_storage(storage)
    study = optuna.create_study(
        # A study per metric: resuming must not mix the trials of two objectives.
        study_name=f"autometa-tune-{space}-{dataset.name}" + ("" if recorded.name == "score" else f"-{recorded.name}"),
        storage=storage,
        direction="maximize" if recorded.greater_is_better else "minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        load_if_exists=True,
    )

    if storage is not None:
        # A run killed moments ago left its trial RUNNING: retry it now, not after the grace period.
        if fail_orphans(storage, study):
            _requeue_interrupted(study)

    def done() -> int:
        # Completed trials, and failed ones whose fit failed for real (an interrupted trial has no error).
        return sum(
            1
            for t in study.get_trials(deepcopy=False)
            if t.state == optuna.trial.TrialState.COMPLETE
            or (t.state == optuna.trial.TrialState.FAIL and "error" in t.user_attrs)
        )

    # The TransferSampler and the DeepKernelSampler make their first picks themselves from the main
    # pool (the DeepKernelSampler leaves them to the queue when a larger fidelity advises), and keep
    # learning from them.
    if warm_start and next_sampler.first_picks and not study.get_trials(deepcopy=False):
        enqueue_suggestions(
            study,
            dataset,
            n=min(next_sampler.first_picks, trials),
            space=space,
            metamodel=first,
            distributions=search_space.distributions(),
            metric=metric,
        )

    def objective(trial: optuna.Trial) -> float:
        if storage is not None:
            trial.set_user_attr(OWNER_ATTR, owner())
        result = evaluate(search_space, search_space.suggest(trial), rows, protocol, split)
        trial.set_user_attr("fit_seconds", result.fit_seconds)
        if not result.ok:
            trial.set_user_attr("error", result.error)
        if recorded.name != "score" and result.ok:
            trial.set_user_attr("score", result.score)  # the protocol's metric, for comparison
        return getattr(result, recorded.column)

    with tqdm(
        total=trials, initial=min(done(), trials), desc=f"tune {space}", unit="trial", disable=not progress
    ) as bar:
        started, stopped = time.monotonic(), "trials"
        while done() < trials:
            if timeout is not None and time.monotonic() - started >= timeout:
                stopped = "timeout"
                break
            # Seeded by the trial count: a resumed run continues the sequence instead of repeating
            # the configurations its seed drew the first time.
            study.sampler = next_sampler(seed + len(study.get_trials(deepcopy=False)))
            batch = min(n_jobs, trials - done())
            try:
                study.optimize(objective, n_trials=batch, n_jobs=batch, gc_after_trial=False)
            except KeyboardInterrupt:
                _requeue_interrupted(study)
                raise
            bar.n = min(done(), trials)
            if study.best_trials:
                bar.set_postfix_str(f"best {study.best_value:.4f}")
            bar.refresh()
    completed = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    if not completed:
        raise DataError("No trial finished with a score; see the trials' 'error' attributes in the study.")
    best = study.best_trial
    metric = protocol.as_dict()["metric"][dataset.task] if recorded.name == "score" else recorded.name
    return {
        "dataset": dataset.name,
        "task": dataset.task,
        "space": space,
        "metric": metric,
        "best_score": best.value,
        "best_trial": best.number,
        "trials": done(),
        "warm_started": warm_start,
        # The row cap of the evaluations behind the first suggestions (None: not warm-started).
        "advice_max_rows": None if first is None else first.max_rows,
        "sampler": next_sampler.name,
        "best_params": search_space.learner_params(best.params),
        "protocol": protocol.as_dict(),
        "rows": rows.n_rows,
        "dataset_rows": dataset.n_rows,
        "stopped": stopped,
    }


def _requeue_interrupted(study) -> None:
    """Put the configuration of a trial that Ctrl-C or a kill interrupted back in the queue, so that
    a resumed run evaluates it (Optuna marks such a trial failed; it has no ``error`` attribute, since its
    fit did not fail, and does not count towards the trials)."""
    import optuna

    from autometa.storage import OWNER_ATTR

    trials = study.get_trials(deepcopy=False)
    # Also those Optuna retried already (a stale heartbeat: system attribute "failed_trial").
    requeued = {t.user_attrs.get("requeued_from") for t in trials} | {
        t.system_attrs.get("failed_trial") for t in trials
    }
    for trial in trials:
        interrupted = trial.state == optuna.trial.TrialState.FAIL and "error" not in trial.user_attrs
        # A trial killed before its suggest_* calls has no params yet, but an enqueued one has its own.
        params = trial.params or trial.system_attrs.get("fixed_params")
        if interrupted and params and trial.number not in requeued:
            attrs = {k: v for k, v in trial.user_attrs.items() if k != OWNER_ATTR}
            study.enqueue_trial(dict(params), user_attrs={**attrs, "requeued_from": trial.number})


def auto_sampler(
    warm_start: bool, space: str, sampler_metamodel: Any = "default", metamodel: Any = "default", metric: str = "auto"
) -> str:
    """What ``sampler="auto"`` runs: ``"transfer+deepkernel"`` when warm-starting with torch installed and a
    suggesting meta-model that carries pool scores (the shipped ones do); else ``"meta"`` where a
    surrogate ships (LightGBM) or `sampler_metamodel` is given; else ``"tpe"``."""
    import importlib.util

    from autometa._suggest import load_metamodel
    from autometa.metamodel import shipped_metamodel_path
    from autometa.protocol import resolve_metric

    if warm_start and importlib.util.find_spec("torch") is not None:
        model = load_metamodel(metamodel, space, metric=metric)
        if getattr(model.method_, "pool_scores", None) is not None:
            return "transfer+deepkernel"
    shipped = (
        sampler_metamodel not in (None, "default")
        or (shipped_metamodel_path(space, "sampler", resolve_metric(metric).name) / "metamodel.json").is_file()
    )
    return "meta" if warm_start and shipped else "tpe"


def _sampler_factory(
    sampler: str,
    metamodel: Any,
    warm_start: bool,
    space: str,
    dataset,
    suggest_metamodel: Any = "default",
    metric: str = "auto",
    cost_exponent: float = 0.0,
    n_suggestions: int | None = None,
    first_metamodel: Any = None,
):
    """seed -> a fresh sampler (re-created for every trial, see the loop), with ``.name`` and
    ``.first_picks``: how many of `first_metamodel`'s suggestions the study queues before the
    sampler proposes (0: the sampler picks its first trials itself). The MetaSampler's surrogate
    and the dataset's metafeatures are loaded once, here."""
    import optuna

    from autometa._suggest import load_metamodel

    if sampler == "auto":
        sampler = auto_sampler(warm_start, space, metamodel, suggest_metamodel, metric)
    first_picks = 0 if not warm_start else WARM_START if n_suggestions is None else n_suggestions
    # The samplers that pick from the main pool themselves (transfer, deepkernel) take this many
    # first picks; on data nearer a larger fidelity, that fidelity's meta-model makes them instead.
    own = DEEPKERNEL_WARM_START if n_suggestions is None else n_suggestions

    def sized(model) -> bool:
        return first_metamodel is not None and first_metamodel.max_rows != model.max_rows

    if sampler == "tpe":

        def make(seed: int):
            return optuna.samplers.TPESampler(seed=seed)
    elif sampler in ("transfer", "transfer+deepkernel"):
        from autometa.deepkernel import PRIOR_WEIGHT
        from autometa.optuna import DeepKernelSampler, TransferSampler, pretrained_kernel

        model = load_metamodel(suggest_metamodel, space, metric=metric)
        model.check_task(dataset.task)
        values = model.describe(dataset)
        # After the pool phase: TPE, or the DeepKernelSampler with the neighbours' prior mean (its
        # kernel pretrained once a run).
        kernel = pretrained_kernel(model, space=space) if sampler == "transfer+deepkernel" else None

        def make(seed: int):
            refine = None
            if kernel is not None:
                refine = DeepKernelSampler(
                    metamodel=model, metafeatures=values, space=space, kernel=kernel, seed=seed, prior=PRIOR_WEIGHT
                )
            return TransferSampler(
                metamodel=model,
                metafeatures=values,
                space=space,
                seed=seed,
                cost_exponent=cost_exponent,
                base_sampler=refine,
            )

        make(0)  # a meta-model without pool scores is an error now, before the study is touched
        # It picks from the main pool itself, re-weighting as it goes; on data nearer a larger
        # fidelity, that fidelity's first picks are queued before it (and read as their nearest
        # pool points).
        first_picks = own if warm_start and sized(model) else 0
    elif sampler == "deepkernel":
        from autometa.deepkernel import PRIOR_WEIGHT
        from autometa.optuna import DeepKernelSampler, pretrained_kernel

        model = load_metamodel(suggest_metamodel, space, metric=metric)
        model.check_task(dataset.task)
        values = model.describe(dataset)
        kernel = pretrained_kernel(model, space=space)  # once a run; each trial fine-tunes a copy

        # On data nearer a larger fidelity, its meta-model's picks are queued and the GP takes over
        # after them; otherwise the sampler's own picks, from the main pool.
        picks = own if warm_start and not sized(model) else 0
        first_picks = own if warm_start and sized(model) else 0

        def make(seed: int):
            return DeepKernelSampler(
                metamodel=model,
                metafeatures=values,
                space=space,
                kernel=kernel,
                seed=seed,
                prior=PRIOR_WEIGHT,
                warm_start=picks,
            )

        make(0)
    else:
        from autometa.optuna import MetaSampler

        model = load_metamodel(metamodel, space, role="sampler", metric=metric)
        model.check_task(dataset.task)
        values = model.describe(dataset)

        def make(seed: int):
            return MetaSampler(
                metamodel=model, metafeatures=values, space=space, base_sampler=optuna.samplers.TPESampler(seed=seed)
            )

        make(0)  # a meta-model that cannot screen is an error now, before the study is touched
    make.name = sampler
    make.first_picks = first_picks
    return make
