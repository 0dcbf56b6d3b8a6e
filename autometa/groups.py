"""Splits of datasets that keep each group whole: what "held out" means in every evaluation.

A group is a set of datasets that must never be split between training and held-out data
(near-duplicates today). Every leave-dataset-out evaluation (the meta-model validation, both
benchmark modes, the per-fold Dataset2Vec encoders) draws its folds here, so they all hold out
the same units.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def group_folds(groups: Any, folds: int | None, seed: int = 0) -> list[list[str]]:
    """Held-out dataset lists: one per group (``folds=None``), or `folds` folds of whole groups.

    groups : a pandas Series dataset -> group, or anything with such a ``.groups`` (a
        :class:`~autometa.metamodel.MetaData`). Datasets keep their order inside a fold.
    seed : which groups go together; the same seed gives the same folds.
    """
    groups = getattr(groups, "groups", groups)
    names = sorted(groups.unique())
    if folds is None:
        assignment = {g: i for i, g in enumerate(names)}
    else:
        order = np.random.default_rng(seed).permutation(len(names))
        assignment = {names[j]: rank % folds for rank, j in enumerate(order)}
    held: dict[int, list[str]] = {}
    for dataset, group in groups.items():
        held.setdefault(assignment[group], []).append(dataset)
    return [held[k] for k in sorted(held)]
