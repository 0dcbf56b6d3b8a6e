"""The `Dataset` value and the one place where raw tables are typed and validated."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import DataError
from metafeatures import stratified_subsample_index

TASKS = ("binary", "multiclass", "regression")

# A numeric target with at most this many distinct integer values is read as class labels.
MAX_INTEGER_CLASSES = 20
# Integer-coded columns (the PMLB corpus label-encodes its categoricals) with at most this many
# distinct values are read as categorical when integer detection is on.
MAX_INTEGER_CATEGORIES = 10


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A typed, validated supervised dataset.

    Attributes
    ----------
    X : pandas.DataFrame
        Features. Numeric columns are float64, or float32 when given as float32 (``inf``
        replaced by NaN; a float array is kept without a copy); categorical columns
        have the pandas ``category`` dtype. Column names are unique strings.
    y : pandas.Series
        Target: float64 for regression, ``category`` for classification. Never missing.
    task : {"binary", "multiclass", "regression"}
    name : str
    source : str
        Where it came from: ``"arrays"``, ``"dataframe"``, ``"file"``, ``"corpus"`` or ``"openml"``.
    openml_id : int or None
        The OpenML dataset id when known.
    provenance : dict
        Free-form facts about the origin (path, OpenML task id, rows dropped...). JSON-serialisable.
    fingerprint : str or None
        Content hash (set by the corpus loader; see :func:`autometa.datasets.fingerprint`).
    group : str or None
        Near-duplicate group: datasets that share a group hold the same underlying data and must
        stay on one side of any train/test split.
    """

    X: pd.DataFrame
    y: pd.Series
    task: str
    name: str
    source: str = "arrays"
    openml_id: int | None = None
    provenance: dict = dataclasses.field(default_factory=dict)
    fingerprint: str | None = None
    group: str | None = None

    @property
    def categorical(self) -> list[str]:
        return [c for c in self.X.columns if isinstance(self.X[c].dtype, pd.CategoricalDtype)]

    @property
    def numeric(self) -> list[str]:
        return [c for c in self.X.columns if not isinstance(self.X[c].dtype, pd.CategoricalDtype)]

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int | None:
        return None if self.task == "regression" else int(self.y.cat.categories.size)

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    def replace(self, **changes: Any) -> Dataset:
        return dataclasses.replace(self, **changes)

    def subsample(self, max_rows: int | None, random_state: int = 0) -> Dataset:
        """At most `max_rows` rows, stratified by class for classification; same seed, same rows."""
        if max_rows is None or self.n_rows <= max_rows:
            return self
        labels = self.y.cat.codes.to_numpy() if self.is_classification else self.y.to_numpy()
        index = stratified_subsample_index(labels, max_rows, self.is_classification, random_state)
        return self.replace(
            X=self.X.iloc[index].reset_index(drop=True),
            y=self.y.iloc[index].reset_index(drop=True),
            provenance={**self.provenance, "subsampled_from_rows": self.n_rows},
        )

    def __repr__(self) -> str:
        shape = f"{self.n_rows} x {self.n_features}"
        kind = self.task if self.task == "regression" else f"{self.task}, {self.n_classes} classes"
        return f"Dataset({self.name!r}, {shape}, {kind}, {len(self.categorical)} categorical)"


