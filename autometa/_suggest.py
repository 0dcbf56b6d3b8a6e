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

    Returns
    -------
    list of Suggestion (``.params`` for the learner, ``.predicted``, ``.because``).
    """
    from autometa.datasets import load_dataset
    from autometa.spaces import get_space

    if not isinstance(n, int) or n < 1:
        raise DataError(f"n must be a positive integer, got {n!r}.")
    search_space = get_space(space)
    data = load_dataset(dataset, target=target)
    if data.task not in search_space.tasks:
        raise DataError(f"Search space {space!r} supports {list(search_space.tasks)}, not {data.task!r} tasks.")
    model = load_metamodel(metamodel, space)
    model.check_task(data.task)
    return model.suggest_configs(model.describe(data), n, random_state=random_state)
