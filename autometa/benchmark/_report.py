"""Tables and figures of a benchmark run: what ``autometa benchmark`` writes next to its CSV."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from autometa.benchmark._metrics import (
    RUN,
    average_rank,
    best_so_far_regret,
    regret_at_time,
    trials_to_reach,
    win_tie_loss,
    with_fold_seed,
)
from autometa.exceptions import DataError

REPORT_BUDGETS = (1, 3, 5, 10, 20, 30, 50)
STORED_FORMAT = "%.5g"  # the precision of every number in a report's CSV
REPORT_TIMES = (1, 3, 5, 10, 20, 30, 50)  # in units of the dataset's median pool fit time


def markdown_table(frame: pd.DataFrame, floatfmt: str = ".4f", index: bool = True) -> str:
    """A GitHub markdown table (no extra dependency)."""

    def cell(value) -> str:
        if isinstance(value, float):
            return format(value, floatfmt) if value == value and abs(value) != float("inf") else str(value)
        return str(value)

    columns = ([str(frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for key, row in frame.iterrows():
        cells = ([str(key)] if index else []) + [cell(v) for v in row.tolist()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mean_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean regret per (budget, method): seeds averaged per dataset first, then datasets."""
    per_dataset = curves.groupby(["method", "dataset", "budget"])["regret"].mean()
    return per_dataset.groupby(["budget", "method"]).mean().unstack("method")


def mean_sd(per_seed: pd.DataFrame, keys, sort: bool = True) -> pd.DataFrame:
    """``mean ± sd`` strings over the last index level (the fold seed) of `per_seed`, a table of
    means per (`keys`..., fold seed), one row per `keys`."""
    grouped = per_seed.groupby(keys, sort=sort)
    mean, sd = grouped.mean(), grouped.std(ddof=1)
    return mean.apply(lambda c: c.map("{:.4f}".format)) + " ± " + sd.apply(lambda c: c.map("{:.4f}".format))


def fold_seed_spread(curves: pd.DataFrame, budgets: Sequence[int]) -> pd.DataFrame:
    """``mean ± sd`` of the mean regret over fold seeds (each fold seed: datasets, then seeds,
    averaged), per method (rows) and budget (columns)."""
    curves = with_fold_seed(curves)
    at = curves[curves["budget"].isin(budgets)]
    per_fold_seed = at.groupby(["method", "fold_seed", "dataset", "budget"])["regret"].mean()
    per_fold_seed = per_fold_seed.groupby(["method", "fold_seed", "budget"]).mean()
    table = mean_sd(per_fold_seed.unstack("budget"), "method")
    table.columns = [str(b) for b in table.columns]
    return table


def speed_up(curves: pd.DataFrame, reference: str = "tpe", at: Sequence[int] = (1, 5, 10)) -> pd.DataFrame:
    """Trials the reference (cold TPE) needs to reach each method's mean regret at k trials, over k."""
    means = mean_curves(curves)
    if reference not in means:
        return pd.DataFrame()
    rows = {}
    for method in means.columns:
        row = {}
        for k in at:
            if k in means.index:
                needed = trials_to_reach(means[reference].to_numpy(), float(means.loc[k, method]))
                row[f"TPE trials to match @{k}"] = needed
                row[f"speed-up @{k}"] = needed / k
        rows[method] = row
    return pd.DataFrame(rows).T


def on_common_datasets(curves: pd.DataFrame) -> pd.DataFrame:
    """The curves of the datasets on which every method ran (all of them when coverage is equal)."""
    everywhere = curves.groupby("dataset")["method"].nunique() == curves["method"].nunique()
    return curves if everywhere.all() else curves[curves["dataset"].isin(everywhere.index[everywhere])]


