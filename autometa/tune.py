"""`autometa tune`: a real Optuna study of cross-validated learner fits, warm-started by autometa."""

from __future__ import annotations

from typing import Any

from autometa.exceptions import DataError


def tune(data: Any, *, target: str | None = None, trials: int = 50, warm_start: bool = True,
         storage: str | None = None, space: str = "lightgbm", metamodel: Any = "default", folds: int = 3,
         max_rows: int | None = None, seed: int = 0, n_suggestions: int = 5, progress: bool = True) -> dict[str, Any]:
    """Tune `space` on `data` for `trials` trials (counting finished ones of a resumed study)."""
    import optuna
    from tqdm.auto import tqdm

    from autometa.datasets import load_dataset
    from autometa.optuna import warm_start as enqueue_suggestions
    from autometa.protocol import Protocol, evaluate, fold_indices, prepare_rows
    from autometa.spaces import get_space

    if trials < 1:
        raise DataError(f"--trials must be at least 1, got {trials}.")
    search_space = get_space(space)
    dataset = load_dataset(data, target=target)
    protocol = Protocol(folds=folds, max_rows=max_rows or max(dataset.n_rows, 1), seed=seed)
    rows = prepare_rows(dataset, protocol)
    split = fold_indices(rows, protocol)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=f"autometa-tune-{space}-{dataset.name}", storage=storage, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed), load_if_exists=True,
    )
    finished = [t for t in study.trials if t.state.is_finished()]
    if warm_start and not finished:
        enqueue_suggestions(study, dataset, n=min(n_suggestions, trials), space=space, metamodel=metamodel,
                            distributions=search_space.distributions())

    def objective(trial: optuna.Trial) -> float:
        result = evaluate(search_space, search_space.suggest(trial), rows, protocol, split)
        trial.set_user_attr("fit_seconds", result.fit_seconds)
        if not result.ok:
            trial.set_user_attr("error", result.error)
        return result.score

    remaining = max(0, trials - len(finished))
    with tqdm(total=trials, initial=len(finished), desc=f"tune {space}", unit="trial", disable=not progress) as bar:
        def advance(study, trial) -> None:
            bar.update(1)
            if study.best_trials:
                bar.set_postfix_str(f"best {study.best_value:.4f}")

        study.optimize(objective, n_trials=remaining, callbacks=[advance], gc_after_trial=False)
    completed = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    if not completed:
        raise DataError("No trial finished with a score; see the trials' 'error' attributes in the study.")
    best = study.best_trial
    metric = protocol.as_dict()["metric"][dataset.task]
    return {
        "dataset": dataset.name, "task": dataset.task, "space": space, "metric": metric,
        "best_score": best.value, "best_trial": best.number, "trials": len(study.trials),
        "warm_started": warm_start, "best_params": search_space.learner_params(best.params),
        "protocol": protocol.as_dict(),
    }
