"""`MetaModel`: a fitted, saveable meta-model for one search space, and its suggestions.

Saved as a folder of plain files, never pickle::

    metamodel.json       schema version, space, method, metafeature scaling, training datasets
                         with their ranked best configurations, the pool, the portfolio, the
                         distance threshold of the fallback, provenance, and the sha256 of
                         every other file
    surrogate_<i>.txt    LightGBM text models of the surrogate ensemble (method "surrogate")
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import DataError
from autometa.metamodel._data import FEATURE_VIEWS, MetaData, feature_view
from autometa.metamodel._knn import Scaling, fallback_threshold, l1_distances, nearest_dataset_configs
from autometa.metamodel._portfolio import greedy_portfolio
from autometa.metamodel._studies import FIRST_STUDY_CONFIG_ID
from autometa.metamodel._surrogate import Surrogate, greedy_best_of

SCHEMA_VERSION = 1
METHOD_NAMES = ("knn", "knn_portfolio", "portfolio", "surrogate")
NEIGHBOURS = 10  # nearest datasets whose scores are the scenarios of "knn_portfolio"
# Fallback threshold: the nearest training dataset farther than this quantile of the
# nearest-neighbour distances among training datasets counts as unfamiliar.
FALLBACK_QUANTILE = 0.95
FRESH_CANDIDATES = 512


@dataclasses.dataclass(frozen=True)
class Suggestion:
    """One configuration to try.

    params : keyword arguments for the learner (e.g. ``lightgbm.LGBMClassifier(**params)``).
    predicted : expected normalized score (1 = as good as the best of the pool on similar
        datasets), or None when the method does not predict.
    because : why: the nearest known datasets and their distances, or the fallback reason.
    """

    params: dict[str, Any]
    predicted: float | None
    because: str


def _document_digest(document: dict[str, Any]) -> str:
    """sha256 of the document without its own checksum field, in a canonical JSON form."""
    body = {k: v for k, v in document.items() if k != "document_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class MetaModel:
    """Learned from a knowledge base: which configurations of one space to try first."""

    def __init__(self, space: str, method: str = "knn", *, members: int = 8, objective: str = "regression",
                 features: str = "handcrafted", random_state: int = 0):
        self.space = space
        self.method = method
        self.members = members
        self.objective = objective
        self.features = features  # handcrafted metafeatures, Dataset2Vec embeddings, or both
        self.random_state = random_state
        self.encoder_sha256_: str | None = None

    # -- fitting -----------------------------------------------------------------------------
    @classmethod
    def from_knowledge_base(cls, knowledge_base, space: str, method: str = "knn", *, studies=(),
                            **kwargs: Any) -> MetaModel:
        """Fit on every dataset of a knowledge base (`autometa.knowledge.KnowledgeBase`).

        studies : finished Optuna studies of your own, each ``(storage URL, study name, dataset)``
            (or a :class:`~autometa.metamodel.StudySource`), learned from as extra datasets.
        """
        metadata = MetaData.from_knowledge_base(knowledge_base, space)
        encoder_sha256 = None
        if kwargs.get("features", "handcrafted") != "handcrafted":
            embeddings, encoder_sha256 = knowledge_base.embeddings()
            metadata = dataclasses.replace(metadata, metafeatures=metadata.metafeatures.join(
                embeddings.reindex(metadata.datasets)))
        if studies:
            from autometa.metamodel._studies import metadata_from_studies

            if encoder_sha256 is not None:
                raise DataError("Learning from your own studies works with handcrafted metafeatures only, for now; "
                                "fit with features='handcrafted'.")
            metadata = metadata.concat(metadata_from_studies(studies, space))
        model = cls(space, method, **kwargs).fit(metadata, knowledge_base.manifest(space)["space"]["params"])
        model.encoder_sha256_ = encoder_sha256
        model.provenance_["knowledge_base"] = {
            "space_fingerprint": knowledge_base.manifest(space)["space"]["fingerprint"],
            "datasets_by_task": metadata.tasks.value_counts().to_dict(),
            "studies": [d for d in metadata.datasets if d.startswith("study:")],
        }
        return model

    def fit(self, metadata: MetaData, params: dict[str, dict]) -> MetaModel:
        """Fit on `metadata` (complete or sparse); `params` are the space's ranges."""
        if self.method not in METHOD_NAMES:
            raise DataError(f"Unknown meta-model method {self.method!r}; expected one of {list(METHOD_NAMES)}.")
        if self.features not in FEATURE_VIEWS:
            raise DataError(f"Unknown features {self.features!r}; expected one of {list(FEATURE_VIEWS)}.")
        columns = feature_view(list(metadata.metafeatures.columns), self.features)
        if not columns:
            raise DataError(f"The meta-data has no {self.features} metafeatures (Dataset2Vec columns are d2v.*; "
                            "autometa kb embeddings --corpus PATH builds them).")
        metadata = dataclasses.replace(metadata, metafeatures=metadata.metafeatures[columns])
        self.params_ = params
        self.configs_ = metadata.configs
        self.scaling_ = Scaling.fit(metadata.metafeatures)
        self.reference_ = pd.DataFrame(self.scaling_.transform(metadata.metafeatures), index=metadata.datasets)
        normalized = metadata.normalized()
        self.best_configs_ = {d: [int(c) for c in normalized.loc[d].dropna().sort_values(ascending=False, kind="stable").index[:50]]
                              for d in metadata.datasets}
        complete = metadata.complete()
        if not complete.datasets:
            raise DataError("The static portfolio needs datasets evaluated on the whole pool (a knowledge base); "
                            "the meta-data has only sparse studies.")
        self.portfolio_ = [int(c) for c in greedy_portfolio(complete.regret(), 50)]
        # Normalized pool scores of the complete datasets: the scenarios of "knn_portfolio".
        self.pool_scores_ = complete.normalized().round(4) if self.method == "knn_portfolio" else None
        self.threshold_ = self._distance_threshold()
        self.surrogate_ = Surrogate(params, members=self.members, random_state=self.random_state,
                                    objective=self.objective).fit(metadata) if self.method == "surrogate" else None
        self.provenance_ = {"datasets": len(metadata.datasets), "pool_size": len(complete.configs),
                            "datasets_by_task": metadata.tasks.value_counts().to_dict()}
        return self

    @property
    def datasets_by_task(self) -> dict[str, int]:
        """How many datasets of each task kind this meta-model learned from ({}: not recorded;
        models saved before fit recorded it have it under the knowledge base's provenance only)."""
        return self.provenance_.get("datasets_by_task") or self.provenance_.get("knowledge_base", {}).get(
            "datasets_by_task", {})

    @property
    def tasks(self) -> list[str] | None:
        """The task kinds of the datasets this meta-model learned from (None: not recorded)."""
        return sorted(self.datasets_by_task) or None

    def check_task(self, task: str) -> None:
        """Refuse a dataset of a task kind this meta-model never saw: its neighbours, scores and
        portfolio would all come from another kind of problem."""
        if self.tasks is not None and task not in self.tasks:
            raise DataError(
                f"This {self.space} meta-model learned from {', '.join(self.tasks)} datasets only, not {task}: its "
                f"suggestions would come from another kind of problem. Use a space whose meta-model covers {task} "
                "(autometa kb info lists the knowledge base), or fit one on such datasets (autometa metamodel fit).")

    def _distance_threshold(self) -> float:
        return fallback_threshold(self.reference_.to_numpy(), FALLBACK_QUANTILE)

    # -- suggesting --------------------------------------------------------------------------
    def describe(self, dataset: Any) -> pd.Series:
        """The metafeatures this meta-model reads, of a loaded dataset (handcrafted metafeatures
        and/or the embedding of the shipped Dataset2Vec encoder the model was fitted with)."""
        import metafeatures

        parts = []
        if self.features != "dataset2vec":
            parts.append(metafeatures.extract(dataset, random_state=0))
        if self.features != "handcrafted":
            from autometa.encoder import load_encoder

            encoder = load_encoder("default")
            if self.encoder_sha256_ and encoder.sha256 != self.encoder_sha256_:
                raise DataError("This meta-model was fitted on Dataset2Vec embeddings of another encoder than the "
                                "installed one; refit it: autometa metamodel fit --features ...")
            parts.append(encoder.transform(dataset))
        return pd.concat(parts)

    def distances(self, metafeatures: pd.Series) -> pd.Series:
        if self.features != "handcrafted" and not any(str(k).startswith("d2v.") for k in metafeatures.index):
            raise DataError(f"This meta-model reads {self.features} metafeatures: the Dataset2Vec embedding (d2v.*) "
                            "is missing. Describe datasets with MetaModel.describe(dataset).")
        query = self.scaling_.transform(metafeatures.to_frame().T)[0]
        return pd.Series(l1_distances(query, self.reference_.to_numpy()), index=self.reference_.index).sort_values()

    def suggest_configs(self, metafeatures: pd.Series, n: int, random_state: int | None = None) -> list[Suggestion]:
        """`n` diverse configurations for a dataset described by `metafeatures`."""
        distances = self.distances(metafeatures)
        nearest = ", ".join(f"{d} ({v:.3f})" for d, v in distances.head(3).items())
        if distances.iloc[0] > self.threshold_:
            because = (f"fallback to the static portfolio: the nearest known dataset is at distance "
                       f"{distances.iloc[0]:.3f}, beyond the threshold {self.threshold_:.3f} ({nearest})")
            return [Suggestion(self._config(c), None, because) for c in self.portfolio_[:n]]
        if self.method == "portfolio":
            return [Suggestion(self._config(c), None, "static portfolio (no metafeatures)") for c in self.portfolio_[:n]]
        if self.method == "knn":
            picks = nearest_dataset_configs(distances, self.best_configs_, n)
            return [Suggestion(self._config(c), None, f"best on {d} (distance {distances[d]:.3f})") for c, d in picks]
        if self.method == "knn_portfolio":
            picks, expected, neighbours = self._knn_portfolio(distances, n)
            because = f"best-of-{n} over the {len(neighbours)} nearest datasets: " + ", ".join(
                f"{d} ({distances[d]:.3f})" for d in neighbours[:5]) + (", ..." if len(neighbours) > 5 else "")
            return [Suggestion(self._config(c), e, because if c < FIRST_STUDY_CONFIG_ID else f"best trial of {d} (distance "
                               f"{distances[d]:.3f})") for c, e, d in zip(picks, expected, self._sources(picks, distances))]
        candidates = pd.concat([self.configs_, self._fresh(FRESH_CANDIDATES, random_state)], ignore_index=True)
        scenarios = self.surrogate_.predict_members(metafeatures, candidates)
        expected = scenarios.mean(axis=0)
        picks = greedy_best_of(scenarios, n)
        because = f"surrogate; nearest known datasets: {nearest}"
        # A ranking surrogate only orders configurations: it predicts no normalized score.
        return [Suggestion(self._typed(candidates.iloc[i].to_dict()),
                           float(expected[i]) if self.objective == "regression" else None, because) for i in picks]

    def rank_pool(self, metafeatures: pd.Series, n: int) -> tuple[list[int], bool]:
        """(`n` pool config ids in the order this meta-model would try them, whether it fell back to
        the portfolio). Like :meth:`suggest_configs`, restricted to the evaluated pool: what a
        benchmark can score without training a model."""
        distances = self.distances(metafeatures)
        if distances.iloc[0] > self.threshold_:
            return list(self.portfolio_[:n]), True
        if self.method == "portfolio":
            return list(self.portfolio_[:n]), False
        if self.method == "knn":
            return [c for c, _ in nearest_dataset_configs(distances, self.best_configs_, n)], False
        if self.method == "knn_portfolio":
            picks, _, _ = self._knn_portfolio(distances, n)
            return [c for c in picks if c < FIRST_STUDY_CONFIG_ID], False
        pool = self.configs_.loc[self.configs_.index < FIRST_STUDY_CONFIG_ID]
        scenarios = self.surrogate_.predict_members(metafeatures, pool)
        return [int(pool.index[i]) for i in greedy_best_of(scenarios, n)], False

    def _knn_portfolio(self, distances: pd.Series, n: int) -> tuple[list[int], list[float | None], list[str]]:
        """Greedy best-of-n over the normalized pool scores of the nearest complete datasets; the
        best trial of a user's study among the nearest datasets goes first."""
        scores = self.pool_scores_
        complete = [d for d in distances.index if d in scores.index][:NEIGHBOURS]
        studies = [d for d in distances.index[: NEIGHBOURS] if d not in scores.index and self.best_configs_.get(d)]
        start = [self.best_configs_[d][0] for d in studies][:n]
        scenarios = scores.loc[complete].to_numpy(dtype=float)
        chosen = greedy_best_of(scenarios, n - len(start))
        picks = start + [int(scores.columns[i]) for i in chosen]
        expected = [None] * len(start) + [float(scenarios[:, i].mean()) for i in chosen]
        return picks, expected, complete

    def _sources(self, picks: list[int], distances: pd.Series) -> list[str]:
        """For each pick, the study dataset it is the best trial of (or "" for pool configurations)."""
        owner = {cs[0]: d for d, cs in self.best_configs_.items() if cs and cs[0] >= FIRST_STUDY_CONFIG_ID}
        return [owner.get(c, "") for c in picks]

    def _fresh(self, count: int, random_state: int | None) -> pd.DataFrame:
        from autometa.spaces import get_space

        seed = self.random_state + 1 if random_state is None else random_state + 1
        return pd.DataFrame(get_space(self.space).pool(count, seed=seed)[1:])

    def _typed(self, config: dict[str, Any]) -> dict[str, Any]:
        from autometa.spaces import get_space

        typed = {k: int(round(v)) if self.params_[k]["integer"] else float(v) for k, v in config.items()}
        return get_space(self.space).learner_params(typed)

    def _config(self, config_id: int) -> dict[str, Any]:
        return self._typed(self.configs_.loc[config_id].to_dict())

    # -- persistence -------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        if self.surrogate_ is not None:
            for i, model in enumerate(self.surrogate_.models):
                name = f"surrogate_{i}.txt"
                (folder / name).write_text(getattr(model, "booster_", model).model_to_string())
                files[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        document = {
            "schema_version": SCHEMA_VERSION, "space": self.space, "method": self.method,
            "members": self.members, "objective": self.objective, "random_state": self.random_state,
            "features": self.features, "encoder_sha256": self.encoder_sha256_,
            "params": self.params_,
            "scaling": {"columns": self.scaling_.columns, "low": self.scaling_.low.tolist(),
                        "high": self.scaling_.high.tolist(), "fill": self.scaling_.fill.tolist(),
                        "logged": [] if self.scaling_.logged is None else self.scaling_.logged.tolist()},
            "reference": {"datasets": list(self.reference_.index), "values": self.reference_.to_numpy().tolist()},
            "best_configs": self.best_configs_, "portfolio": self.portfolio_, "threshold": self.threshold_,
            "configs": {"columns": list(self.configs_.columns), "ids": [int(i) for i in self.configs_.index],
                        "values": self.configs_.to_numpy().tolist()},
            "surrogate_metafeatures": self.surrogate_.metafeature_names if self.surrogate_ else [],
            "pool_scores": None if self.pool_scores_ is None else {
                "datasets": list(self.pool_scores_.index), "configs": [int(c) for c in self.pool_scores_.columns],
                "values": self.pool_scores_.to_numpy().tolist()},
            "files": files, "provenance": self.provenance_,
        }
        document["document_sha256"] = _document_digest(document)
        (folder / "metamodel.json").write_text(json.dumps(document))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> MetaModel:
        import lightgbm

        folder = Path(folder)
        path = folder / "metamodel.json"
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise DataError(f"Cannot read the meta-model at {str(path)!r}: {error}") from error
        if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION:
            version = document.get("schema_version") if isinstance(document, dict) else None
            raise DataError(f"{str(path)!r} has schema version {version!r}; this autometa reads {SCHEMA_VERSION}.")
        if document.get("document_sha256") != _document_digest(document):
            raise DataError(f"{str(path)!r} does not match its own checksum (document_sha256): the file was changed "
                            "after it was saved. Re-save or re-install the meta-model.")
        model = cls(document["space"], document["method"], members=document["members"],
                    objective=document.get("objective", "regression"), features=document.get("features", "handcrafted"),
                    random_state=document["random_state"])
        model.encoder_sha256_ = document.get("encoder_sha256")
        model.params_ = document["params"]
        scaling = document["scaling"]
        model.scaling_ = Scaling(scaling["columns"], np.array(scaling["low"]), np.array(scaling["high"]),
                                 np.array(scaling["fill"]), np.array(scaling["logged"], dtype=bool))
        model.reference_ = pd.DataFrame(document["reference"]["values"], index=document["reference"]["datasets"])
        model.best_configs_ = document["best_configs"]
        model.portfolio_ = document["portfolio"]
        model.threshold_ = document["threshold"]
        configs = document["configs"]
        model.configs_ = pd.DataFrame(configs["values"], index=configs["ids"], columns=configs["columns"])
        model.provenance_ = document["provenance"]
        scores = document.get("pool_scores")
        model.pool_scores_ = None if scores is None else pd.DataFrame(
            scores["values"], index=scores["datasets"], columns=scores["configs"])
        model.surrogate_ = None
        if document["method"] == "surrogate":
            surrogate = Surrogate(model.params_, members=model.members, random_state=model.random_state,
                                  objective=model.objective)
            surrogate.metafeature_names = document["surrogate_metafeatures"]
            for name, digest in document["files"].items():
                text = (folder / name).read_bytes()
                if hashlib.sha256(text).hexdigest() != digest:
                    raise DataError(f"{str(folder / name)!r} does not match the checksum in metamodel.json: "
                                    "the file is truncated or was changed. Re-save or re-install the meta-model.")
                surrogate.models.append(lightgbm.Booster(model_str=text.decode()))
            model.surrogate_ = surrogate
        return model
