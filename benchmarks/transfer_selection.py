"""Choosing the TransferSampler's settings on fold seeds that are never reported.

Runs the discrete benchmark (family groups, the shipped code) with variants of
``autometa+transfer`` on selection fold seeds (100, 101, ... by default), next to the warm start +
TPE and cold TPE, and reports the mean regret at each budget and the average rank. The default
is then chosen here and reported on fold seeds 0-4 by ``autometa benchmark``.

Usage (what made benchmarks/results/transfer_selection_<space>.md):

    OMP_NUM_THREADS=1 python benchmarks/transfer_selection.py --space lightgbm --out benchmarks/results
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from autometa.benchmark import METHODS, average_rank, markdown_table, mean_curves, run_discrete, sampler_method
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import MetaData

VARIANTS = {
    "noise=0.2": {"noise": 0.2},
    "noise=0.3": {"noise": 0.3},
    "noise=0.4": {"noise": 0.4},
    "noise=0.3 floor=1e-2": {"noise": 0.3, "prior_floor": 1e-2},
    "noise=0.3 pool<=10": {"noise": 0.3, "max_pool_trials": 10},
    # the handover: by expected improvement, or by a trial count only
    "handover=0 pool<=30": {"handover": 0.0, "max_pool_trials": 30},
    "handover=0 pool<=50": {"handover": 0.0, "max_pool_trials": 50},
    "handover=1e-3 pool<=50": {"handover": 1e-3, "max_pool_trials": 50},
    "handover=0 pool<=50 min_gap=0.05": {"handover": 0.0, "max_pool_trials": 50, "min_gap": 0.05},
    # after the pool phase, the deep-kernel GP (FSBO-style) instead of TPE
    "pool<=10 then deepkernel": {"max_pool_trials": 10, "refine": "deepkernel"},
    "pool<=20 then deepkernel": {"max_pool_trials": 20, "refine": "deepkernel"},
    "pool<=30 then deepkernel": {"max_pool_trials": 30, "refine": "deepkernel"},
    # ... whose GP's prior mean is the metafeature neighbours' scores (as `tune`'s deepkernel runs)
    "pool<=10 then deepkernel prior=1": {"max_pool_trials": 10, "refine": "deepkernel", "refine_prior": 1.0},
    "pool<=5 then deepkernel prior=1": {"max_pool_trials": 5, "refine": "deepkernel", "refine_prior": 1.0},
    # ... whose first pick is the robust "defaults unless" rule (MetaModel(first_share=0.6),
    # benchmarks/first_pick_rules.py)
    "pool<=10 then deepkernel prior=1 first_share=0.6": {
        "max_pool_trials": 10,
        "refine": "deepkernel",
        "refine_prior": 1.0,
        "first_share": 0.6,
    },
    # the DeepKernelSampler alone, after the first k of the metafeature neighbours' picks
    "deepkernel warm_start=3": {"sampler": "deepkernel", "warm_start": 3},
    "deepkernel warm_start=5": {"sampler": "deepkernel", "warm_start": 5},
    # the DeepKernelSampler with the neighbours' scores as its GP's prior mean
    "deepkernel prior=0.5": {"sampler": "deepkernel", "prior": 0.5},
    "deepkernel prior=1": {"sampler": "deepkernel", "prior": 1.0},
    "deepkernel prior=2": {"sampler": "deepkernel", "prior": 2.0},
    # ... whose neighbour weights learn from the study's orderings, as the TransferSampler's do
    "deepkernel prior=1 noise=0.2": {"sampler": "deepkernel", "prior": 1.0, "prior_noise": 0.2},
    # ... after the first 3 of the neighbours' picks (a best-of-3 portfolio, as warm start + TPE)
    "deepkernel prior=1 warm_start=3": {"sampler": "deepkernel", "prior": 1.0, "warm_start": 3},
}
BUDGETS = (1, 3, 5, 10, 20, 30, 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--task", choices=["classification", "regression"])
    parser.add_argument("--fold-seeds", type=int, nargs="+", default=[100, 101])
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="folds in parallel processes")
    parser.add_argument("--tag", help="suffix of the report's file name")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), help="only these settings (default: all)")
    parser.add_argument("--baselines", nargs="+", default=["tpe", "autometa", "autometa+tpe"])
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    kb = KnowledgeBase()
    metadata = MetaData.from_knowledge_base(kb, args.space)
    if args.task:
        kinds = {"classification": ("binary", "multiclass")}.get(args.task, (args.task,))
        metadata = metadata.subset([d for d in metadata.datasets if metadata.tasks.loc[d] in kinds])
    names = []
    variants = {k: VARIANTS[k] for k in args.variants or VARIANTS}
    for name, settings in variants.items():
        method = name if settings.get("sampler") == "deepkernel" else f"transfer {name}"
        METHODS[method] = sampler_method(**settings)
        names.append(method)
    start = time.perf_counter()
    curves = []
    for fold_seed in args.fold_seeds:
        part, _ = run_discrete(
            metadata,
            kb.space(args.space),
            methods=[*args.baselines, *names],
            budget=args.budget,
            seeds=1,
            folds=10,
            fold_seed=fold_seed,
            peers=kb.peers(args.space),
            workers=args.workers,
        )
        curves.append(part)
        print(f"fold seed {fold_seed}: {time.perf_counter() - start:.0f} s", flush=True)
    curves = pd.concat(curves, ignore_index=True)
    budgets = [b for b in BUDGETS if b <= args.budget]
    means = mean_curves(curves).loc[budgets].T.sort_values(budgets[-1])
    ranks = average_rank(curves).loc[budgets].T.loc[means.index]
    lines = [
        f"# TransferSampler settings, chosen on selection fold seeds: {args.space}",
        "",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/transfer_selection.py --space {args.space}"
        + (f" --task {args.task}" if args.task else "")
        + f" --fold-seeds {' '.join(map(str, args.fold_seeds))} --budget {args.budget} --workers {args.workers}"
        + (f" --tag {args.tag}" if args.tag else "")
        + (" --variants " + " ".join(f"'{v}'" for v in args.variants) if args.variants else "")
        + (" --baselines " + " ".join(args.baselines) if args.baselines != ["tpe", "autometa", "autometa+tpe"] else "")
        + f" --out {args.out}` "
        f"({time.perf_counter() - start:.0f} s); {len(metadata.datasets)} datasets, family groups, 1 sampler seed.",
        "",
        "Settings: " + "; ".join(f"`{k}`: {v}" for k, v in variants.items()) + ".",
        "",
        "## Mean regret by budget",
        "",
        markdown_table(means),
        "",
        "## Average rank by budget",
        "",
        markdown_table(ranks, ".2f"),
        "",
    ]
    out = Path(args.out)
    name = (
        f"transfer_selection_{args.space}"
        + (f"_{args.task}" if args.task else "")
        + (f"_{args.tag}" if args.tag else "")
    )
    (out / f"{name}.md").write_text("\n".join(lines))
    curves.to_csv(out / f"{name}.csv.gz", index=False)  # the curves, for paired comparisons
    print("\n".join(lines))


if __name__ == "__main__":
    main()
