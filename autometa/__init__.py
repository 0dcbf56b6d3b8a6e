"""autometa: hyperparameter meta-learning for Optuna.

Importing this package is light: no torch, no optuna, no lightgbm until a feature needs them.
"""

from autometa._version import __version__
from autometa.datasets import Dataset, load_corpus, load_dataset
from autometa.exceptions import AutometaError, DataError, MissingDependencyError, SourceNotFoundError


def suggest(dataset, **kwargs):
    """Ranked, diverse configurations to try first on `dataset`; see :func:`autometa._suggest.suggest`."""
    from autometa._suggest import suggest as _suggest

    return _suggest(dataset, **kwargs)

__all__ = [
    "AutometaError",
    "DataError",
    "Dataset",
    "MissingDependencyError",
    "SourceNotFoundError",
    "__version__",
    "load_corpus",
    "load_dataset",
    "suggest",
]
