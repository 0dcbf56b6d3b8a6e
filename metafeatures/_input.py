"""Turn user input into the arrays every group works on, once per extraction."""

from __future__ import annotations

import dataclasses
import warnings
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from metafeatures.exceptions import MetafeatureInputError

# Classification when the target is non-numeric, or integer-valued with at most this many values.
MAX_INTEGER_CLASSES = 20
# One-hot encoding for the distance/linear landmarkers keeps at most this many levels a column.
MAX_ONE_HOT_LEVELS = 10
# Multivariate features (correlations, PCA, distance and linear landmarkers) of wider data use a
# seeded random subset of this many columns; per-column features use every column.
MAX_COLUMNS = 200
# Groups that fit learners (model-based, landmarking) use at most this many rows of the subsample.
LEARNER_MAX_ROWS = 2000


def stratified_subsample_index(y: np.ndarray, max_rows: int, stratify: bool, random_state: int) -> np.ndarray:
    """Sorted positions of a random subsample of `max_rows` rows (same seed, same rows).

    With `stratify`, every class keeps its share and at least one row, so rare classes survive.
    """
    rng = np.random.default_rng(random_state)
    n = len(y)
    if max_rows >= n:
        return np.arange(n)
    if not stratify:
        return np.sort(rng.choice(n, size=max_rows, replace=False))
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    counts = np.bincount(codes, minlength=classes.size)
    quota = np.maximum(1, np.floor(counts * max_rows / n)).astype(int)
    for i in np.argsort(-counts, kind="stable"):  # rows lost to rounding go to the largest classes
        if quota.sum() >= max_rows:
            break
        quota[i] = min(counts[i], quota[i] + (max_rows - quota.sum()))
    picked = [rng.choice(np.flatnonzero(codes == c), size=q, replace=False) for c, q in enumerate(quota)]
    return np.sort(np.concatenate(picked))


FULL_PASS_COLUMNS = 32  # numeric columns converted at a time in the full-data pass


@dataclasses.dataclass(frozen=True, eq=False)
class Prepared:
    """The input of every metafeature group.

    `n_rows_full` and the column kinds describe the full data; the arrays hold the subsample.
    """

    numeric: np.ndarray  # (rows, n_numeric) float64, NaN where missing
    categorical: np.ndarray  # (rows, n_categorical) int codes, -1 where missing
    n_levels: np.ndarray  # levels of each categorical column (full data)
    y: np.ndarray  # class codes 0..k-1 (classification) or float values (regression)
    classification: bool
    n_rows_full: int
    missing_share_full: float  # missing cells / all cells (full data)
    rows_with_missing_full: float  # share of rows with a missing cell (full data)
    cols_with_missing_full: float  # share of columns with a missing cell (full data)
    binary_numeric_full: int  # numeric columns with exactly two distinct values (full data)
    class_counts_full: np.ndarray | None
    random_state: int

    @property
    def n_rows(self) -> int:
        return int(self.y.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.class_counts_full.size) if self.classification else 0

    @cached_property
    def numeric_imputed(self) -> np.ndarray:
        """Numeric columns with missing values set to the column median; all-missing columns dropped."""
        # All-missing columns (inf counts as missing) are dropped: their median is undefined.
        keep = ~np.all(np.isnan(self.numeric), axis=0)
        values = self.numeric[:, keep]
        if values.size == 0:
            return values
        medians = np.nanmedian(values, axis=0)
        return np.where(np.isnan(values), medians, values)

    @cached_property
    def learner_rows(self) -> np.ndarray:
        """Positions (stratified, seeded) of the at most LEARNER_MAX_ROWS rows that learners see."""
        return stratified_subsample_index(
            self.y, min(LEARNER_MAX_ROWS, self.n_rows), self.classification, self.random_state
        )

    def learner_target(self) -> np.ndarray:
        y = self.y[self.learner_rows]
        return np.unique(y, return_inverse=True)[1] if self.classification else y

    def capped_columns(self, matrix: np.ndarray) -> np.ndarray:
        """`matrix` itself, or a seeded random subset of MAX_COLUMNS of its columns (in order)."""
        if matrix.shape[1] <= MAX_COLUMNS:
            return matrix
        keep = np.random.default_rng(self.random_state).choice(matrix.shape[1], MAX_COLUMNS, replace=False)
        return matrix[:, np.sort(keep)]

    @cached_property
    def one_hot(self) -> np.ndarray:
        """Dummies of the (at most MAX_ONE_HOT_LEVELS most frequent) levels of each categorical column; NaN where missing."""
        blocks = []
        for j in range(self.categorical.shape[1]):
            codes = self.categorical[:, j]
            levels, counts = np.unique(codes[codes >= 0], return_counts=True)
            kept = levels[np.argsort(-counts, kind="stable")[:MAX_ONE_HOT_LEVELS]]
            dummies = (codes[:, None] == kept[None, :]).astype(float)
            dummies[codes < 0] = np.nan
            blocks.append(dummies)
        return np.hstack(blocks) if blocks else np.empty((self.n_rows, 0))

    @cached_property
    def numeric_view(self) -> np.ndarray:
        """Numeric columns and categorical dummies (pymfe's default view for statistical features)."""
        return np.hstack([self.numeric, self.one_hot])

    @cached_property
    def ordinal_design(self) -> np.ndarray:
        """Numeric (imputed) and categorical codes side by side: what trees see."""
        return np.hstack([self.numeric_imputed, self.categorical.astype(float)])

    @cached_property
    def scaled_design(self) -> np.ndarray:
        """Standardized numeric columns plus one-hot categoricals: what distance and linear models see."""
        numeric = self.numeric_imputed
        spread = numeric.std(axis=0)
        numeric = (numeric[:, spread > 0] - numeric.mean(axis=0)[spread > 0]) / spread[spread > 0]
        dummies = np.nan_to_num(self.one_hot, nan=0.0)
        blocks = [numeric, dummies]
        design = np.hstack(blocks) if blocks else np.empty((self.n_rows, 0))
        return design[:, design.std(axis=0) > 0]


