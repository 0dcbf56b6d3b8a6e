"""Choosing the TransferSampler's settings live, on datasets that are never reported.

The discrete benchmark scores only pool configurations, so it cannot see what continuous
refinement after the pool phase finds. This runs the live benchmark (real Optuna studies of
3-fold cross-validated fits, meta-models refit without each dataset's groups: the shipped
``run_live``) with variants of the TransferSampler, next to warm start + TPE, on classification
corpus datasets of 300-3,000 rows drawn one per family group, at random (``--draw-seed``), from
the groups that hold none of the datasets of the reported live run (``--exclude-report``).

Usage (what made benchmarks/results/transfer_selection_live_lightgbm.md):

    OMP_NUM_THREADS=1 python benchmarks/transfer_selection_live.py --corpus ../shared/datasets/pmlb \\
        --exclude-report benchmarks/results/benchmark_live_family_lightgbm.md --workers 2
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autometa.benchmark import average_rank, markdown_table, mean_curves, run_live
from autometa.knowledge import KnowledgeBase

VARIANTS = {
    "transfer pool<=10": {"max_pool_trials": 10},
    "transfer pool<=15": {"max_pool_trials": 15},
    "transfer pool<=20": {"max_pool_trials": 20},
    "transfer pool<=30": {"max_pool_trials": 30},
    "transfer pool<=10 then deepkernel": {"max_pool_trials": 10, "refine": "deepkernel"},
    "transfer pool<=20 then deepkernel": {"max_pool_trials": 20, "refine": "deepkernel"},
    # the DeepKernelSampler alone, after the first k of the metafeature neighbours' picks
    "deepkernel warm_start=3": {"sampler": "deepkernel", "warm_start": 3},
    "deepkernel warm_start=5": {"sampler": "deepkernel", "warm_start": 5},
    # the DeepKernelSampler with the neighbours' scores as its GP's prior mean
    "deepkernel prior=1": {"sampler": "deepkernel", "prior": 1.0},
    "deepkernel prior=2": {"sampler": "deepkernel", "prior": 2.0},
}
BUDGETS = (1, 3, 5, 10, 20, 30, 50)


def reported_datasets(report: Path) -> set[str]:
    """The dataset names on a live report's command line."""
    command = next(line for line in report.read_text().splitlines() if line.startswith("Command:"))
    return {Path(path).name.split(".")[0] for path in re.findall(r"(\S+\.(?:tsv|csv)(?:\.gz)?)", command)}


def draw(corpus: Path, kb: KnowledgeBase, space: str, n: int, seed: int, excluded: set[str]) -> list[str]:
    """`n` classification datasets of 300-3,000 rows, one per family group, from groups holding none
    of `excluded`."""
    index = pd.read_csv(corpus / "index.csv").set_index("name")
    groups = kb.groups(space)
    eligible = index[(index.task != "regression") & index.n_rows.between(300, 3000)].index
    eligible = [name for name in eligible if name in groups.index]
    banned = {groups.loc[name] for name in excluded if name in groups.index}
    by_group: dict[str, list[str]] = {}
    for name in sorted(eligible):
        if groups.loc[name] not in banned:
            by_group.setdefault(groups.loc[name], []).append(name)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(sorted(by_group), size=min(n, len(by_group)), replace=False)
    return sorted(str(rng.choice(by_group[group])) for group in chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, type=Path)
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--exclude-report", type=Path, help="a live report whose datasets' groups are left out")
    parser.add_argument("--datasets", type=int, default=20)
    parser.add_argument("--draw-seed", type=int, default=1)
    parser.add_argument("--budget", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="datasets in parallel processes")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), help="only these settings (default: all)")
    parser.add_argument("--baselines", nargs="+", default=["autometa+tpe"])
    parser.add_argument("--tag", help="suffix of the report's file name")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    kb = KnowledgeBase()
    excluded = reported_datasets(args.exclude_report) if args.exclude_report else set()
    names = draw(args.corpus, kb, args.space, args.datasets, args.draw_seed, excluded)
    variants = {k: VARIANTS[k] for k in args.variants or VARIANTS}
    start = time.perf_counter()
    curves, errors = run_live(
        [args.corpus / pd.read_csv(args.corpus / "index.csv").set_index("name").loc[n, "file"] for n in names],
        methods=[*args.baselines, *variants],
        budget=args.budget,
        seeds=args.seeds,
        space=args.space,
        workers=args.workers,
        variants=variants,
        progress=lambda name: print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True),
    )
    seconds = time.perf_counter() - start
    budgets = [b for b in BUDGETS if b <= args.budget]
    means = mean_curves(curves).loc[budgets].T.sort_values(budgets[-1])
    ranks = average_rank(curves).loc[budgets].T.loc[means.index]
    stem = f"transfer_selection_live_{args.space}" + (f"_{args.tag}" if args.tag else "")
    out = Path(args.out)
    curves.to_csv(out / f"{stem}.csv.gz", index=False)
    command = "OMP_NUM_THREADS=1 python benchmarks/transfer_selection_live.py " + " ".join(
        f"--{k.replace('_', '-')} {' '.join(map(str, v)) if isinstance(v, list) else v}"
        for k, v in vars(args).items()
        if v is not None and k != "out"
    )
    lines = [
        f"# TransferSampler settings chosen live ({args.space})",
        "",
        f"Command: `{command} --out {args.out}`",
        "",
        f"{len(names)} classification datasets of 300-3,000 rows, one per family group drawn at random "
        f"(seed {args.draw_seed}) from the groups that hold none of the reported live run's datasets"
        + (f" (`{args.exclude_report.name}`)" if args.exclude_report else "")
        + f": {', '.join(names)}. Meta-models refit without each dataset's groups; {args.seeds} seeds x "
        f"{args.budget} trials of 3-fold cross-validation; {seconds:.0f} s with {args.workers} workers.",
        "",
        "## Mean normalized regret of the best so far, by budget",
        "",
        markdown_table(means),
        "",
        "## Average rank (1 = best), by budget",
        "",
        markdown_table(ranks, ".2f"),
        "",
    ]
    if len(errors):
        lines += ["## Errors", "", markdown_table(errors.set_index("method")), ""]
    (out / f"{stem}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
