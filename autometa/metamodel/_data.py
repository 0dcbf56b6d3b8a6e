"""The meta-data a meta-model learns from, read once from a knowledge base.

Scores are normalized per dataset as in HPO-B: ``(s - s_min) / (s_max - s_min)`` over the
dataset's pool, so 1 is the best configuration of the pool and 0 the worst; a failed fit counts
as the worst. ``regret = 1 - normalized score``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from autometa.exceptions import DataError


@dataclasses.dataclass(frozen=True)
class MetaData:
    """Datasets x configurations of one search space, with metafeatures and groups.

    scores : DataFrame (dataset x config_id) of raw scores, NaN where the fit failed.
    configs : DataFrame (config_id x parameter) of the pool.
    metafeatures : DataFrame (dataset x metafeature).
    groups : Series dataset -> near-duplicate group.
    tasks : Series dataset -> task kind.
    """

    space: str
    scores: pd.DataFrame
    configs: pd.DataFrame
    metafeatures: pd.DataFrame
    groups: pd.Series
    tasks: pd.Series

    @classmethod
    def from_knowledge_base(cls, knowledge_base, space: str) -> MetaData:
        evaluations = knowledge_base.evaluations(space)
        manifest = knowledge_base.manifest(space)
        scores = evaluations.pivot(index="dataset", columns="config_id", values="score").sort_index()
        params = list(manifest["space"]["params"])
        configs = (evaluations.drop_duplicates("config_id").set_index("config_id")[params].sort_index())
        info = pd.DataFrame(manifest["datasets"]).T.loc[scores.index]
        metafeatures = knowledge_base.metafeatures()
        missing = sorted(set(scores.index) - set(metafeatures.index))
        if missing:
            raise DataError(
                f"The knowledge base has no metafeatures for {missing[:5]}; build them with: autometa kb metafeatures"
            )
        numeric = metafeatures.loc[scores.index].select_dtypes("number").drop(columns=["n_failed", "seconds", "openml_id"], errors="ignore")
        return cls(space, scores, configs, numeric, info["group"].astype(str), info["task"].astype(str))

    @property
    def datasets(self) -> list[str]:
        return list(self.scores.index)

    def normalized(self) -> pd.DataFrame:
        """Per-dataset min-max normalized scores in [0, 1]; failed fits count as the worst (0)."""
        best, worst = self.scores.max(axis=1), self.scores.min(axis=1)
        spread = (best - worst).replace(0, np.nan)
        normalized = self.scores.sub(worst, axis=0).div(spread, axis=0)
        # A dataset where every configuration scores the same: every configuration is the best.
        flat = (spread.isna() & best.notna()).to_numpy()[:, None]
        normalized = normalized.mask(flat & self.scores.notna().to_numpy(), 1.0)
        return normalized.fillna(0.0)

    def regret(self) -> pd.DataFrame:
        return 1.0 - self.normalized()

    def subset(self, datasets: Iterable[str]) -> MetaData:
        chosen = list(datasets)
        return dataclasses.replace(
            self, scores=self.scores.loc[chosen], metafeatures=self.metafeatures.loc[chosen],
            groups=self.groups.loc[chosen], tasks=self.tasks.loc[chosen],
        )

    def without_group_of(self, dataset: str) -> MetaData:
        """Everything but `dataset` and its near-duplicates: the leave-dataset-out training set."""
        group = self.groups.loc[dataset]
        return self.subset([d for d in self.datasets if self.groups.loc[d] != group])
