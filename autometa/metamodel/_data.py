"""The meta-data a meta-model learns from, read once from a knowledge base.

Scores are normalized per dataset as in HPO-B: ``(s - s_min) / (s_max - s_min)`` over the
dataset's pool, so 1 is the best configuration of the pool and 0 the worst; a failed fit counts
as the worst. ``regret = 1 - normalized score``.

The knowledge base gives a complete matrix (every dataset x every pool configuration). Extra
meta-data from a user's own Optuna studies (:func:`metadata_from_studies`) is sparse: each of
those datasets has only its own trials' configurations, and the rest of its row is "not
evaluated" (NaN in :meth:`MetaData.normalized`, not a failure). Methods that need the complete
matrix (the static portfolio, validation) use :meth:`MetaData.complete`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from autometa.exceptions import DataError

FEATURE_VIEWS = ("handcrafted", "dataset2vec", "both")
EMBEDDING_PREFIX = "d2v."


def feature_view(columns: Sequence[str], view: str) -> list[str]:
    """The metafeature columns a view uses: handcrafted, dataset2vec (``d2v.*``) or both."""
    if view not in FEATURE_VIEWS:
        raise ValueError(f"Unknown feature view {view!r}; expected one of {list(FEATURE_VIEWS)}.")
    learned = [c for c in columns if str(c).startswith(EMBEDDING_PREFIX)]
    if view == "dataset2vec":
        return learned
    return [c for c in columns if c not in set(learned)] if view == "handcrafted" else list(columns)


@dataclasses.dataclass(frozen=True)
class MetaData:
    """Datasets x configurations of one search space, with metafeatures and groups.

    scores : DataFrame (dataset x config_id) of raw scores, NaN where the fit failed.
    configs : DataFrame (config_id x parameter) of the pool.
    metafeatures : DataFrame (dataset x metafeature).
    groups : Series dataset -> near-duplicate group.
    tasks : Series dataset -> task kind.
    evaluated : DataFrame (dataset x config_id) of bools, False where the pair was never
        evaluated (sparse meta-data); None means every pair was evaluated.
    metric : the recorded metric the scores are (:data:`autometa.protocol.METRICS`), turned so
        that higher is better (``log_loss`` scores are minus the log-loss).
    costs : DataFrame (dataset x config_id) of what each evaluation cost, in seconds (the summed
        fit time of its cross-validation, one thread); None when not recorded, NaN where unknown.
    """

    space: str
    scores: pd.DataFrame
    configs: pd.DataFrame
    metafeatures: pd.DataFrame
    groups: pd.Series
    tasks: pd.Series
    evaluated: pd.DataFrame | None = None
    metric: str = "score"
    costs: pd.DataFrame | None = None

    @classmethod
    def from_knowledge_base(
        cls, knowledge_base, space: str, grouping: str = "family", metric: str = "score", rows: int | None = None
    ) -> MetaData:
        """Every dataset of `space` in a knowledge base that records `metric` (``"score"``, or
        ``"log_loss"``: the classification datasets, each log-loss capped at that of predicting
        the class frequencies); `grouping` says which datasets are held out together
        (:meth:`autometa.knowledge.KnowledgeBase.groups`). `rows`: the knowledge base's second
        fidelity with that row cap (:meth:`~autometa.knowledge.KnowledgeBase.fidelities`: a pool
        subset measured on more rows; metafeatures and groups come from the main one)."""
        from autometa.protocol import resolve_metric

        recorded = resolve_metric(metric)
        measured = knowledge_base
        if rows is not None:
            fidelities = knowledge_base.fidelities(space)
            if rows not in fidelities:
                raise DataError(
                    f"The {space} knowledge base at {str(knowledge_base.location)!r} has no fidelity of {rows} rows; "
                    f"it has {sorted(fidelities) or 'none'} besides the main one."
                )
            measured = fidelities[rows]
        evaluations = measured.evaluations(space)
        manifest = measured.manifest(space)
        info = pd.DataFrame(manifest["datasets"]).T
        has_metric = set(info.index[info["task"].isin(recorded.tasks)])
        evaluations = evaluations[evaluations["dataset"].isin(has_metric)]
        if evaluations.empty:
            raise DataError(f"The {space} knowledge base has no datasets that record {recorded.name!r}.")
        values = evaluations.pivot(index="dataset", columns="config_id", values=recorded.column).sort_index()
        scores = recorded.signed(values)
        params = list(manifest["space"]["params"])
        configs = evaluations.drop_duplicates("config_id").set_index("config_id")[params].sort_index()
        info = info.loc[scores.index]
        metafeatures = knowledge_base.metafeatures()
        missing = sorted(set(scores.index) - set(metafeatures.index))
        if missing:
            raise DataError(
                f"The knowledge base has no metafeatures for {missing[:5]}; build them with: autometa kb metafeatures"
            )
        if recorded.name == "log_loss" and "class_ent" in metafeatures.columns:
            # Log-loss explodes on a few confident mistakes; min-max over such a pool would call
            # every sane configuration "best". Cap it at the log-loss of predicting the class
            # frequencies (the class entropy, bits -> nats): no better than that counts as the worst.
            prior = metafeatures["class_ent"].reindex(scores.index).astype(float) * np.log(2.0)
            scores = scores.clip(lower=-prior, axis=0)
        numeric = (
            metafeatures.loc[scores.index]
            .select_dtypes("number")
            .drop(columns=["n_failed", "seconds", "openml_id"], errors="ignore")
        )
        groups = knowledge_base.groups(space, grouping).reindex(scores.index)
        groups = groups.fillna(measured.groups(space, grouping).reindex(scores.index)).astype(str)
        costs = None
        if "fit_seconds" in evaluations.columns:
            costs = evaluations.pivot(index="dataset", columns="config_id", values="fit_seconds").loc[scores.index]
        return cls(space, scores, configs, numeric, groups, info["task"].astype(str), metric=recorded.name, costs=costs)

    @property
    def datasets(self) -> list[str]:
        return list(self.scores.index)

    def normalized(self) -> pd.DataFrame:
        """Per-dataset min-max normalized scores in [0, 1]; failed fits count as the worst (0);
        NaN where a pair was not evaluated."""
        best, worst = self.scores.max(axis=1), self.scores.min(axis=1)
        spread = (best - worst).replace(0, np.nan)
        normalized = self.scores.sub(worst, axis=0).div(spread, axis=0)
        # A dataset where every configuration scores the same: every configuration is the best.
        flat = (spread.isna() & best.notna()).to_numpy()[:, None]
        normalized = normalized.mask(flat & self.scores.notna().to_numpy(), 1.0)
        normalized = normalized.fillna(0.0)
        return normalized if self.evaluated is None else normalized.where(self.evaluated)

    def relative_costs(self) -> pd.DataFrame | None:
        """Natural log of each evaluation's cost over its dataset's median cost (0 = a typical
        configuration of that dataset; NaN where unknown); None when no costs are recorded."""
        if self.costs is None:
            return None
        costs = self.costs.where(self.costs > 0)
        return np.log(costs.div(costs.median(axis=1), axis=0))

    def regret(self) -> pd.DataFrame:
        return 1.0 - self.normalized()

    def subset(self, datasets: Iterable[str]) -> MetaData:
        chosen = list(datasets)
        return dataclasses.replace(
            self,
            scores=self.scores.loc[chosen],
            metafeatures=self.metafeatures.loc[chosen],
            groups=self.groups.loc[chosen],
            tasks=self.tasks.loc[chosen],
            evaluated=None if self.evaluated is None else self.evaluated.loc[chosen],
            costs=None if self.costs is None else self.costs.loc[chosen],
        )

    def complete(self) -> MetaData:
        """The complete block: the configurations of the most-evaluated dataset (the pool, when a
        knowledge base is in), and the datasets evaluated on all of them."""
        if self.evaluated is None:
            return self
        widest = self.evaluated.sum(axis=1).idxmax()
        columns = self.evaluated.columns[self.evaluated.loc[widest].to_numpy()]
        rows = self.evaluated.index[self.evaluated[columns].all(axis=1)]
        block = self.subset(rows)
        return dataclasses.replace(
            block,
            scores=block.scores[columns],
            configs=self.configs.loc[columns],
            evaluated=None,
            costs=None if block.costs is None else block.costs[columns],
        )

    def concat(self, other: MetaData) -> MetaData:
        """The datasets of both; configurations are the union (ids must not collide)."""
        if self.space != other.space:
            raise DataError(f"Cannot merge meta-data of space {self.space!r} with {other.space!r}.")
        overlap = sorted(set(self.datasets) & set(other.datasets))
        if overlap:
            raise DataError(f"Datasets {overlap[:5]} are in both meta-data sets; give the extra ones other names.")
        shared = set(self.configs.index) & set(other.configs.index)
        if shared:
            raise DataError(f"Configuration ids {sorted(shared)[:5]} are in both meta-data sets.")
        configs = pd.concat([self.configs, other.configs.reindex(columns=self.configs.columns)])
        scores = pd.concat([self.scores, other.scores]).reindex(columns=configs.index)
        evaluated = pd.concat([self._evaluated_mask(), other._evaluated_mask()]).reindex(columns=configs.index)
        return MetaData(
            self.space,
            scores,
            configs,
            pd.concat([self.metafeatures, other.metafeatures.reindex(columns=self.metafeatures.columns)]),
            pd.concat([self.groups, other.groups]),
            pd.concat([self.tasks, other.tasks]),
            evaluated.fillna(False).astype(bool),
            metric=self.metric,
            costs=self._costs_or_nan()
            .combine_first(other._costs_or_nan())
            .reindex(index=scores.index, columns=configs.index)
            if self.costs is not None or other.costs is not None
            else None,
        )

    def _costs_or_nan(self) -> pd.DataFrame:
        if self.costs is not None:
            return self.costs
        return pd.DataFrame(np.nan, index=self.scores.index, columns=self.scores.columns)

    def _evaluated_mask(self) -> pd.DataFrame:
        if self.evaluated is not None:
            return self.evaluated
        return pd.DataFrame(True, index=self.scores.index, columns=self.scores.columns)

    def without_group_of(self, dataset: str) -> MetaData:
        """Everything but `dataset` and its near-duplicates: the leave-dataset-out training set."""
        group = self.groups.loc[dataset]
        return self.subset([d for d in self.datasets if self.groups.loc[d] != group])
