"""A dataset as Dataset2Vec sees it: features scaled to [0, 1] and the target as indicator columns.

No torch here: encoding and subsampling are numpy, so they are tested and timed without it.

Encoding (documented choices, the same at training and at inference):

- Rows: a stratified, seeded subsample of at most ``KEPT_ROWS`` rows (the metafeature extractor's
  own preparation); every later subsample is drawn from these.
- Features: numeric columns with missing values set to the column median (all-missing columns
  dropped), then one 0/1 column per frequent level of each categorical column (at most 10 levels
  a column; missing is all zeros); each column min-max scaled to [0, 1] over the kept rows (a
  constant column is all zeros).
- Target: classification gives one indicator column per class. Classes beyond ``MAX_TARGETS - 1``
  (the rarest) share one "other" column, so the cost per subsample stays bounded. Regression gives
  ``REGRESSION_BINS`` indicator columns of the target's quantile bins (bin edges from the kept rows).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from metafeatures._input import prepare

KEPT_ROWS = 2048
MAX_TARGETS = 8
REGRESSION_BINS = 5
SUBSAMPLE_ROWS = 256  # rows of one subsample (the paper's limit)
SUBSAMPLE_FEATURES = 16  # features of one subsample (the paper's limit)


@dataclasses.dataclass(frozen=True)
class EncodedTable:
    """x : (rows, features) float32 in [0, 1]; y : (rows, targets) float32 indicators."""

    x: np.ndarray
    y: np.ndarray

    def subsample(
        self, rng: np.random.Generator, rows: int = SUBSAMPLE_ROWS, features: int = SUBSAMPLE_FEATURES
    ) -> tuple[np.ndarray, np.ndarray]:
        """A random subsample: at most `rows` rows and `features` features (drawn without
        replacement), with the same rows of the target."""
        n, k = self.x.shape
        picked_rows = rng.choice(n, size=rows, replace=False) if n > rows else np.arange(n)
        picked_features = np.sort(rng.choice(k, size=features, replace=False)) if k > features else np.arange(k)
        return self.x[np.ix_(picked_rows, picked_features)], self.y[picked_rows]


def _scale_columns(matrix: np.ndarray) -> np.ndarray:
    low, high = matrix.min(axis=0), matrix.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return ((matrix - low) / span).astype(np.float32)


def _target_indicators(y: np.ndarray, classification: bool) -> np.ndarray:
    if classification:
        counts = np.bincount(y)
        order = np.argsort(-counts, kind="stable")
        column = np.empty(counts.size, dtype=np.int64)
        column[order] = np.minimum(np.arange(counts.size), MAX_TARGETS - 1)  # rarest classes share the last
        codes = column[y]
        width = min(counts.size, MAX_TARGETS)
    else:
        edges = np.quantile(y, np.linspace(0, 1, REGRESSION_BINS + 1)[1:-1])
        codes = np.searchsorted(edges, y, side="right")
        width = REGRESSION_BINS
    indicators = np.zeros((y.size, width), dtype=np.float32)
    indicators[np.arange(y.size), codes] = 1.0
    return indicators


def encode_table(
    X: Any, y: Any = None, *, task: str | None = None, max_rows: int = KEPT_ROWS, random_state: int = 0
) -> EncodedTable:
    """Encode a dataset (X and y, or a Dataset-like object with ``.X``, ``.y``, ``.task``).

    Bad input raises :class:`metafeatures.MetafeatureInputError`, as :func:`metafeatures.extract` does.
    """
    prepared = prepare(X, y, task=task, max_rows=max_rows, random_state=random_state)
    one_hot = prepared.one_hot
    blocks = [prepared.numeric_imputed, np.nan_to_num(one_hot, nan=0.0)]
    matrix = (
        np.hstack([b for b in blocks if b.shape[1]])
        if any(b.shape[1] for b in blocks)
        else np.zeros((prepared.n_rows, 1))
    )
    return EncodedTable(
        _scale_columns(matrix.astype(np.float64)), _target_indicators(prepared.y, prepared.classification)
    )
