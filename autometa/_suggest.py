"""`autometa.suggest`: the configurations to try first on a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autometa.exceptions import DataError


def load_metamodel(metamodel: Any, space: str, *, role: str = "suggest"):
    """A MetaModel from "default" (shipped with the package for `role`: "suggest" or "sampler"),
    a folder, or a MetaModel."""
    from autometa.metamodel import MetaModel, shipped_metamodel_path

    if isinstance(metamodel, MetaModel):
        model = metamodel
    else:
        shipped = metamodel in (None, "default")
        folder = shipped_metamodel_path(space, role) if shipped else Path(metamodel)
        if not (folder / "metamodel.json").is_file():
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
        model = MetaModel.load(folder)
    if model.space != space:
        raise DataError(f"The meta-model was fitted for space {model.space!r}, not {space!r}.")
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

    Returns
    -------
    list of Suggestion (``.params`` for the learner, ``.predicted``, ``.because``).
    """
    return explain(dataset, n=n, space=space, metamodel=metamodel, random_state=random_state, target=target, task=task)[
        "suggestions"
    ]


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
) -> dict[str, Any]:
    """:func:`suggest`, with what a reader needs to trust it: ``{"suggestions", "dataset",
    "task", "space", "learner", "metamodel", "neighbours"}``; ``neighbours`` are the nearest
    known datasets with their distances (mean absolute difference of the min-max-scaled
    metafeatures: 0 is the same dataset) and, for scale, ``typical_nearest_distance``: 95% of the
    known datasets have another known dataset at most this far."""
    import numpy as np

    from autometa.datasets import load_dataset
    from autometa.metamodel import l1_distances
    from autometa.spaces import get_space

    if not isinstance(n, int) or n < 1:
        raise DataError(f"n must be a positive integer, got {n!r}.")
    search_space = get_space(space)
    data = load_dataset(dataset, target=target, task=task)
    if data.task not in search_space.tasks:
        raise DataError(f"Search space {space!r} supports {list(search_space.tasks)}, not {data.task!r} tasks.")
    model = load_metamodel(metamodel, space)
    model.check_task(data.task)
    values = model.describe(data)
    suggestions = model.suggest_configs(values, n, random_state=random_state)
    distances = model.distances(values).head(neighbours)
    reference = model.reference_.to_numpy()
    typical = [np.sort(l1_distances(row, reference))[1] for row in reference] if len(reference) > 1 else [0.0]
    learner = type(search_space.estimator(data.task, search_space.defaults)).__name__
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
            "datasets": model.provenance_.get("datasets"),
        },
        "neighbours": [{"dataset": d, "distance": round(float(v), 4)} for d, v in distances.items()],
        # For scale: 95% of the known datasets have another known dataset at most this far.
        "typical_nearest_distance": round(float(np.quantile(typical, 0.95)), 4),
    }
