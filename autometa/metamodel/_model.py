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

from autometa.exceptions import DataError, NotFittedError
from autometa.metamodel._data import FEATURE_VIEWS, MetaData, feature_view
from autometa.metamodel._knn import Scaling, fallback_threshold, l1_distances
from autometa.metamodel._methods import DEFAULT_METHOD, METHODS, Pick, Portfolio, Query, Settings

SCHEMA_VERSION = 1
METHOD_NAMES = tuple(METHODS)
# Fallback threshold: the nearest training dataset farther than this quantile of the
# nearest-neighbour distances among training datasets counts as unfamiliar.
# The default guard: off. On LightGBM's selection fold seeds (benchmarks/results/selection_validation_lightgbm.md)
# every guard quantile tried sent held-out datasets to a portfolio that did worse for them.
FALLBACK_QUANTILE = None
NEIGHBOURS = 10
# Keys of metamodel.json that MetaModel itself writes; a method's state uses other keys.
_OWN_KEYS = frozenset(
    {
        "neighbours",
        "first_share",
        "guard_quantile",
        "schema_version",
        "space",
        "method",
        "members",
        "objective",
        "metric",
        "random_state",
        "features",
        "encoder_sha256",
        "params",
        "scaling",
        "reference",
        "threshold",
        "portfolio",
        "configs",
        "files",
        "provenance",
        "document_sha256",
    }
)


_SHIPPED_FOLDERS = {"suggest": "metamodel", "sampler": "sampler"}


def shipped_metamodel_path(space: str, role: str = "suggest", metric: str = "score") -> Path:
    """The folder of the meta-model shipped for `space`: the one `suggest` and `warm_start` use
    (role "suggest"), or the surrogate :class:`autometa.optuna.MetaSampler` uses (role "sampler";
    only where the benchmark showed it helps, see the README); learned from the recorded `metric`
    (``"score"``, or ``"log_loss"`` in ``metamodel-log_loss/``)."""
    from importlib import resources

    if role not in _SHIPPED_FOLDERS:
        raise ValueError(f"role must be one of {sorted(_SHIPPED_FOLDERS)}, got {role!r}.")
    folder = _SHIPPED_FOLDERS[role] if metric == "score" else f"{_SHIPPED_FOLDERS[role]}-{metric}"
    return Path(str(resources.files("autometa") / "data" / folder / space))


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


FIRST_FIDELITY_ROWS = 2000  # the row cap of a meta-model that does not record one


def fidelity_folder(folder: str | Path, n_rows: int | None, task: str | None = None) -> Path:
    """The meta-model folder that advises a dataset of `n_rows` rows: `folder` itself, or its
    ``rows-<N>/`` subfolder (a meta-model learned from the knowledge base's second fidelity with a
    row cap of N) whose row cap is nearest `n_rows` on a log scale. A dataset larger than every
    cap gets the largest; with `n_rows` None, or no subfolder, `folder`. With `task`, only
    subfolders whose meta-model learned from datasets of that task kind count."""
    from autometa.knowledge import fidelity_folders

    folder = Path(folder)
    caps = {}
    for rows, path in fidelity_folders(folder, "metamodel.json").items():
        provenance = json.loads((path / "metamodel.json").read_text()).get("provenance", {})
        kinds = provenance.get("datasets_by_task") or provenance.get("knowledge_base", {}).get("datasets_by_task")
        if task is None or not kinds or task in kinds:
            caps[rows] = path
    if n_rows is None or not caps:
        return folder
    own = FIRST_FIDELITY_ROWS
    document = folder / "metamodel.json"
    if document.is_file():
        own = json.loads(document.read_text()).get("provenance", {}).get("knowledge_base", {}).get("max_rows", own)
    caps[int(own)] = folder
    nearest = min(caps, key=lambda cap: (abs(np.log(max(n_rows, 1) / cap)), cap))
    return caps[nearest]


