"""Handcrafted dataset metafeatures, fast and robust; importable without autometa.

    >>> import metafeatures
    >>> values = metafeatures.extract(X, y)            # pandas.Series
    >>> metafeatures.describe("skewness.mean")

Groups: general, statistical, info-theory, model-based, landmarking. Every output name is
listed by :func:`list_metafeatures` and documented by :func:`describe`.
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
]
