"""Handcrafted dataset metafeatures, fast and robust; importable without autometa.

    >>> import metafeatures
    >>> values = metafeatures.extract(X, y)            # pandas.Series
    >>> metafeatures.describe("skewness.mean")

Groups: general, statistical, info-theory, model-based, landmarking. Every output name is
listed by :func:`list_metafeatures` and documented by :func:`describe`.

Learned metafeatures: :class:`metafeatures.Dataset2Vec` (needs PyTorch, imported only when used).
"""

from metafeatures._extract import (
    DEFAULT_GROUPS,
    DEFAULT_MAX_ROWS,
    GROUPS,
    Extraction,
    describe,
    extract,
    extract_all,
    list_metafeatures,
)
from metafeatures._input import stratified_subsample_index
from metafeatures.exceptions import MetafeatureInputError

__all__ = [
    "DEFAULT_GROUPS",
    "DEFAULT_MAX_ROWS",
    "GROUPS",
    "Extraction",
    "MetafeatureInputError",
    "describe",
    "extract",
    "extract_all",
    "list_metafeatures",
    "stratified_subsample_index",
]


def __getattr__(name: str):
    if name == "Dataset2Vec":  # imported on first use: `import metafeatures` must not import torch
        from metafeatures.dataset2vec import Dataset2Vec

        return Dataset2Vec
    raise AttributeError(f"module 'metafeatures' has no attribute {name!r}")
