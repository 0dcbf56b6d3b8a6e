"""Meta-models: what to try first on a new dataset, learned from the knowledge base.

The meta-data (:class:`MetaData`, from the knowledge base and optionally a user's own Optuna
studies); the methods, one class each in :data:`METHODS` (static greedy portfolio,
auto-sklearn-style nearest datasets, the nearest datasets' best-of-n portfolio, LightGBM
surrogates); :class:`MetaModel`, the fitted, saveable object behind ``autometa.suggest``; and
their grouped leave-dataset-out validation, which runs the same :class:`MetaModel`.
"""

from autometa.knowledge import FIDELITY_PREFIX
from autometa.metamodel._data import MetaData
from autometa.metamodel._knn import Scaling, l1_distances, nearest_dataset_configs
from autometa.metamodel._methods import (
    DEFAULT_METHOD,
    DEFAULTS_ID,
    METHODS,
    Method,
    Pick,
    Query,
    Settings,
    robust_first,
)
from autometa.metamodel._model import MetaModel, Suggestion, fidelity_folder, shipped_metamodel_path
from autometa.metamodel._portfolio import greedy_portfolio
from autometa.metamodel._studies import FIRST_STUDY_CONFIG_ID, StudySource, metadata_from_studies
from autometa.metamodel._surrogate import Surrogate, greedy_best_of
from autometa.metamodel._validation import CANDIDATES, Candidate, expected_random_best_of, leave_group_out

__all__ = [
    "CANDIDATES",
    "DEFAULTS_ID",
    "DEFAULT_METHOD",
    "FIDELITY_PREFIX",
    "FIRST_STUDY_CONFIG_ID",
    "METHODS",
    "Candidate",
    "MetaData",
    "MetaModel",
    "Method",
    "Pick",
    "Query",
    "Settings",
    "Scaling",
    "StudySource",
    "Suggestion",
    "Surrogate",
    "expected_random_best_of",
    "fidelity_folder",
    "greedy_best_of",
    "greedy_portfolio",
    "l1_distances",
    "leave_group_out",
    "metadata_from_studies",
    "nearest_dataset_configs",
    "robust_first",
    "shipped_metamodel_path",
]
