"""`autometa.suggest`: the configurations to try first on a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autometa.exceptions import DataError


def load_metamodel(
    metamodel: Any,
    space: str,
    *,
    role: str = "suggest",
    metric: str = "auto",
    rows: int | None = None,
    task: str | None = None,
):
    """A MetaModel from "default" (shipped with the package for `role`: "suggest" or "sampler",
    and for `metric`), a folder, or a MetaModel. A `metric` other than "auto" must be the one the
    meta-model learned from (:func:`autometa.protocol.resolve_metric` names). `rows`: the rows
    the advice is for; a folder with meta-models learned at several row caps (``rows-<N>/``
    subfolders, :func:`autometa.metamodel.fidelity_folder`) gives the one measured nearest that
    size among those that learned from `task`'s kind."""
    from autometa.metamodel import MetaModel, fidelity_folder, shipped_metamodel_path
    from autometa.protocol import resolve_metric

    recorded = resolve_metric(metric).name
    if isinstance(metamodel, MetaModel):
        model = metamodel
    else:
        shipped = metamodel in (None, "default")
        folder = shipped_metamodel_path(space, role, recorded) if shipped else Path(metamodel)
        if not (folder / "metamodel.json").is_file():
            if shipped and recorded != "score":
                raise DataError(
                    f"No meta-model learned from {recorded!r} ships for space {space!r}{' as a sampler' if role == 'sampler' else ''}. "
                    f"Fit one (autometa metamodel fit --space {space} --metric {recorded} --out FOLDER) and pass "
                    "FOLDER as metamodel=, or use the default metric."
                )
            if shipped and role == "sampler":
                raise DataError(
                    f"No surrogate meta-model ships for space {space!r}. Fit one (autometa metamodel fit --space "
                    f"{space} --method surrogate --members 4 --out FOLDER) and pass FOLDER as metamodel= "
                    "(autometa tune: --sampler-metamodel FOLDER), or use --sampler tpe."
                )
            raise DataError(
                f"No meta-model at {str(folder)!r}. Pass metamodel= a folder written by MetaModel.save, or use "
                "a space with a shipped default (see autometa kb info)."
            )
        model = MetaModel.load(fidelity_folder(folder, rows, task) if role == "suggest" else folder)
    if model.space != space:
        raise DataError(f"The meta-model was fitted for space {model.space!r}, not {space!r}.")
    learned = getattr(model, "metric_", "score")
    if metric != "auto" and learned != recorded:
        raise DataError(
            f"The meta-model learned from {learned!r}, not {recorded!r} (metric={metric!r}); pass a meta-model "
            f"fitted with --metric {recorded}, or metric='auto' to use its own."
        )
    return model


def suggest(
    dataset: Any,
    *,
    n: int = 5,
    space: str = "lightgbm",
    metamodel: Any = "default",
    random_state: int | None = None,
    target: str | None = None,
    task: str | None = None,
    metric: str = "auto",
) -> list:
    """Ranked, diverse configurations of `space` to try first on `dataset`.

    Parameters
    ----------
    dataset : anything :func:`autometa.load_dataset` reads: (X, y), a DataFrame with
        ``target=``, a file path, an OpenML id, a Dataset.
    n : number of suggestions.
    space : search space name.
    metamodel : "default" (shipped), a folder written by ``MetaModel.save``, or a MetaModel.
    random_state : seed of the fresh candidate configurations (surrogate meta-models).
    target : the target column, for a DataFrame or a file.
    task : ``"binary"``, ``"multiclass"``, ``"regression"`` or ``"classification"``, when the
        target's values do not say it (default: inferred).
    metric : what the suggestions should be good at: ``"auto"`` (the knowledge base's own
        metric: ROC-AUC for classification, R^2 for regression; ``"roc_auc"`` and ``"r2"`` name
        it), or ``"log_loss"`` (classification: probabilities that are also calibrated), each
        learned from the knowledge base's scores in that metric.

    Returns
    -------
    list of Suggestion (``.params`` for the learner, ``.predicted``, ``.because``).
    """
    return explain(
        dataset,
        n=n,
        space=space,
        metamodel=metamodel,
        random_state=random_state,
        target=target,
        task=task,
        metric=metric,
    )["suggestions"]


def explain(
    dataset: Any,
    *,
    n: int = 5,
    space: str = "lightgbm",
    metamodel: Any = "default",
    random_state: int | None = None,
    target: str | None = None,
    task: str | None = None,
    neighbours: int = 5,
    metric: str = "auto",
) -> dict[str, Any]:
    """:func:`suggest`, with what a reader needs to trust it: ``{"suggestions", "dataset",
    "task", "space", "learner", "metamodel", "neighbours"}``; ``neighbours`` are the nearest
    known datasets with their distances (mean absolute difference of the min-max-scaled
    metafeatures: 0 is the same dataset) and, for scale, ``typical_nearest_distance``: 95% of the
    known datasets have another known dataset at most this far."""
    import numpy as np

    from autometa.datasets import load_dataset
    from autometa.metamodel import l1_distances
    from autometa.protocol import resolve_metric
    from autometa.spaces import get_space

    if not isinstance(n, int) or n < 1:
        raise DataError(f"n must be a positive integer, got {n!r}.")
    resolve_metric(metric)  # an unknown name fails before the data is read
    search_space = get_space(space)
    data = load_dataset(dataset, target=target, task=task)
    if data.task not in search_space.tasks:
        raise DataError(f"Search space {space!r} supports {list(search_space.tasks)}, not {data.task!r} tasks.")
    resolve_metric(metric, data.task)
    model = load_metamodel(metamodel, space, metric=metric, rows=data.n_rows, task=data.task)
    model.check_task(data.task)
    values = model.describe(data)
    suggestions = model.suggest_configs(values, n, random_state=random_state)
    distances = model.distances(values).head(neighbours)
    reference = model.reference_.to_numpy()
    typical = [np.sort(l1_distances(row, reference))[1] for row in reference] if len(reference) > 1 else [0.0]
    estimator = search_space.estimator(data.task, search_space.defaults)
    learner = type(getattr(estimator, "steps", [(None, estimator)])[-1][1]).__name__  # a pipeline's learner
    return {
        "suggestions": suggestions,
        "dataset": data.name,
        "task": data.task,
        "space": space,
        "learner": learner,
        "metamodel": {
            "method": model.method,
            "features": model.features,
            "neighbours": model.neighbours,
            "guard_quantile": model.guard_quantile,
            "metric": getattr(model, "metric_", "score"),
            "datasets": model.provenance_.get("datasets"),
            # The row cap its scores were measured with: advice for a large dataset comes from the
            # knowledge base's second fidelity where one ships (see autometa.load_metamodel).
            "max_rows": model.max_rows,
        },
        "neighbours": [{"dataset": d, "distance": round(float(v), 4)} for d, v in distances.items()],
        # For scale: 95% of the known datasets have another known dataset at most this far.
        "typical_nearest_distance": round(float(np.quantile(typical, 0.95)), 4),
    }
