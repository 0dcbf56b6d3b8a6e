"""The extractor: prepare the input once, run each group, summarize, record failures and times."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from metafeatures._base import Failed, Group, Metafeature, summarize
from metafeatures._general import GENERAL
from metafeatures._infotheory import INFO_THEORY
from metafeatures._input import prepare
from metafeatures._landmarking import LANDMARKING
from metafeatures._model import MODEL_BASED
from metafeatures._statistical import STATISTICAL
from metafeatures.exceptions import MetafeatureInputError

GROUPS: dict[str, Group] = {g.name: g for g in (GENERAL, STATISTICAL, INFO_THEORY, MODEL_BASED, LANDMARKING)}
DEFAULT_GROUPS = tuple(GROUPS)
# Every group except `general` works on a stratified subsample of at most this many rows.
DEFAULT_MAX_ROWS = 5000


@dataclasses.dataclass(frozen=True)
class Extraction:
    """Everything one extraction produced.

    values : Series of every output name (scalars and summaries), NaN where not computable.
    per_item : the per-column (per-pair, per-leaf, per-fold) values behind each summary.
    failures : output name -> why it is NaN.
    seconds : group name -> wall time spent in it (including its share of preparation).
    """

    values: pd.Series
    per_item: dict[str, np.ndarray]
    failures: dict[str, str]
    seconds: dict[str, float]


def _resolve_groups(groups: str | Iterable[str] | None) -> list[Group]:
    if groups is None or groups == "all":
        names = list(DEFAULT_GROUPS)
    elif isinstance(groups, str):
        names = [groups]
    else:
        names = list(groups)
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        raise MetafeatureInputError(f"Unknown metafeature groups {unknown}; expected some of {list(GROUPS)}.")
    return [GROUPS[n] for n in names]


def _features(groups: Iterable[Group]) -> list[tuple[Group, Metafeature]]:
    return [(g, f) for g in groups for f in g.features]


def list_metafeatures(groups: str | Iterable[str] | None = None) -> list[str]:
    """Output names, in output order, of the given groups (default: all)."""
    return [name for _, f in _features(_resolve_groups(groups)) for name in f.output_names()]


def describe(name: str) -> dict[str, str]:
    """Group, definition and reference of an output name such as ``"skewness.mean"``."""
    base, _, summary = name.partition(".")
    for group, feature in _features(GROUPS.values()):
        if feature.name == base and name in feature.output_names():
            definition = feature.description
            if summary:
                definition += f" Summarized over items by: {summary}."
            return {"name": name, "group": group.name, "definition": definition, "reference": feature.reference}
    raise MetafeatureInputError(f"Unknown metafeature {name!r}. See metafeatures.list_metafeatures() for the names.")


def extract_all(
    X: Any,
    y: Any = None,
    *,
    groups: str | Iterable[str] | None = None,
    task: str | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    random_state: int = 0,
) -> Extraction:
    """Like :func:`extract`, keeping the per-item values, failure reasons and timings."""
    chosen = _resolve_groups(groups)
    if max_rows is not None and max_rows < 10:
        raise MetafeatureInputError(f"max_rows must be at least 10 or None, got {max_rows}.")
    start = time.perf_counter()
    data = prepare(X, y, task=task, max_rows=max_rows, random_state=random_state)
    preparation = time.perf_counter() - start

    values: dict[str, float] = {}
    per_item: dict[str, np.ndarray] = {}
    failures: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for group in chosen:
        start = time.perf_counter()
        try:
            raw = group.compute(data)
            group_error = None
        except Exception as error:  # one group's failure must not cost the others
            raw, group_error = {}, f"{group.name} failed: {type(error).__name__}: {error}"
        for feature in group.features:
            value = raw.get(feature.name, Failed(group_error or "not applicable to this input"))
            if feature.per_item and not isinstance(value, Failed):
                items = np.atleast_1d(np.asarray(value, dtype=float))
                per_item[feature.name] = items
                results = {f"{feature.name}.{k}": v for k, v in summarize(items, feature.summaries).items()}
            elif isinstance(value, Failed):
                results = {name: value for name in feature.output_names()}
            else:
                results = {feature.name: value}
            for name, result in results.items():
                if isinstance(result, Failed):
                    values[name], failures[name] = np.nan, result.reason
                else:
                    number = float(result)
                    values[name] = number if np.isfinite(number) else np.nan
                    if not np.isfinite(number):
                        failures[name] = "not finite on this input"
        seconds[group.name] = time.perf_counter() - start
    seconds["prepare"] = preparation
    series = pd.Series(values, dtype=float, name="metafeatures")
    series.attrs["failures"] = dict(failures)
    series.attrs["seconds"] = dict(seconds)
    return Extraction(series, per_item, failures, seconds)


def extract(
    X: Any,
    y: Any = None,
    *,
    groups: str | Iterable[str] | None = None,
    task: str | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    random_state: int = 0,
) -> pd.Series:
    """Handcrafted metafeatures of a supervised dataset.

    Parameters
    ----------
    X : DataFrame or 2D array, or a Dataset-like object with ``X``, ``y`` and ``task``
        Non-numeric, boolean and ``category`` columns are categorical; NaN and inf are missing.
    y : array-like, optional when `X` is a Dataset
    groups : str or list of str, optional
        Some of ``"general"``, ``"statistical"``, ``"info-theory"``, ``"model-based"``,
        ``"landmarking"``; default all.
    task : {"binary", "multiclass", "classification", "regression"}, optional
        Inferred when omitted: non-numeric targets and integer targets with at most 20 distinct
        values are classes.
    max_rows : int or None
        Every group but `general` uses a stratified subsample of at most this many rows
        (default 5,000; landmarking uses at most 2,000 of those). None uses every row.
    random_state : int
        Seed of the subsample, the folds and the trees: same input and seed, same values.

    Returns
    -------
    pandas.Series
        Indexed by :func:`list_metafeatures` names of the chosen groups, in that order. Features
        that cannot be computed are NaN; ``series.attrs["failures"]`` says why and
        ``series.attrs["seconds"]`` how long each group took.
    """
    return extract_all(X, y, groups=groups, task=task, max_rows=max_rows, random_state=random_state).values
