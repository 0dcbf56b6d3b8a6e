"""`load_dataset`: one entry point for every place a dataset can come from.

Sources, in the order they are tried:

- a :class:`Dataset` (returned as is, or re-typed when `task` is given);
- a pair ``(X, y)`` of numpy arrays / pandas objects;
- a ``pandas.DataFrame`` with ``target=`` naming the target column;
- ``"openml:<dataset id>"``, ``"openml-task:<task id>"`` or an ``int`` dataset id
  (through the `openml` client and its cache; see :mod:`autometa.datasets._openml`);
- a path to a ``.csv``, ``.tsv`` (optionally ``.gz``) or ``.parquet`` file. A file inside a
  PMLB-layout corpus (an ``index.csv`` beside it naming it) takes its task, OpenML id and
  integer-coded categoricals from the corpus.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from autometa.datasets._dataset import Dataset, build_dataset
from autometa.exceptions import DataError, SourceNotFoundError

_OPENML = re.compile(r"^openml:(\d+)$")
_OPENML_TASK = re.compile(r"^openml-task:(\d+)$")
_READERS = {
    ".csv": lambda p: pd.read_csv(p),
    ".csv.gz": lambda p: pd.read_csv(p),
    ".tsv": lambda p: pd.read_csv(p, sep="\t"),
    ".tsv.gz": lambda p: pd.read_csv(p, sep="\t"),
    ".tab": lambda p: pd.read_csv(p, sep="\t"),
    ".parquet": lambda p: pd.read_parquet(p),
    ".pq": lambda p: pd.read_parquet(p),
}


def load_dataset(
    source: Any,
    *,
    target: str | None = None,
    task: str | None = None,
    name: str | None = None,
    categorical: list[str] | str | None = None,
) -> Dataset:
    """Read a dataset from any supported source; see the module docstring for the sources.

    Parameters
    ----------
    source : Dataset, (X, y), DataFrame, str, os.PathLike or int
    target : str, optional
        Target column name; required for DataFrames and files (OpenML sources default to the
        dataset's default target).
    task : {"binary", "multiclass", "regression", "classification"}, optional
        Overrides the inferred task kind.
    name : str, optional
    categorical : list of str or "integer-coded", optional
        Extra columns to treat as categorical (see :func:`build_dataset`).
    """
    if isinstance(source, Dataset):
        if task is None or task == source.task:
            return source
        return build_dataset(
            source.X,
            source.y,
            task=task,
            name=source.name,
            source=source.source,
            openml_id=source.openml_id,
            provenance=source.provenance,
        )
    if isinstance(source, tuple):
        if len(source) != 2:
            raise DataError(f"Expected a pair (X, y), got a tuple of {len(source)} items.")
        X, y = source
        return build_dataset(X, y, task=task, name=name or "arrays", source="arrays", categorical=categorical)
    if isinstance(source, pd.DataFrame):
        return _from_frame(
            source, target, task=task, name=name or "dataframe", source="dataframe", categorical=categorical
        )
    if isinstance(source, bool):
        raise DataError(f"Expected a dataset source, got the boolean {source!r}.")
    if isinstance(source, int):
        from autometa.datasets._openml import load_openml_dataset

        return load_openml_dataset(source, target=target, task=task)
    if isinstance(source, str):
        match = _OPENML.match(source.strip())
        if match:
            from autometa.datasets._openml import load_openml_dataset

            return load_openml_dataset(int(match.group(1)), target=target, task=task)
        match = _OPENML_TASK.match(source.strip())
        if match:
            from autometa.datasets._openml import load_openml_task

            return load_openml_task(int(match.group(1)), task=task)
    if isinstance(source, (str, os.PathLike)):
        return load_file(Path(source), target=target, task=task, name=name, categorical=categorical)
    raise DataError(
        f"Cannot read a dataset from {type(source).__name__}. Expected a Dataset, a pair (X, y), a "
        "DataFrame with target=, a .csv/.tsv/.parquet path, an OpenML id (int or 'openml:ID'), "
        "or 'openml-task:ID'."
    )


def _from_frame(frame: pd.DataFrame, target: str | None, **kwargs: Any) -> Dataset:
    if target is None:
        raise DataError(
            "No target column given: name the column to predict with target= (command line: --target COLUMN). "
            f"Columns are: {list(map(str, frame.columns[:20]))}."
        )
    columns = [str(c) for c in frame.columns]
    if target not in columns:
        raise DataError(
            f"Target column {target!r} is not in the data. Available columns: {columns[:20]}"
            + (" ..." if len(columns) > 20 else "")
            + ". Pass the right name with target= (or --target)."
        )
    frame = frame.set_axis(columns, axis=1)
    return build_dataset(frame.drop(columns=[target]), frame[target], **kwargs)


def file_suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(_READERS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return "".join(path.suffixes[-2:]) or "(none)"


def read_table(path: Path) -> pd.DataFrame:
    """The raw table of a supported file, untyped."""
    suffix = file_suffix(path)
    if suffix not in _READERS:
        raise DataError(
            f"Unknown file type {suffix!r} for {str(path)!r}. Expected one of "
            f"{sorted(_READERS)}; convert the file or load it with pandas and pass the DataFrame."
        )
    if not path.is_file():
        raise SourceNotFoundError(f"No such file: {str(path)!r}. Check the path.")
    try:
        return _READERS[suffix](path)
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise DataError(f"Could not read {str(path)!r} as {suffix}: {error}") from error


def load_file(
    path: Path,
    *,
    target: str | None,
    task: str | None = None,
    name: str | None = None,
    categorical: list[str] | str | None = None,
) -> Dataset:
    frame = read_table(path)
    corpus_entry = _corpus_entry_for(path)
    if corpus_entry is not None:
        from autometa.datasets._corpus import dataset_from_corpus_frame

        return dataset_from_corpus_frame(corpus_entry, frame, task=task, target=target)
    stem = path.name[: -len(file_suffix(path))] if file_suffix(path) in _READERS else path.stem
    return _from_frame(
        frame,
        target,
        task=task,
        name=name or stem,
        source="file",
        categorical=categorical,
        provenance={"path": str(path)},
    )


def _corpus_entry_for(path: Path):
    index = path.parent / "index.csv"
    if not index.is_file():
        return None
    from autometa.datasets._corpus import read_corpus_index

    try:
        entries = read_corpus_index(path.parent)
    except DataError:
        return None  # an unrelated index.csv: read the file on its own
    return next((e for e in entries if e.file == path.name), None)
