"""Metrics of the benchmark, as defined in DESIGN.md (HPO-B).

- Normalized regret of a score on a dataset: ``(s_max - s) / (s_max - s_min)`` over the
  dataset's evaluated pool (higher-is-better scores); curves use the best-so-far score.
- Average rank: per (dataset, fold seed, seed, budget) the methods are ranked by best-so-far
  regret (lower is better, ties share the mean rank), then averaged.

A run is one (dataset, fold seed, seed): the fold seed says which groups were held out together,
the seed drives the samplers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def best_so_far_regret(scores: np.ndarray, pool_best: float, pool_worst: float) -> np.ndarray:
    """Regret of the best score after 1..len(scores) trials; a NaN (failed) trial counts as the worst."""
    values = np.where(np.isnan(scores), pool_worst, np.asarray(scores, dtype=float))
    best = np.maximum.accumulate(values)
    spread = pool_best - pool_worst
    if spread <= 0:
        return np.zeros_like(best)
    return np.clip((pool_best - best) / spread, 0.0, None)


def renormalize(curves: pd.DataFrame, old: dict, new: dict) -> pd.DataFrame:
    """Discrete-mode `curves` measured against per-dataset ``(best, worst)`` bounds `old`, with their
    regret recomputed against the bounds `new` (e.g. once more peer evaluations join the regret's
    reference): each best-so-far score is recovered from its regret, then normalized anew."""
    frame = curves.copy()
    rows = frame["dataset"]
    if not set(rows).issubset(old) or not set(rows).issubset(new):
        raise ValueError("renormalize needs the old and the new bounds of every dataset of the curves")
    best_old, worst_old = (rows.map({d: float(b[i]) for d, b in old.items()}) for i in (0, 1))
    best_new, worst_new = (rows.map({d: float(b[i]) for d, b in new.items()}) for i in (0, 1))
    score = best_old - frame["regret"] * (best_old - worst_old)
    spread = best_new - worst_new
    regret = ((best_new - score) / spread.where(spread > 0)).clip(lower=0.0)
    frame["regret"] = regret.where(spread > 0, 0.0)
    return frame


RUN = ["dataset", "fold_seed", "seed"]


def with_fold_seed(curves: pd.DataFrame) -> pd.DataFrame:
    """`curves` with a ``fold_seed`` column (0 for runs made before fold seeds were recorded)."""
    return curves if "fold_seed" in curves.columns else curves.assign(fold_seed=0)


def average_rank(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean rank per (method, budget).

    `curves` has columns ``dataset, seed, method, budget, regret``; returns a frame indexed by
    budget with one column per method.
    """
    ranked = with_fold_seed(curves).copy()
    ranked["rank"] = ranked.groupby([*RUN, "budget"])["regret"].rank(method="average")
    return ranked.groupby(["budget", "method"])["rank"].mean().unstack("method")


def win_tie_loss(
    curves: pd.DataFrame, method: str, peer: str, budget: int, tolerance: float = 1e-9
) -> tuple[int, int, int]:
    """Runs (datasets x fold seeds x seeds) where `method` has lower / equal / higher regret than
    `peer` at `budget`."""
    curves = with_fold_seed(curves)
    at = curves[curves["budget"] == budget].pivot_table(index=RUN, columns="method", values="regret")
    difference = at[method] - at[peer]
    return (
        int((difference < -tolerance).sum()),
        int((difference.abs() <= tolerance).sum()),
        int((difference > tolerance).sum()),
    )


def regret_at_time(curves: pd.DataFrame, times) -> pd.DataFrame:
    """Mean regret per (time budget, method) over the runs that record ``time`` (the summed fit
    time of the trials so far, in units of the dataset's median pool configuration): a run's
    regret at time T is that of its last trial finished by T, and 1 (the worst) when none is. A
    run that finished all its trials before T keeps its last regret. Seeds are averaged per
    dataset first, then datasets. Methods without recorded times are left out."""
    if "time" not in curves.columns:
        return pd.DataFrame()
    timed = with_fold_seed(curves).dropna(subset=["time"])
    rows = []
    for (dataset, method), part in timed.groupby(["dataset", "method"], sort=False):
        per_run = []
        for _, run in part.groupby(["fold_seed", "seed"], sort=False):
            run = run.sort_values("budget")
            spent, regret = run["time"].to_numpy(dtype=float), run["regret"].to_numpy(dtype=float)
            done = np.searchsorted(spent, np.asarray(times, dtype=float) + 1e-9, side="right")
            per_run.append(np.where(done > 0, regret[np.maximum(done - 1, 0)], 1.0))
        rows.append({"dataset": dataset, "method": method, **dict(zip(times, np.mean(per_run, axis=0)))})
    if not rows:
        return pd.DataFrame()
    table = pd.DataFrame(rows).groupby("method")[list(times)].mean().T
    table.index.name = "time"
    return table


def trials_to_reach(reference_curve: np.ndarray, target: float) -> float:
    """The first budget (1-based) at which `reference_curve` (mean regret by budget) is at or below
    `target`; infinity when it never gets there. The speed-up of a method that reaches `target`
    at k trials is ``trials_to_reach(cold_tpe, target) / k``."""
    reached = np.flatnonzero(np.asarray(reference_curve) <= target + 1e-12)
    return float(reached[0] + 1) if reached.size else float("inf")


def paired_difference(
    difference: np.ndarray, resamples: int = 2000, seed: int = 0, tolerance: float = 1e-9
) -> dict[str, float]:
    """Mean of per-dataset differences (a method minus its peer) with a 95% bootstrap interval
    over datasets, and on how many datasets the difference is negative (better) or positive."""
    difference = np.asarray(difference, dtype=float)
    rng = np.random.default_rng(seed)
    means = [rng.choice(difference, difference.size).mean() for _ in range(resamples)]
    return {
        "difference": float(difference.mean()),
        "95% low": float(np.quantile(means, 0.025)),
        "95% high": float(np.quantile(means, 0.975)),
        "better on": int((difference < -tolerance).sum()),
        "worse on": int((difference > tolerance).sum()),
    }