def _infer_classification(y: pd.Series, task: str | None) -> bool:
    if task is not None:
        if task in ("binary", "multiclass", "classification"):
            return True
        if task == "regression":
            return False
        raise MetafeatureInputError(
            f"Unknown task {task!r}. Expected 'binary', 'multiclass', 'classification', 'regression' "
            "or None to infer it from the target."
        )
    if (
        isinstance(y.dtype, pd.CategoricalDtype)
        or not pd.api.types.is_numeric_dtype(y)
        or pd.api.types.is_bool_dtype(y)
    ):
        return True
    values = y.to_numpy(dtype=float)
    return bool(np.all(values == np.round(values)) and np.unique(values).size <= MAX_INTEGER_CLASSES)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (so that messages show 1, not np.int64(1))."""
    return value.item() if isinstance(value, np.generic) else value


def _unpack(X: Any, y: Any, task: str | None) -> tuple[pd.DataFrame, pd.Series, str | None]:
    """Accept a Dataset-like object (attributes X, y, task) or raw X and y."""
    if y is None and hasattr(X, "X") and hasattr(X, "y"):
        return X.X, X.y, task or getattr(X, "task", None)
    if y is None:
        raise MetafeatureInputError(
            "extract() needs a target: call extract(X, y) or pass a Dataset (autometa.load_dataset(...))."
        )
    if isinstance(X, pd.DataFrame):
        frame = X
        duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
        if duplicated:
            raise MetafeatureInputError(
                f"Column names of X must be unique; these appear more than once: {duplicated[:10]}. "
                "Rename or drop the repeated columns."
            )
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            raise MetafeatureInputError(
                f"Expected 2D array for X, got {array.ndim}D array of shape {array.shape} instead. "
                "Reshape your data using array.reshape(-1, 1) if it has a single feature."
            )
        frame = pd.DataFrame(array)
        if array.dtype == object:
            frame = frame.infer_objects()
    target = y.iloc[:, 0] if isinstance(y, pd.DataFrame) and y.shape[1] == 1 else y
    target = (
        target
        if isinstance(target, pd.Series)
        else pd.Series(
            np.asarray(target).ravel() if np.ndim(target) == 2 and 1 in np.shape(target) else np.asarray(target)
        )
    )
    if target.ndim != 1:
        raise MetafeatureInputError(f"Expected a 1D target y, got shape {np.shape(y)}.")
    return frame, target, task


def _is_categorical(values: pd.Series) -> bool:
    return (
        isinstance(values.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(values)
        or not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values))
    )


def _numeric_column(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(values):
        seconds = values.astype("int64").to_numpy(dtype=float) / 1e9
        return np.where(values.isna().to_numpy(), np.nan, seconds)
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(numbers), numbers, np.nan)


def _numeric_block(frame: pd.DataFrame, columns: list) -> np.ndarray:
    """float64 matrix of the numeric columns, NaN where missing or infinite (one conversion when possible)."""
    if not columns:
        return np.empty((len(frame), 0))
    if any(pd.api.types.is_datetime64_any_dtype(frame[c]) for c in columns):
        return np.column_stack([_numeric_column(frame[c]) for c in columns])
    block = frame[columns].to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(block), block, np.nan)


def _two_valued_columns(numeric: np.ndarray) -> int:
    """Columns whose non-missing values take exactly two distinct values (vectorized: min and max)."""
    if numeric.shape[1] == 0 or numeric.shape[0] == 0:
        return 0
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns: nanmin is NaN, as intended
        low, high = np.nanmin(numeric, axis=0), np.nanmax(numeric, axis=0)
    at_ends = (numeric == low) | (numeric == high) | np.isnan(numeric)
    return int(np.sum(at_ends.all(axis=0) & (high > low)))


def _category_codes(values: pd.Series) -> tuple[np.ndarray, int]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        return codes.astype(np.int64), int(values.cat.categories.size)
    keys = values.map(lambda v: v if pd.isna(v) else str(v))
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    return codes.astype(np.int64), int(len(uniques))


def prepare(X: Any, y: Any = None, *, task: str | None = None, max_rows: int | None, random_state: int) -> Prepared:
    frame, target, task = _unpack(X, y, task)
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise MetafeatureInputError(
            f"Expected a non-empty table, got X of shape {frame.shape}. Pass at least one row and one feature."
        )
    if len(target) != len(frame):
        raise MetafeatureInputError(f"X and y must have the same number of rows; got {len(frame)} and {len(target)}.")
    known = target.notna().to_numpy()
    if not known.any():
        raise MetafeatureInputError("The target has no values (all missing). Pass the column to predict as y.")
    frame = frame.loc[known] if not known.all() else frame
    target = target.loc[known] if not known.all() else target
    classification = _infer_classification(target, task)

    if classification:
        class_labels, y_full = np.unique(
            target.astype(str).to_numpy() if not pd.api.types.is_numeric_dtype(target) else target.to_numpy(),
            return_inverse=True,
        )
        if class_labels.size < 2:
            raise MetafeatureInputError(
                f"The target has a single class ({_plain(class_labels[0])!r}); classification metafeatures need at "
                "least 2. Check the target column."
            )
        class_counts = np.bincount(y_full, minlength=class_labels.size)
    else:
        y_full = pd.to_numeric(target, errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(y_full)):
            raise MetafeatureInputError(
                "A regression target must be finite numbers; found non-numeric, NaN or inf values. "
                "Clean the target or pass task='classification'."
            )
        class_counts = None

    columns = list(frame.columns)
    is_cat = [_is_categorical(frame[c]) for c in columns]
    numeric_columns = [c for c, cat in zip(columns, is_cat) if not cat]
    coded = [_category_codes(frame[c]) for c, cat in zip(columns, is_cat) if cat]
    categorical_full = np.column_stack([c for c, _ in coded]) if coded else np.empty((len(frame), 0), dtype=np.int64)
    n_levels = np.array([n for _, n in coded], dtype=np.int64)

    # Full-data statistics a few numeric columns at a time: memory stays bounded on huge tables.
    n = len(frame)
    row_missing = (categorical_full < 0).any(axis=1) if categorical_full.shape[1] else np.zeros(n, dtype=bool)
    missing_cells = int((categorical_full < 0).sum())
    cols_missing = int((categorical_full < 0).any(axis=0).sum()) if categorical_full.shape[1] else 0
    two_valued = 0
    for start in range(0, len(numeric_columns), FULL_PASS_COLUMNS):
        block = _numeric_block(frame, numeric_columns[start : start + FULL_PASS_COLUMNS])
        missing = np.isnan(block)
        missing_cells += int(missing.sum())
        cols_missing += int(missing.any(axis=0).sum())
        row_missing |= missing.any(axis=1)
        two_valued += _two_valued_columns(block)
        del block, missing

    rows = np.arange(n)
    if max_rows is not None and n > max_rows:
        rows = stratified_subsample_index(y_full, max_rows, classification, random_state)
    y_sub = y_full[rows]
    if classification:  # re-code so the subsample's classes are 0..k-1 (rare classes were kept)
        y_sub = np.unique(y_sub, return_inverse=True)[1]
    subsample = frame.iloc[rows] if rows.size < n else frame
    n_cells = n * len(columns)
    return Prepared(
        numeric=_numeric_block(subsample, numeric_columns),
        categorical=categorical_full[rows],
        n_levels=n_levels,
        y=y_sub,
        classification=classification,
        n_rows_full=n,
        missing_share_full=missing_cells / n_cells if n_cells else 0.0,
        rows_with_missing_full=float(row_missing.mean()) if n_cells else 0.0,
        cols_with_missing_full=cols_missing / len(columns) if columns else 0.0,
        binary_numeric_full=two_valued,
        class_counts_full=class_counts,
        random_state=random_state,
    )