def summary_markdown(
    curves: pd.DataFrame,
    errors: pd.DataFrame,
    *,
    title: str,
    command: str | Sequence[str],
    notes: str = "",
    focus: str = "autometa",
) -> str:
    budgets = [b for b in REPORT_BUDGETS if b <= curves["budget"].max()]
    # Methods compared on different datasets would not be compared: the tables cover the datasets
    # on which every method ran, and a table per method over all of its own follows.
    coverage = curves.groupby("method")["dataset"].nunique()
    all_curves, curves = curves, on_common_datasets(curves)
    means = mean_curves(curves).loc[budgets]
    ranks = average_rank(curves).loc[budgets]
    order = list(ranks.loc[budgets[-1]].sort_values().index)
    commands = [command] if isinstance(command, str) else list(command)
    if len(commands) == 1:
        lines = [f"# {title}", "", f"Command: `{commands[0]}`", ""]
    else:
        lines = [
            f"# {title}",
            "",
            "Commands (one report: each run adds its methods to the runs before it, "
            "with the same datasets, folds, seeds and budget):",
            "",
        ]
        lines += [f"- `{c}`" for c in commands] + [""]
    if notes:
        lines += [notes, ""]
    curves = with_fold_seed(curves)
    fold_seeds = curves["fold_seed"].nunique()
    lines += [
        f"{curves['dataset'].nunique()} datasets, {fold_seeds} fold seed{'s' if fold_seeds > 1 else ''}, "
        f"{curves['seed'].nunique()} seeds, methods: {', '.join(order)}.",
        "",
    ]
    if coverage.nunique() > 1:
        lines += [
            f"Not every method ran on every dataset of the {all_curves['dataset'].nunique()}: "
            + ", ".join(f"{m} on {n}" for m, n in coverage.sort_values().items() if n < coverage.max())
            + f" (see below). The tables cover the {curves['dataset'].nunique()} datasets on which every method ran; "
            "the last table gives each method over all of its own.",
            "",
        ]
    lines += [
        "## Mean normalized regret of the best so far (0 = best of the pool), by budget",
        "",
        markdown_table(means[order].T, ".4f"),
        "",
        "## Average rank (1 = best; ties share the mean rank), by budget",
        "",
        markdown_table(ranks[order].T, ".2f"),
        "",
    ]
    if fold_seeds > 1:
        lines += [
            f"## Mean regret, mean ± sd over the {fold_seeds} fold seeds (each: datasets, then seeds, averaged)",
            "",
            markdown_table(fold_seed_spread(curves, budgets).loc[order]),
            "",
        ]
    best = ranks.idxmin(axis=1)
    lines += ["Best average rank per budget: " + ", ".join(f"{b}: {best[b]}" for b in budgets), ""]
    by_time = regret_at_time(curves, [t for t in REPORT_TIMES if t <= budgets[-1]])
    if not by_time.empty:
        timed = [m for m in order if m in by_time.columns]
        lines += [
            "## Mean regret against time",
            "",
            "Time: the recorded fit times of the trials so far, summed, in units of the dataset's median "
            + (
                "trial over every run here (the protocol's measured cross-validation seconds, one thread each)."
                if "score" in curves.columns
                else "pool configuration (the knowledge base's `fit_seconds`, one thread each)."
            )
            + " A run's regret at "
            "time T is that of its last trial finished by T (1 when none is); one that ran all its trials "
            "before T keeps its last regret."
            + (
                f" Methods without recorded times (runs merged from an older report) are left out: "
                f"{', '.join(m for m in order if m not in timed)}."
                if len(timed) < len(order)
                else ""
            ),
            "",
            markdown_table(by_time[timed].T, ".4f"),
            "",
        ]
    if focus in set(curves["method"]):
        lines += [f"## Win / tie / loss of {focus} against each peer (datasets x seeds)", ""]
        table = {}
        for peer in order:
            if peer == focus:
                continue
            table[peer] = {
                f"@{b}": "{} / {} / {}".format(*win_tie_loss(curves, focus, peer, b))
                for b in (1, 5, 10, budgets[-1])
                if b in budgets
            }
        lines += [markdown_table(pd.DataFrame(table).T), ""]
    ups = speed_up(curves)
    if not ups.empty:
        lines += [
            "## Speed-up over cold TPE",
            "",
            "Trials cold TPE needs (mean curve) to reach the mean regret each method has after k trials, "
            "divided by k (inf: TPE does not get there within the budget).",
            "",
            markdown_table(ups.loc[order], ".1f"),
            "",
        ]
    if coverage.nunique() > 1:
        own = mean_curves(all_curves).loc[budgets]
        own = own[order].T
        own.insert(0, "datasets", coverage.loc[order].astype(int).astype(str))
        lines += ["## Each method over every dataset it ran on (mean regret)", "", markdown_table(own, ".4f"), ""]
    if len(errors):
        lines += ["## Methods that could not run", ""]
        # One row per method and reason: the dataset's own name is taken out of the message.
        reasons = errors.assign(
            error=[str(e).replace(repr(str(d)), "<dataset>") for e, d in zip(errors["error"], errors["dataset"])]
        )
        grouped = reasons.groupby(["method", "error"]).size().rename("datasets").reset_index()
        lines += [markdown_table(grouped, index=False), ""]
    return "\n".join(lines) + "\n"


