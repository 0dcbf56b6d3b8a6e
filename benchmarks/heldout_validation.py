"""Held out means held out: the meta-model validation under family groups, over several fold seeds.

Runs the grouped leave-dataset-out validation of the shipped ``MetaModel`` classes
(``autometa.metamodel.leave_group_out``, guard included) for every fold seed and both groupings:

- ``family``: a dataset, its near-duplicates, its name family and every dataset with the same
  target are held out together (``autometa corpus groups``);
- ``near-duplicate``: the content rule alone, the grouping of the earlier reports, kept so that the
  size of the leak stays visible.

Reported per grouping: mean normalized regret of the best of the first k suggestions, as mean +- sd
over the fold seeds (each seed's mean over datasets), how many datasets fell back to the static
portfolio, and paired differences against the shipped default (per dataset, averaged over seeds;
95% bootstrap interval over datasets). Seeds used to choose a default must not be the ones
reported: run once with ``--seeds 100 101 102 103 104`` to choose, once with ``0 1 2 3 4`` to report.

Usage (what made benchmarks/results/heldout_validation_<space>.*):

    OMP_NUM_THREADS=1 python benchmarks/heldout_validation.py --space lightgbm --out benchmarks/results
    OMP_NUM_THREADS=1 python benchmarks/heldout_validation.py --space hist_gradient_boosting \
        --task classification --out benchmarks/results
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import pandas as pd

from autometa.benchmark import markdown_table, mean_sd, paired_difference, shipped_settings
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import CANDIDATES, DEFAULT_METHOD, Candidate, MetaData, leave_group_out

BUDGETS = (1, 3, 5, 10)
TASKS = {"classification": ("binary", "multiclass"), "regression": ("regression",)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--location", help="knowledge-base folder (default: the package's own)")
    parser.add_argument("--task", choices=sorted(TASKS), help="only datasets of this task family (default: all)")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="fold seeds")
    parser.add_argument("--groupings", nargs="+", default=["family", "near-duplicate"])
    parser.add_argument(
        "--candidates",
        nargs="+",
        default=["defaults", "portfolio", "knn", "knn_portfolio", "hybrid"],
        choices=sorted(CANDIDATES),
    )
    parser.add_argument("--members", type=int, default=4, help="surrogate ensemble size")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="add knn_portfolio variants: 5 or 20 neighbours (10 by default), the guard at quantile 0.9, 0.95 or "
        "off (whichever the default is not)",
    )
    parser.add_argument("--prefix", default="heldout_validation")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    kb = KnowledgeBase(args.location)
    space = kb.space(args.space)
    candidates = {
        name: dataclasses.replace(CANDIDATES[name], members=args.members)
        if CANDIDATES[name].method in ("surrogate", "hybrid")
        else CANDIDATES[name]
        for name in args.candidates
    }
    shipped = shipped_settings(args.space)
    candidates["shipped"] = Candidate(
        shipped["method"], neighbours=shipped["neighbours"], guard_quantile=shipped["guard_quantile"]
    )
    if args.sweep:
        base = CANDIDATES[DEFAULT_METHOD]
        for k in (5, 20):
            candidates[f"{DEFAULT_METHOD} neighbours={k}"] = dataclasses.replace(base, neighbours=k)
        for q in (0.9, 0.95, None):
            if q != base.guard_quantile:
                candidates[f"{DEFAULT_METHOD} guard={q}"] = dataclasses.replace(base, guard_quantile=q)
    start = time.perf_counter()
    tables, sizes = [], {}
    for grouping in args.groupings:
        metadata = MetaData.from_knowledge_base(kb, args.space, grouping)
        if args.task:
            metadata = metadata.subset([d for d in metadata.datasets if metadata.tasks.loc[d] in TASKS[args.task]])
        sizes[grouping] = (len(metadata.datasets), metadata.groups.nunique())
        for seed in args.seeds:
            table = leave_group_out(metadata, space, candidates, budgets=BUDGETS, folds=args.folds, seed=seed)
            tables.append(table.assign(grouping=grouping, fold_seed=seed))
            print(f"{grouping} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    table = pd.concat(tables, ignore_index=True)
    seconds = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{args.prefix}_{args.space}" + (f"_{args.task}" if args.task else "")
    table.to_csv(out / f"{name}.csv.gz", index=False, float_format="%.5g")

    columns = [f"regret@{k}" for k in BUDGETS]
    per_seed = table.groupby(["grouping", "method", "fold_seed"])[columns].mean()
    mean = per_seed.groupby(["grouping", "method"]).mean()
    fell = table.groupby(["grouping", "method", "fold_seed"])["fell_back"].sum().groupby(["grouping", "method"])
    summary = mean_sd(per_seed, ["grouping", "method"])
    summary["fell back (mean per seed)"] = fell.mean().map("{:.1f}".format)
    lines = [
        f"# Held-out validation: {args.space}" + (f" ({args.task})" if args.task else ""),
        "",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/heldout_validation.py --space {args.space}"
        + (f" --task {args.task}" if args.task else "")
        + f" --folds {args.folds} --seeds {' '.join(map(str, args.seeds))} --groupings {' '.join(args.groupings)}"
        f" --candidates {' '.join(args.candidates)} --members {args.members}{' --sweep' if args.sweep else ''}"
        f" --prefix {args.prefix} --out {args.out}` ({seconds:.0f} s).",
        "",
        "Datasets and groups: "
        + "; ".join(f"{g}: {n} datasets in {k} groups" for g, (n, k) in sizes.items())
        + f". {args.folds} folds of whole groups per fold seed.",
        "",
        "Mean normalized regret of the best of the first k suggestions (0 = best of the pool), mean ± sd over "
        f"{len(args.seeds)} fold seeds:",
        "",
    ]
    for grouping in args.groupings:
        block = summary.loc[grouping].sort_values("regret@5")
        lines += [f"## {grouping} groups", "", markdown_table(block), ""]
        if "shipped" in block.index:
            rows = []
            ours = table[(table.grouping == grouping) & (table.method == "shipped")]
            ours = ours.groupby("dataset")[columns].mean()
            for other in block.index.drop("shipped"):
                theirs = (
                    table[(table.grouping == grouping) & (table.method == other)].groupby("dataset")[columns].mean()
                )
                for k in (1, 5):
                    diff = (ours[f"regret@{k}"] - theirs.loc[ours.index, f"regret@{k}"]).to_numpy()
                    rows.append({"against": other, "k": k, **paired_difference(diff)})
            lines += [
                f"Paired difference, the shipped meta-model ({shipped}) minus each (per dataset, averaged over "
                "seeds; negative favours the shipped one):",
                "",
                markdown_table(pd.DataFrame(rows), index=False),
                "",
            ]
    if len(args.groupings) > 1:
        leak = mean.unstack("grouping")
        leak.columns = [f"{k} ({g})" for k, g in leak.columns]
        lines += [
            "The size of the leak: mean regret under each grouping, side by side:",
            "",
            markdown_table(leak),
            "",
        ]
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
