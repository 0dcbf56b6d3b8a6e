"""autometa: hyperparameter meta-learning for Optuna.

Importing this package is light: no torch, no optuna, no lightgbm until a feature needs them.
"""

from autometa._suggest import explain, suggest
from autometa._tune import tune
from autometa._version import __version__
from autometa.datasets import Dataset, load_corpus, load_dataset
from autometa.exceptions import (
    AutometaError,
    DataError,
    MissingDependencyError,
    NotFittedError,
    SourceNotFoundError,
)

__all__ = [
    "AutometaError",
    "DataError",
    "Dataset",
    "MissingDependencyError",
    "NotFittedError",
    "SourceNotFoundError",
    "__version__",
    "explain",
    "load_corpus",
    "load_dataset",
    "suggest",
    "tune",
]