def build_dataset(
    X: Any,
    y: Any,
    *,
    task: str | None = None,
    name: str = "dataset",
    source: str = "arrays",
    categorical: Sequence[str] | str | None = None,
    openml_id: int | None = None,
    provenance: dict | None = None,
) -> Dataset:
    """Validate raw features and target and type their columns.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features) or pandas.DataFrame
    y : array-like of shape (n_rows,)
    task : {"binary", "multiclass", "regression", "classification"}, optional
        Inferred from the target when omitted: strings, booleans, and integers with at most
        ``MAX_INTEGER_CLASSES`` distinct values are class labels, anything else is regression.
    categorical : list of column names, or "integer-coded", optional
        Columns to treat as categorical in addition to the non-numeric ones. ``"integer-coded"``
        also marks integer-valued columns with at most ``MAX_INTEGER_CATEGORIES`` distinct values
        (the PMLB convention).
    """
    provenance = dict(provenance or {})
    frame = _as_frame(X)
    target = _as_target(y)
    if len(frame) != len(target):
        raise DataError(
            f"X and y must have the same number of rows; got X with {len(frame)} rows and y with "
            f"{len(target)}. Pass the target that belongs to these rows."
        )
    if frame.shape[1] == 0:
        raise DataError(
            f"Expected at least one feature column, got X with shape {frame.shape}. "
            "Pass the features, not only the target."
        )
    missing = target.isna().to_numpy()
    if missing.all():
        raise DataError(
            f"The target of {name!r} has no values: all {len(target)} are missing. "
            "Pass the column that holds the labels or values to predict."
        )
    if missing.any():
        frame, target = frame.loc[~missing], target.loc[~missing]
        provenance["dropped_rows_missing_target"] = int(missing.sum())
    frame = frame.reset_index(drop=True)
    target = target.reset_index(drop=True)
    if len(frame) < 2:
        raise DataError(
            f"Expected at least 2 rows with a target value, got {len(frame)} in {name!r}. "
            "Metafeatures and cross-validation need more data."
        )

    task = _resolve_task(target, task, name)
    if task == "regression":
        target = _regression_target(target, name)
    else:
        target = _class_target(target, name)
        if task == "binary" and target.cat.categories.size != 2:
            raise DataError(
                f"task='binary' needs exactly 2 classes, got {target.cat.categories.size} in {name!r}. "
                "Use task='multiclass' or omit task to infer it."
            )
        if task == "multiclass" and target.cat.categories.size == 2:
            task = "binary"

    frame = type_columns(frame, categorical)
    return Dataset(frame, target, task, name, source, openml_id, provenance)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (so that messages show 1, not np.int64(1))."""
    return value.item() if isinstance(value, np.generic) else value


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        frame = X.copy(deep=False)  # copy-on-write: the caller's frame is never modified
        frame.columns = [str(c) for c in frame.columns]
    else:
        try:
            array = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
        except Exception as error:  # ragged lists and other non-tables
            raise DataError(f"Expected X to be a 2D table, could not read it as one: {error}") from error
        if array.ndim == 1:
            raise DataError(
                f"Expected 2D array for X, got 1D array of shape {array.shape} instead. Reshape "
                "your data using array.reshape(-1, 1) if it has a single feature."
            )
        if array.ndim != 2:
            raise DataError(f"Expected 2D array for X, got an array with {array.ndim} dimensions.")
        # No copy of a numeric array (copy-on-write protects the caller's array).
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])], copy=False)
        if array.dtype == object:
            frame = frame.infer_objects()
    if frame.shape[0] == 0:
        raise DataError(f"Expected at least 2 rows, got an empty X of shape {frame.shape}.")
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        raise DataError(
            f"Column names must be unique; these appear more than once: {duplicated[:10]}. "
            "Rename or drop the repeated columns."
        )
    return frame


def _as_target(y: Any) -> pd.Series:
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise DataError(f"Expected a single target column, got a DataFrame with {y.shape[1]} columns.")
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        return y.reset_index(drop=True)
    array = np.asarray(y)
    if array.ndim == 2 and 1 in array.shape:
        array = array.ravel()
    if array.ndim != 1:
        raise DataError(
            f"Expected a 1D target y, got an array of shape {array.shape}. Multi-output targets "
            "are not supported; pass one column."
        )
    return pd.Series(array, name="target")


def _integer_valued(values: pd.Series) -> bool:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return bool(np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers)))


def _resolve_task(target: pd.Series, task: str | None, name: str) -> str:
    if task is not None:
        if task == "classification":
            return "binary" if target.nunique() == 2 else "multiclass"
        if task not in TASKS:
            raise DataError(
                f"Unknown task {task!r}. Expected one of {list(TASKS) + ['classification']}, "
                "or None to infer it from the target."
            )
        return task
    n_unique = target.nunique()
    numeric = pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target)
    if not numeric:
        labels = True
    else:
        labels = _integer_valued(target) and n_unique <= MAX_INTEGER_CLASSES
    if not labels:
        return "regression"
    if n_unique < 2:
        raise DataError(
            f"The target of {name!r} has a single class ({_plain(target.iloc[0])!r}); classification needs "
            "at least 2. Check that the right column is the target, or pass more data."
        )
    return "binary" if n_unique == 2 else "multiclass"


def _regression_target(target: pd.Series, name: str) -> pd.Series:
    values = pd.to_numeric(target, errors="coerce")
    if values.isna().any():
        bad = target[values.isna()].iloc[0]
        raise DataError(
            f"task='regression' needs a numeric target; {name!r} has non-numeric value {bad!r}. "
            "Use a classification task or clean the target."
        )
    values = values.astype("float64")
    if not np.isfinite(values.to_numpy()).all():
        raise DataError(f"The regression target of {name!r} contains inf; remove those rows or clip the target.")
    if values.nunique() < 2:
        raise DataError(
            f"The regression target of {name!r} is constant ({values.iloc[0]}); there is nothing to learn. "
            "Check that the right column is the target."
        )
    return values.rename("target")


def _class_target(target: pd.Series, name: str) -> pd.Series:
    if target.nunique() < 2:
        raise DataError(
            f"The target of {name!r} has a single class ({_plain(target.iloc[0])!r}); classification needs "
            "at least 2. Check that the right column is the target, or pass more data."
        )
    if isinstance(target.dtype, pd.CategoricalDtype):
        labels = target.cat.remove_unused_categories()
    elif pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target):
        numbers = target.astype("float64")
        if _integer_valued(numbers):
            numbers = numbers.astype("int64")
        labels = numbers.astype("category")
    else:
        labels = target.astype(str).astype("category")
    return labels.rename("target")


def type_columns(frame: pd.DataFrame, categorical: Sequence[str] | str | None = None) -> pd.DataFrame:
    """Numeric columns to float64 (inf -> NaN), everything else (and `categorical`) to category.

    A table whose columns are all float32/float64 without inf is returned as it is (no copy).

    Booleans and strings become categorical; datetimes become float seconds since the epoch;
    object columns that mix numbers and strings become categorical on their string form.
    """
    integer_coded = categorical == "integer-coded"
    explicit = set() if categorical is None or integer_coded else set(categorical)
    unknown = explicit - set(frame.columns)
    if unknown:
        raise DataError(
            f"categorical names columns that are not in X: {sorted(unknown)[:10]}. "
            f"Available columns start with {list(frame.columns[:10])}."
        )
    if not explicit and not integer_coded and _all_float_without_inf(frame):
        return frame  # the common large case: one float block, kept as it is (float32 stays float32)
    typed = {}
    for column in frame.columns:
        values = frame[column]
        if column in explicit or isinstance(values.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(values):
            typed[column] = _to_category(values)
        elif pd.api.types.is_datetime64_any_dtype(values):
            seconds = values.astype("int64").astype("float64") / 1e9
            typed[column] = seconds.where(values.notna())
        elif pd.api.types.is_numeric_dtype(values):
            array = values.to_numpy(dtype="float64", na_value=np.nan)
            numbers = pd.Series(np.where(np.isinf(array), np.nan, array), index=frame.index, name=column)
            if integer_coded and _is_integer_coded(numbers):
                typed[column] = _to_category(numbers)
            else:
                typed[column] = numbers
        else:
            typed[column] = _to_category(values)
    return pd.concat(typed, axis=1) if typed else pd.DataFrame(index=frame.index)


def _all_float_without_inf(frame: pd.DataFrame, chunk: int = 64) -> bool:
    """Every column float32/float64 and no inf anywhere (checked a few columns at a time)."""
    if frame.shape[1] == 0 or not all(pd.api.types.is_float_dtype(t) for t in frame.dtypes):
        return False
    for start in range(0, frame.shape[1], chunk):
        if np.isinf(frame.iloc[:, start : start + chunk].to_numpy()).any():
            return False
    return True


def _is_integer_coded(numbers: pd.Series) -> bool:
    present = numbers.dropna()
    return (
        len(present) > 0 and present.nunique() <= MAX_INTEGER_CATEGORIES and bool((present == np.round(present)).all())
    )


def _to_category(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.remove_unused_categories()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
        if _integer_valued(numbers.dropna()):
            return numbers.astype("Int64").astype("category")
        return numbers.astype("category")
    if pd.api.types.is_bool_dtype(values):
        return values.astype("category")
    # Mixed objects: compare on the string form so 1 and "1" are one level; keep NaN missing.
    return values.map(lambda v: v if pd.isna(v) else str(v)).astype("category")
