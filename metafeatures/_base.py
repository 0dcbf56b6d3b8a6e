"""The contract of a metafeature group.

A group is a :class:`Group`: a name, the documented :class:`Metafeature` entries it yields, and
``compute(data)`` which receives the :class:`~metafeatures._input.Prepared` input of one
extraction and returns ``{feature name: value}``. A value is a float, a 1-D array of
per-item values (per column, per column pair, per leaf, per fold: the feature is marked
``per_item`` and is summarized by the extractor), or :class:`Failed` with a reason. A feature
left out of the dict, or a whole group that raises, becomes NaN with the reason recorded; an
extraction never fails because one feature could not be computed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

# Summaries of per-item values, in output order. Names follow pymfe: "skewness.mean".
SUMMARIES = ("mean", "sd", "min", "q25", "median", "q75", "max")
FOLD_SUMMARIES = ("mean", "sd")


class Failed(NamedTuple):
    """A feature that could not be computed on this input, and why."""

    reason: str


@dataclasses.dataclass(frozen=True)
class Metafeature:
    name: str
    description: str
    reference: str = ""
    per_item: bool = False
    summaries: tuple[str, ...] = SUMMARIES

    def output_names(self) -> list[str]:
        return [f"{self.name}.{s}" for s in self.summaries] if self.per_item else [self.name]


@dataclasses.dataclass(frozen=True)
class Group:
    name: str
    description: str
    features: tuple[Metafeature, ...]
    compute: Callable[..., dict[str, float | np.ndarray | Failed]]


def summarize(values: np.ndarray, summaries: tuple[str, ...]) -> dict[str, float | Failed]:
    """Summaries of the finite entries of `values`; sd uses ddof=1 (NaN reason when < 2 values)."""
    finite = np.asarray(values, dtype=float).ravel()
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        reason = Failed("no finite per-item values" if np.size(values) else "no items (e.g. no such columns)")
        return {s: reason for s in summaries}
    out: dict[str, float | Failed] = {}

    def moment(compute) -> float | Failed:
        # Values near float64's limits overflow when squared or summed: a reason, not a warning.
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(compute())
        return value if np.isfinite(value) else Failed("overflows float64 (values near its limits)")

    for s in summaries:
        if s == "mean":
            out[s] = moment(finite.mean)
        elif s == "sd":
            out[s] = moment(lambda: finite.std(ddof=1)) if finite.size > 1 else Failed("sd needs at least 2 values")
        elif s == "min":
            out[s] = float(finite.min())
        elif s == "max":
            out[s] = float(finite.max())
        elif s == "median":
            out[s] = float(np.median(finite))
        elif s == "q25":
            out[s] = float(np.quantile(finite, 0.25))
        elif s == "q75":
            out[s] = float(np.quantile(finite, 0.75))
        else:  # a programming error in a group's definition, not a data problem
            raise KeyError(f"unknown summary {s!r}")
    return out
