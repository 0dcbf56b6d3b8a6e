"""Meta-models: what to try first on a new dataset, learned from the knowledge base.

Work in progress (issue 4): the meta-data, the static greedy portfolio, the auto-sklearn-style
nearest-dataset warm start and their grouped leave-dataset-out validation are here; the
surrogate, the shipped default meta-model and ``autometa.suggest`` come next.
"""

from autometa.metamodel._data import MetaData
from autometa.metamodel._model import MetaModel, Suggestion
from autometa.metamodel._knn import Scaling, l1_distances, nearest_dataset_configs
from autometa.metamodel._portfolio import greedy_portfolio
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
    "Surrogate",
    "expected_random_best_of",
    "greedy_best_of",
    "greedy_portfolio",
    "group_folds",
    "l1_distances",
    "leave_group_out",
    "make_surrogate_method",
    "nearest_dataset_configs",
]