def figures(curves: pd.DataFrame, out: Path, prefix: str) -> list[Path]:
    """Regret curves with 95% bands (over datasets) and average rank curves, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_dataset = curves.groupby(["method", "dataset", "budget"])["regret"].mean().reset_index()
    ranks = average_rank(curves)
    methods = list(ranks.iloc[-1].sort_values().index)
    # Distinct colour and dash per method: the default cycle repeats after 10 colours.
    palette = plt.get_cmap("tab20").colors
    style = {
        m: {"color": palette[(2 * i) % 20 + (i // 10) % 2], "linestyle": ("-", "--", "-.", ":")[i % 4]}
        for i, m in enumerate(methods)
    }

    def save(fig, ax, ylabel: str, title: str, name: str) -> Path:
        ax.set_xscale("log")
        ax.set_xlabel("trials")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        return out / name

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in methods:
        part = per_dataset[per_dataset["method"] == method].groupby("budget")["regret"]
        mean, sem = part.mean(), part.sem().fillna(0.0)
        ax.plot(mean.index, mean.to_numpy(), label=method, **style[method])
        ax.fill_between(
            mean.index,
            (mean - 1.96 * sem).clip(lower=1e-4).to_numpy(),
            (mean + 1.96 * sem).to_numpy(),
            alpha=0.12,
            color=style[method]["color"],
        )
    ax.set_yscale("log")
    paths = [
        save(
            fig,
            ax,
            "normalized regret (best so far)",
            "Regret, mean over held-out datasets (95% band)",
            f"{prefix}_regret.png",
        )
    ]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in methods:
        ax.plot(ranks.index, ranks[method].to_numpy(), label=method, **style[method])
    paths.append(
        save(
            fig,
            ax,
            "average rank (lower is better)",
            "Average rank over held-out datasets and seeds",
            f"{prefix}_rank.png",
        )
    )
    return paths


_RUN_KEYS = ["dataset", "task", "fold_seed", "seed", "method"]
CURVE_VALUES = ("regret", "time", "score", "seconds")  # per run and budget; the last two: live only


def runs_table(curves: pd.DataFrame) -> pd.DataFrame:
    """One row per run (dataset, task, fold seed, seed, method) with its best-so-far regret after
    1..B trials (columns ``regret@1`` ... ``regret@B``) and, when recorded, the time spent by then
    (``time@1`` ... ``time@B``) and the live trials' raw scores and fit seconds (``score@k``,
    ``seconds@k``, from which a merge renormalizes): the compact form of the curves."""
    curves = with_fold_seed(curves)
    values = [v for v in CURVE_VALUES if v in curves.columns]
    wide = curves.drop_duplicates([*_RUN_KEYS, "budget"]).set_index([*_RUN_KEYS, "budget"])[values].unstack("budget")
    wide.columns = [f"{value}@{b}" for value, b in wide.columns]
    return wide.reset_index()


def curves_from_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The long curves (one row per run and budget) back from :func:`runs_table`."""
    runs = with_fold_seed(runs)
    parts = []
    for value in CURVE_VALUES:
        columns = [c for c in runs.columns if c.startswith(f"{value}@")]
        if not columns:
            continue
        long = runs.melt(id_vars=_RUN_KEYS, value_vars=columns, var_name="budget", value_name=value)
        long["budget"] = long["budget"].str.removeprefix(f"{value}@").astype(int)
        parts.append(long.set_index([*_RUN_KEYS, "budget"]))
    long = pd.concat(parts, axis=1).reset_index()
    return long.sort_values(["dataset", "fold_seed", "seed", "method", "budget"], ignore_index=True)


def write_report(
    curves: pd.DataFrame,
    errors: pd.DataFrame,
    out: str | Path,
    prefix: str,
    *,
    title: str,
    command: str | Sequence[str],
    notes: str = "",
    context: dict | None = None,
) -> list[Path]:
    """Writes ``<prefix>.csv.gz`` (every run: :func:`runs_table`), ``<prefix>_errors.csv``, the
    markdown summary, the figures and, when given, ``<prefix>_context.json``: what the runs
    depend on besides their methods (``autometa.benchmark._run.run_context``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{prefix}.csv.gz", out / f"{prefix}_errors.csv", out / f"{prefix}.md"]
    if context is not None:
        (out / f"{prefix}_context.json").write_text(json.dumps(context, indent=1, sort_keys=True) + "\n")
    runs_table(curves).to_csv(paths[0], index=False, float_format=STORED_FORMAT)
    # Summarize what the CSV holds, not the unrounded values: otherwise ties in the tables
    # depend on whether runs were merged from the CSV or computed in this process.
    curves = curves_from_runs(pd.read_csv(paths[0]))
    errors.to_csv(paths[1], index=False)
    paths[2].write_text(summary_markdown(curves, errors, title=title, command=command, notes=notes))
    try:
        paths += figures(on_common_datasets(curves), out, prefix)
    except ImportError as error:
        paths[2].write_text(paths[2].read_text() + f"\nNo figures: {error} (pip install matplotlib).\n")
    return paths


def read_context(out: str | Path, prefix: str) -> dict | None:
    """The context a report's runs were made in (see :func:`write_report`), or None if unrecorded."""
    path = Path(out) / f"{prefix}_context.json"
    return json.loads(path.read_text()) if path.is_file() else None