def _document_digest(document: dict[str, Any]) -> str:
    """sha256 of the document without its own checksum field, in a canonical JSON form."""
    body = {k: v for k, v in document.items() if k != "document_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class MetaModel:
    """Learned from a knowledge base: which configurations of one search space to try first.

    Parameters
    ----------
    space : name of the search space (``autometa.spaces.SPACES``), e.g. ``"lightgbm"``.
    method : a meta-model method, a key of :data:`autometa.metamodel.METHODS`: ``knn_portfolio``
        (the shipped default), ``knn``, ``portfolio``, ``surrogate``, ``hybrid``, ``defaults``.
    members : surrogate ensemble size (``surrogate``, ``hybrid``).
    objective : ``"regression"`` or ``"rank"``: the surrogate's objective (``surrogate``).
    features : metafeatures read: ``"handcrafted"``, ``"dataset2vec"`` (embeddings ``d2v.*``) or
        ``"both"``.
    random_state : seed of the surrogate's bootstraps and of fresh candidates.
    neighbours : nearest datasets whose scores ``knn_portfolio`` and ``hybrid`` read.
    first_share : ``knn_portfolio``'s first pick: None, the best mean over the neighbours; a share
        in (0, 1], the best mean among the configurations that beat the defaults on at least that
        share of the neighbours, else the defaults (``benchmarks/first_pick_rules.py``).
    guard_quantile : the negative-transfer guard: a dataset farther from every training dataset
        than this quantile of the training datasets' distances to their nearest dataset of
        another group gets the static portfolio instead (None: no guard).

    Only stores its parameters; :meth:`fit` (or :meth:`from_knowledge_base`, :meth:`load`)
    makes it usable. Besides the method, a fitted meta-model holds the metafeature scaling, the
    training datasets' scaled metafeatures and the guard.
    """

    def __init__(
        self,
        space: str = "lightgbm",
        method: str = DEFAULT_METHOD,
        *,
        members: int = 8,
        objective: str = "regression",
        features: str = "handcrafted",
        random_state: int = 0,
        neighbours: int = NEIGHBOURS,
        guard_quantile: float | None = FALLBACK_QUANTILE,
        first_share: float | None = None,
    ):
        self.space = space
        self.method = method
        self.members = members
        self.objective = objective
        self.features = features  # handcrafted metafeatures, Dataset2Vec embeddings, or both
        self.random_state = random_state
        self.neighbours = neighbours
        self.guard_quantile = guard_quantile
        if first_share is not None and not 0 < first_share <= 1:
            raise DataError(
                f"first_share must be None (the best mean first) or a share in (0, 1], got {first_share!r}."
            )
        self.first_share = first_share
        self.encoder_sha256_: str | None = None

    def _settings(self) -> Settings:
        return Settings(
            members=self.members,
            objective=self.objective,
            random_state=self.random_state,
            neighbours=self.neighbours,
            first_share=self.first_share,
        )

    # -- fitting -----------------------------------------------------------------------------
    @classmethod
    def from_knowledge_base(
        cls,
        knowledge_base,
        space: str,
        method: str = DEFAULT_METHOD,
        *,
        studies=(),
        tasks: tuple[str, ...] | None = None,
        metric: str = "score",
        rows: int | None = None,
        **kwargs: Any,
    ) -> MetaModel:
        """Fit on every dataset of a knowledge base (`autometa.knowledge.KnowledgeBase`).

        studies : finished Optuna studies of your own, each ``(storage URL, study name, dataset)``
            (or a :class:`~autometa.metamodel.StudySource`), learned from as extra datasets.
        tasks : only the knowledge base's datasets of these task kinds (``binary``,
            ``multiclass``, ``regression``; default: all).
        metric : the recorded metric to learn from: ``"score"`` (the protocol's: ROC-AUC for
            classification, R^2 for regression) or ``"log_loss"`` (classification datasets only).
        rows : learn from the knowledge base's second fidelity with this row cap (a pool subset
            measured on more rows) instead of the main one; the model then advises datasets of
            about that size (:func:`autometa.load_metamodel` with ``rows=``).
        """
        metadata = MetaData.from_knowledge_base(knowledge_base, space, metric=metric, rows=rows)
        if tasks is not None:
            metadata = metadata.subset([d for d in metadata.datasets if metadata.tasks.loc[d] in set(tasks)])
            if not metadata.datasets:
                raise DataError(f"The {space} knowledge base has no datasets of the task kinds {list(tasks)}.")
        encoder_sha256 = None
        if kwargs.get("features", "handcrafted") != "handcrafted":
            embeddings, encoder_sha256 = knowledge_base.embeddings()
            metadata = dataclasses.replace(
                metadata, metafeatures=metadata.metafeatures.join(embeddings.reindex(metadata.datasets))
            )
        if studies:
            from autometa.metamodel._studies import metadata_from_studies

            if encoder_sha256 is not None:
                raise DataError(
                    "Learning from your own studies works with handcrafted metafeatures only, for now; "
                    "fit with features='handcrafted'."
                )
            metadata = metadata.concat(metadata_from_studies(studies, space))
        model = cls(space, method, **kwargs).fit(metadata, knowledge_base.space(space))
        model.encoder_sha256_ = encoder_sha256
        measured = knowledge_base if rows is None else knowledge_base.fidelities(space)[rows]
        model.provenance_["knowledge_base"] = {
            "space_fingerprint": knowledge_base.manifest(space)["space"]["fingerprint"],
            "max_rows": int(measured.manifest(space)["protocol"]["max_rows"]),
            "datasets_by_task": metadata.tasks.value_counts().to_dict(),
            "studies": [d for d in metadata.datasets if d.startswith("study:")],
        }
        return model

    def fit(self, metadata: MetaData, space=None) -> MetaModel:
        """Fit on `metadata` (complete or sparse).

        space : the :class:`~autometa.spaces.SearchSpace` the pool was collected on (e.g.
            ``KnowledgeBase.space(name)``), or its ranges as a manifest records them
            (``{name: {"low", "high", "log", "integer"}}``); default: the installed space.
        """
        from autometa.spaces import SearchSpace, get_space

        if self.method not in METHODS:
            raise DataError(f"Unknown meta-model method {self.method!r}; expected one of {list(METHODS)}.")
        if self.features not in FEATURE_VIEWS:
            raise DataError(f"Unknown features {self.features!r}; expected one of {list(FEATURE_VIEWS)}.")
        if not isinstance(space, SearchSpace):
            space = get_space(self.space) if space is None else get_space(self.space).with_ranges(space)
        columns = feature_view(list(metadata.metafeatures.columns), self.features)
        if not columns:
            raise DataError(
                f"The meta-data has no {self.features} metafeatures (Dataset2Vec columns are d2v.*; "
                "autometa kb embeddings --corpus PATH builds them)."
            )
        metadata = dataclasses.replace(metadata, metafeatures=metadata.metafeatures[columns])
        if not metadata.complete().datasets:
            raise DataError(
                "The static portfolio needs datasets evaluated on the whole pool (a knowledge base); "
                "the meta-data has only sparse studies."
            )
        self.space_ = space
        self.configs_ = metadata.configs
        self.scaling_ = Scaling.fit(metadata.metafeatures)
        self.reference_ = pd.DataFrame(self.scaling_.transform(metadata.metafeatures), index=metadata.datasets)
        self.threshold_ = (
            float("inf")
            if self.guard_quantile is None
            else fallback_threshold(self.reference_.to_numpy(), self.guard_quantile, metadata.groups.to_numpy())
        )
        self.fallback_ = Portfolio(self._settings()).fit(metadata, space)
        self.method_ = METHODS[self.method](self._settings()).fit(metadata, space)
        self.metric_ = metadata.metric
        self.provenance_ = {
            "datasets": len(metadata.datasets),
            "pool_size": len(metadata.complete().configs),
            "datasets_by_task": metadata.tasks.value_counts().to_dict(),
        }
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "method_"):
            raise NotFittedError(
                f"This MetaModel({self.space!r}, {self.method!r}) is not fitted yet. Call fit(metadata) or "
                "MetaModel.from_knowledge_base(kb, space), or load a saved one with MetaModel.load(folder)."
            )

    @property
    def params_(self) -> dict[str, dict]:
        """The search space's ranges the meta-model was fitted on, as plain data."""
        self._check_fitted()
        return self.space_.param_dicts()

    @property
    def portfolio_(self) -> list[int]:
        """The static portfolio: the guard's fallback (pool config ids, best first)."""
        self._check_fitted()
        return list(self.fallback_.portfolio)

    @property
    def surrogate_(self):
        """The surrogate ensemble of a surrogate-based method (``surrogate``, ``hybrid``), else None."""
        self._check_fitted()
        return self.method_.surrogate

    @property
    def datasets_by_task(self) -> dict[str, int]:
        """How many datasets of each task kind this meta-model learned from ({}: not recorded;
        models saved before fit recorded it have it under the knowledge base's provenance only)."""
        self._check_fitted()
        return self.provenance_.get("datasets_by_task") or self.provenance_.get("knowledge_base", {}).get(
            "datasets_by_task", {}
        )

    @property
    def max_rows(self) -> int:
        """The row cap the knowledge base's scores it learned from were measured with: N for a
        ``rows-<N>/`` fidelity, 2,000 for the main one (also for models saved before the cap was
        recorded, as :func:`fidelity_folder` reads them)."""
        self._check_fitted()
        return int(self.provenance_.get("knowledge_base", {}).get("max_rows", FIRST_FIDELITY_ROWS))

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
                "(autometa kb info lists the knowledge base), or fit one on such datasets (autometa metamodel fit)."
            )

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
                raise DataError(
                    "This meta-model was fitted on Dataset2Vec embeddings of another encoder than the "
                    "installed one; refit it: autometa metamodel fit --features ..."
                )
            parts.append(encoder.transform(dataset))
        return pd.concat(parts)

    def distances(self, metafeatures: pd.Series) -> pd.Series:
        """Scaled L1 distance from a dataset's metafeatures to every training dataset, nearest first."""
        self._check_fitted()
        if self.features != "handcrafted" and not any(str(k).startswith("d2v.") for k in metafeatures.index):
            raise DataError(
                f"This meta-model reads {self.features} metafeatures: the Dataset2Vec embedding (d2v.*) "
                "is missing. Describe datasets with MetaModel.describe(dataset)."
            )
        query = self.scaling_.transform(metafeatures.to_frame().T)[0]
        return pd.Series(l1_distances(query, self.reference_.to_numpy()), index=self.reference_.index).sort_values()

    def _rank(
        self, metafeatures: pd.Series, n: int, pool_only: bool, random_state: int | None
    ) -> tuple[list[Pick], bool]:
        distances = self.distances(metafeatures)
        query = Query(metafeatures, distances, self.configs_, self.space_, random_state)
        if self.method_.uses_metafeatures and distances.iloc[0] > self.threshold_:
            nearest = ", ".join(f"{d} ({v:.3f})" for d, v in distances.head(3).items())
            because = (
                f"fallback to the static portfolio: the nearest known dataset is at distance "
                f"{distances.iloc[0]:.3f}, beyond the threshold {self.threshold_:.3f} ({nearest})"
            )
            return [dataclasses.replace(p, because=because) for p in self.fallback_.rank(query, n, pool_only)], True
        return self.method_.rank(query, n, pool_only), False

    def suggest_configs(self, metafeatures: pd.Series, n: int, random_state: int | None = None) -> list[Suggestion]:
        """`n` diverse configurations for a dataset described by `metafeatures` (see :meth:`describe`)."""
        picks, _ = self._rank(metafeatures, n, pool_only=False, random_state=random_state)
        return [
            Suggestion(
                self._typed(p.config if p.config is not None else self.configs_.loc[p.config_id].to_dict()),
                p.predicted,
                p.because,
            )
            for p in picks
        ]

    def rank_pool(self, metafeatures: pd.Series, n: int) -> tuple[list[int], bool]:
        """(`n` pool config ids in the order this meta-model would try them, whether it fell back to
        the portfolio). Like :meth:`suggest_configs`, restricted to the evaluated pool: what a
        benchmark can score without training a model."""
        picks, fell_back = self._rank(metafeatures, n, pool_only=True, random_state=None)
        return [int(p.config_id) for p in picks], fell_back

    def _typed(self, config: dict[str, Any]) -> dict[str, Any]:
        params = self.space_.params
        typed = {k: int(round(v)) if params[k].integer else float(v) for k, v in config.items()}
        return self.space_.learner_params(typed)

    # -- persistence -------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write ``metamodel.json`` (and the method's text files) to `folder`; returns it."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state, texts = self.method_.to_json()
        clash = sorted(set(state) & _OWN_KEYS)
        if clash:
            raise ValueError(f"Method {self.method!r} writes keys {clash} that MetaModel owns.")
        files = {}
        for name, text in texts.items():
            (folder / name).write_text(text)
            files[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        document = {
            "schema_version": SCHEMA_VERSION,
            "space": self.space,
            "method": self.method,
            "members": self.members,
            "objective": self.objective,
            "random_state": self.random_state,
            "neighbours": self.neighbours,
            "guard_quantile": self.guard_quantile,
            **({} if self.first_share is None else {"first_share": self.first_share}),
            "features": self.features,
            "metric": self.metric_,
            "encoder_sha256": self.encoder_sha256_,
            "params": self.params_,
            "scaling": {
                "columns": self.scaling_.columns,
                "low": self.scaling_.low.tolist(),
                "high": self.scaling_.high.tolist(),
                "fill": self.scaling_.fill.tolist(),
                "logged": [] if self.scaling_.logged is None else self.scaling_.logged.tolist(),
            },
            "reference": {"datasets": list(self.reference_.index), "values": self.reference_.to_numpy().tolist()},
            "portfolio": self.portfolio_,
            "threshold": self.threshold_,
            "configs": {
                "columns": list(self.configs_.columns),
                "ids": [int(i) for i in self.configs_.index],
                "values": self.configs_.to_numpy().tolist(),
            },
            **state,
            "files": files,
            "provenance": self.provenance_,
        }
        document["document_sha256"] = _document_digest(document)
        (folder / "metamodel.json").write_text(json.dumps(document))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> MetaModel:
        """A meta-model saved by :meth:`save`; a changed or truncated file is refused."""
        from autometa.spaces import get_space

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
            raise DataError(
                f"{str(path)!r} does not match its own checksum (document_sha256): the file was changed "
                "after it was saved. Re-save or re-install the meta-model."
            )
        if document["method"] not in METHODS:
            raise DataError(
                f"{str(path)!r} holds a {document['method']!r} meta-model; this autometa knows {list(METHODS)}."
            )
        model = cls(
            document["space"],
            document["method"],
            members=document["members"],
            objective=document.get("objective", "regression"),
            features=document.get("features", "handcrafted"),
            random_state=document["random_state"],
            neighbours=document.get("neighbours", NEIGHBOURS),
            # Files written before the guard was a setting were all fitted with the 0.95 guard.
            guard_quantile=document.get("guard_quantile", 0.95),
            first_share=document.get("first_share"),
        )
        model.encoder_sha256_ = document.get("encoder_sha256")
        model.metric_ = document.get("metric", "score")  # files written before metrics: the score
        model.space_ = get_space(document["space"]).with_ranges(document["params"])
        scaling = document["scaling"]
        model.scaling_ = Scaling(
            scaling["columns"],
            np.array(scaling["low"]),
            np.array(scaling["high"]),
            np.array(scaling["fill"]),
            np.array(scaling["logged"], dtype=bool),
        )
        model.reference_ = pd.DataFrame(document["reference"]["values"], index=document["reference"]["datasets"])
        model.threshold_ = document["threshold"]
        configs = document["configs"]
        model.configs_ = pd.DataFrame(configs["values"], index=configs["ids"], columns=configs["columns"])
        model.provenance_ = document["provenance"]
        texts = {}
        for name, digest in document["files"].items():
            data = (folder / name).read_bytes() if (folder / name).is_file() else b""
            if hashlib.sha256(data).hexdigest() != digest:
                raise DataError(
                    f"{str(folder / name)!r} does not match the checksum in metamodel.json: "
                    "the file is missing, truncated or was changed. Re-save or re-install the meta-model."
                )
            texts[name] = data.decode()
        settings = model._settings()
        model.fallback_ = Portfolio.from_json(document, {}, settings, model.space_)
        model.method_ = METHODS[document["method"]].from_json(document, texts, settings, model.space_)
        return model
