"""Meta-models: what to try first on a new dataset, learned from the knowledge base.

The meta-data (:class:`MetaData`, from the knowledge base and optionally a user's own Optuna
studies), three methods (static greedy portfolio, auto-sklearn-style nearest datasets, a
LightGBM surrogate), their grouped leave-dataset-out validation, and :class:`MetaModel`, the
fitted, saveable object behind ``autometa.suggest``.
"""

from autometa.metamodel._data import MetaData
from autometa.metamodel._model import MetaModel, Suggestion
from autometa.metamodel._knn import Scaling, l1_distances, nearest_dataset_configs
from autometa.metamodel._portfolio import greedy_portfolio
from autometa.metamodel._studies import StudySource, metadata_from_studies
from autometa.metamodel._surrogate import Surrogate, greedy_best_of
from autometa.metamodel._validation import (
    METHODS,
    expected_random_best_of,
    group_folds,
    leave_group_out,
    make_surrogate_method,
)

__all__ = [
    "METHODS",
    "MetaData",
    "MetaModel",
    "Suggestion",
    "Scaling",
    "StudySource",
    "Surrogate",
    "expected_random_best_of",
    "greedy_best_of",
    "greedy_portfolio",
    "group_folds",
    "l1_distances",
    "leave_group_out",
    "make_surrogate_method",
    "metadata_from_studies",
    "nearest_dataset_configs",
]