def read_report(out: str | Path, prefix: str) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(curves, errors, commands) of a report that :func:`write_report` wrote."""
    out = Path(out)
    runs_path = out / f"{prefix}.csv.gz"
    if not runs_path.is_file():
        raise DataError(f"No benchmark runs to merge with at {runs_path}: run without --merge first.")
    errors_path = out / f"{prefix}_errors.csv"
    errors = pd.read_csv(errors_path) if errors_path.is_file() else pd.DataFrame(columns=["method", "dataset", "error"])
    commands = []
    summary = out / f"{prefix}.md"
    for line in summary.read_text().splitlines() if summary.is_file() else []:
        if line.startswith("## "):
            break
        for lead in ("Command: `", "- `"):
            if line.startswith(lead) and line.endswith("`"):
                commands.append(line[len(lead) : -1])
    return curves_from_runs(pd.read_csv(runs_path)), errors, commands


def normalize_live(curves: pd.DataFrame) -> pd.DataFrame:
    """Live curves with ``regret`` and ``time`` computed from the trials' raw ``score`` and
    ``seconds``, normalized per dataset (and fold seed) over every trial of every run there:
    regret ``(best - best so far) / (best - worst)``, a failed (NaN) trial counting as the worst;
    time the fit seconds so far in units of the median trial (a trial without a time counts 1; a
    study that ended early is padded with NaN scores and 0 seconds)."""
    curves = with_fold_seed(curves).sort_values([*_RUN_KEYS, "budget"], ignore_index=True)
    scores, seconds = curves["score"].to_numpy(float), curves["seconds"].to_numpy(float)
    regret, spent = np.zeros(len(curves)), np.zeros(len(curves))
    for _, where in curves.groupby(["dataset", "fold_seed"]).indices.items():
        best, worst = np.nanmax(scores[where]), np.nanmin(scores[where])
        measured = seconds[where][seconds[where] > 0]  # 0: no trial (padding)
        typical = np.median(measured) if measured.size else 1.0
        for _, run in curves.iloc[where].groupby(_RUN_KEYS).indices.items():
            rows = where[run]
            regret[rows] = best_so_far_regret(scores[rows], best, worst)
            spent[rows] = np.cumsum(np.nan_to_num(seconds[rows] / typical, nan=1.0))
    return curves.assign(regret=regret, time=spent)


def merge_curves(
    old: pd.DataFrame, new: pd.DataFrame, old_errors: pd.DataFrame, new_errors: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs of ``new`` plus those of ``old`` for methods ``new`` does not have (a method in both
    is replaced by its new runs). Both must cover the same datasets, seeds and budgets. Live runs
    (with raw ``score`` columns) are normalized over every trial of a dataset, so their regret and
    time are computed anew over the merged runs (:func:`normalize_live`); live runs recorded
    without raw scores cannot be merged."""
    old, new = with_fold_seed(old), with_fold_seed(new)
    if ("score" in new.columns) != ("score" in old.columns):
        raise DataError(
            "Cannot merge live benchmark runs without their raw scores: regret is normalized over every "
            "trial of a dataset, so the earlier runs cannot be renormalized. Run all the methods together, "
            "without --merge."
        )
    # The datasets a run attempted: those with runs and those a method could not run on (a peer
    # without an evaluation there is an error row, not a run).
    attempted = {
        "old": set(old["dataset"]) | set(old_errors.get("dataset", pd.Series(dtype=str)).dropna()),
        "new": set(new["dataset"]) | set(new_errors.get("dataset", pd.Series(dtype=str)).dropna()),
    }
    for column in ("dataset", "fold_seed", "seed", "budget"):
        differ = attempted["old"] != attempted["new"] if column == "dataset" else set(old[column]) != set(new[column])
        if differ:
            raise DataError(
                f"Cannot merge benchmark runs with different {column}s: run the new methods with "
                f"the same --seeds, --budget and datasets as the runs they are added to."
            )
    rerun = set(new["method"])
    # Runs read back from a report carry the CSV's precision; new runs get the same before they
    # are normalized together, or one configuration's score would differ in the last digits.
    new = new.copy()
    for column in CURVE_VALUES:
        if column in new.columns:
            new[column] = new[column].map(lambda v: float(STORED_FORMAT % v))
    curves = pd.concat([old[~old["method"].isin(rerun)], new], ignore_index=True)
    errors = pd.concat([old_errors[~old_errors["method"].isin(rerun)], new_errors], ignore_index=True)
    if "score" in curves.columns:
        curves = normalize_live(curves)
    return curves.sort_values([*RUN, "method", "budget"], ignore_index=True), errors
