"""auto-sklearn-1.0-style nearest-dataset warm start (Feurer et al., 2015).

Metafeatures are min-max scaled on the training datasets (a metafeature missing on a dataset
takes the training median; constant ones are dropped); the distance is the L1 distance averaged
over metafeatures. Suggestions are the best configuration of the nearest dataset, then of the
next nearest, skipping configurations already suggested.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True)
class Scaling:
    """Min-max scaling fitted on training metafeatures (only those that vary and are mostly finite).

    Non-negative metafeatures spanning more than two orders of magnitude (row and column counts,
    ratios) are scaled on ``log1p``, as auto-sklearn logs its counts: otherwise one dataset ten
    times larger than every training dataset would sit ten ranges away on that feature alone.
    """

    columns: list[str]
    low: np.ndarray
    high: np.ndarray
    fill: np.ndarray
    logged: np.ndarray | None = None

    @classmethod
    def fit(cls, metafeatures: pd.DataFrame, min_finite_share: float = 0.5) -> Scaling:
        values = metafeatures.replace([np.inf, -np.inf], np.nan)
        usable = (values.notna().mean() >= min_finite_share) & (values.nunique() > 1)
        values = values.loc[:, usable]
        low, high = values.min().to_numpy(dtype=float), values.max().to_numpy(dtype=float)
        logged = (low >= 0) & ((high + 1) / (low + 1) > 100)
        transformed = cls._transform_raw(values.to_numpy(dtype=float), logged)
        low, high = np.nanmin(transformed, axis=0), np.nanmax(transformed, axis=0)
        scaled = (transformed - low) / (high - low)
        return cls(list(values.columns), low, high, np.nanmedian(scaled, axis=0), logged)

    @staticmethod
    def _transform_raw(values: np.ndarray, logged: np.ndarray | None) -> np.ndarray:
        if logged is None or not logged.any():
            return values
        out = values.copy()
        with np.errstate(invalid="ignore"):
            out[:, logged] = np.log1p(np.maximum(values[:, logged], 0.0))
        return out

    def transform(self, metafeatures: pd.DataFrame) -> np.ndarray:
        values = metafeatures.reindex(columns=self.columns).replace([np.inf, -np.inf], np.nan).to_numpy(dtype=float)
        scaled = (self._transform_raw(values, self.logged) - self.low) / (self.high - self.low)
        return np.where(np.isnan(scaled), self.fill, scaled)


def l1_distances(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Mean absolute difference between one scaled metafeature vector and each reference row."""
    return np.abs(reference - query[None, :]).mean(axis=1)


def nearest_dataset_configs(distances: pd.Series, best_configs: dict[str, list[int]], n: int) -> list[tuple[int, str]]:
    """(config id, from which dataset) of up to `n` distinct configurations, nearest datasets first.

    Each round takes the next-best not-yet-chosen configuration of every dataset in distance
    order, so with fewer datasets than `n` the second-best configurations follow.
    """
    order = distances.sort_values(kind="stable").index
    chosen: list[tuple[int, str]] = []
    taken: set[int] = set()
    depth = 0
    while len(chosen) < n and depth < max((len(v) for v in best_configs.values()), default=0):
        for dataset in order:
            ranked = best_configs[dataset]
            if depth < len(ranked) and ranked[depth] not in taken:
                chosen.append((ranked[depth], dataset))
                taken.add(ranked[depth])
                if len(chosen) == n:
                    break
        depth += 1
    return chosen


def fallback_threshold(reference: np.ndarray, quantile: float, groups: np.ndarray | None = None) -> float:
    """The `quantile` of the distances from each reference row to its nearest row of another group
    (another row, without `groups`).

    A new dataset farther than this from every reference dataset is less familiar than all but
    ``1 - quantile`` of the reference datasets are to the datasets outside their own group: the
    situation of a dataset whose whole group is unknown, as in a held-out split.
    """
    groups = np.arange(len(reference)) if groups is None else np.asarray(groups)
    nearest = []
    for i in range(len(reference)):
        others = reference[groups != groups[i]]
        nearest.append(l1_distances(reference[i], others).min() if len(others) else np.inf)
    return float(np.quantile(nearest, quantile)) if nearest else float("inf")
