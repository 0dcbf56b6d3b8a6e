"""Optuna integration: seed a study with autometa's suggestions.

``warm_start(study, dataset, n=5)`` enqueues the suggestions as the study's next trials, mapped
onto the study's own search space:

- names: the space's names, or LightGBM's aliases (``eta``, ``feature_fraction``,
  ``bagging_fraction``, ``lambda_l1``, ``min_data_in_leaf``, ``num_iterations``...);
- values: clipped to the study's ranges and rounded for integer and stepped distributions;
  for a categorical distribution, the choice nearest the suggested value (numeric choices) or
  the suggested value itself when it is one of the choices;
- parameters the study does not have are dropped, so the sampler draws them as usual;
- a configuration already enqueued or run is skipped (``skip_if_exists``).

Works with any sampler. A study whose space shares no parameter with the suggestions is an
error, not a silent no-op.
"""

from __future__ import annotations

import math
from typing import Any

from autometa.exceptions import DataError

ALIASES = {
    "learning_rate": ("learning_rate", "eta", "shrinkage_rate"),
    "n_estimators": ("n_estimators", "num_iterations", "num_boost_round", "num_trees", "num_round", "max_iter"),
    "num_leaves": ("num_leaves", "num_leaf", "max_leaf_nodes"),
    "min_child_samples": ("min_child_samples", "min_data_in_leaf", "min_samples_leaf"),
    "colsample_bytree": ("colsample_bytree", "feature_fraction", "max_features"),
    "subsample": ("subsample", "bagging_fraction"),
    "reg_alpha": ("reg_alpha", "lambda_l1"),
    "reg_lambda": ("reg_lambda", "lambda_l2", "l2_regularization"),
}


def _fit_to(distribution: Any, value: Any) -> Any:
    """`value` moved into `distribution` (clipped, rounded, or the nearest categorical choice)."""
    import optuna

    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        if value in distribution.choices:
            return value
        numeric = [c for c in distribution.choices if isinstance(c, (int, float)) and not isinstance(c, bool)]
        if not numeric or not isinstance(value, (int, float)):
            return None
        return min(numeric, key=lambda c: abs(c - value))
    low, high = distribution.low, distribution.high
    clipped = min(high, max(low, float(value)))
    step = getattr(distribution, "step", None)
    if step:
        clipped = low + round((clipped - low) / step) * step
        clipped = min(high, max(low, clipped))
    if isinstance(distribution, optuna.distributions.IntDistribution):
        return int(round(clipped))
    return float(clipped)


def map_params(params: dict[str, Any], distributions: dict[str, Any]) -> dict[str, Any]:
    """The suggestion's parameters expressed in the study's names and ranges; unmatched ones dropped."""
    mapped = {}
    for name, value in params.items():
        for alias in ALIASES.get(name, (name,)):
            if alias in distributions and alias not in mapped:
                fitted = _fit_to(distributions[alias], value)
                if fitted is not None and not (isinstance(fitted, float) and math.isnan(fitted)):
                    mapped[alias] = fitted
                break
    return mapped


def study_distributions(study) -> dict[str, Any]:
    """The distributions the study's trials have used (union over its trials)."""
    distributions: dict[str, Any] = {}
    for trial in study.get_trials(deepcopy=False):
        distributions.update(trial.distributions)
    return distributions


def warm_start(study, dataset: Any, n: int = 5, *, distributions: dict[str, Any] | None = None,
               space: str = "lightgbm", metamodel: Any = "default", target: str | None = None,
               random_state: int | None = None) -> list[dict[str, Any]]:
    """Enqueue `n` autometa suggestions for `dataset` in `study`; returns the enqueued parameters.

    Parameters
    ----------
    study : optuna.Study
    dataset : anything :func:`autometa.load_dataset` reads.
    distributions : the study's search space ``{name: BaseDistribution}``. Needed for a study
        that has no trial yet; otherwise read from its trials. Default for an empty study: the
        distributions of `space` itself.
    """
    from autometa._suggest import suggest
    from autometa.spaces import get_space

    if distributions is None:
        distributions = study_distributions(study) or get_space(space).distributions()
    suggestions = suggest(dataset, n=n, space=space, metamodel=metamodel, target=target, random_state=random_state)
    enqueued = []
    for suggestion in suggestions:
        params = map_params(suggestion.params, distributions)
        if not params:
            raise DataError(
                f"The study's search space ({sorted(distributions)}) shares no parameter with the {space!r} "
                f"suggestions ({sorted(suggestion.params)}). Name the study's parameters like the learner's "
                "(e.g. learning_rate, num_leaves) or pass distributions= explicitly."
            )
        if params in enqueued:
            continue
        study.enqueue_trial(params, user_attrs={"autometa": suggestion.because[:200]}, skip_if_exists=True)
        enqueued.append(params)
    return enqueued
