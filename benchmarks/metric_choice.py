"""Which metric should suggestions be learned from? ROC-AUC against log-loss, each judged on both.

The knowledge base records, for every classification dataset and pool configuration, the
protocol's score (ROC-AUC) and the log-loss. A meta-model can learn from either
(``MetaModel.from_knowledge_base(..., metric=...)``, ``autometa suggest --metric``). This runs the
held-out validation (family groups, ``autometa.metamodel.leave_group_out``, the shipped
``knn_portfolio`` settings) once per learned-from metric and fold seed, and scores the same picks
on both metrics (``judge=``): what choosing one metric does to the other. Log-loss regret is
normalized per dataset over the pool, each log-loss capped at that of predicting the class
frequencies (``MetaData``). Only classification datasets are reported (regression records R^2
alone); the ROC-AUC meta-model learns from every dataset, as the shipped one does, the log-loss
one from the classification datasets.

Usage (what made benchmarks/results/metric_choice_<space>.*):

    OMP_NUM_THREADS=1 python benchmarks/metric_choice.py --space lightgbm --out benchmarks/results
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from autometa.benchmark import markdown_table, mean_sd, paired_difference, shipped_settings
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import Candidate, MetaData, leave_group_out

BUDGETS = (1, 3, 5, 10)
LEARNED = {"score": "ROC-AUC", "log_loss": "log-loss"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--location", help="knowledge-base folder (default: the package's own)")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="fold seeds")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    kb = KnowledgeBase(args.location)
    space = kb.space(args.space)
    shipped = shipped_settings(args.space)
    candidates = {
        "autometa": Candidate(
            shipped["method"], neighbours=shipped["neighbours"], guard_quantile=shipped["guard_quantile"]
        ),
        "defaults": Candidate("defaults"),
    }
    data = {metric: MetaData.from_knowledge_base(kb, args.space, metric=metric) for metric in LEARNED}
    classification = data["log_loss"].datasets
    start = time.perf_counter()
    tables = []
    for learned, metadata in data.items():
        for judged, judge in data.items():
            for seed in args.seeds:
                table = leave_group_out(
                    metadata, space, candidates, budgets=BUDGETS, folds=args.folds, seed=seed, judge=judge
                )
                table = table[table["dataset"].isin(classification)]
                tables.append(table.assign(learned=LEARNED[learned], judged=LEARNED[judged], fold_seed=seed))
            print(f"learned from {learned}, judged on {judged}: {time.perf_counter() - start:.0f} s", flush=True)
    table = pd.concat(tables, ignore_index=True)
    seconds = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"metric_choice_{args.space}"
    table.to_csv(out / f"{name}.csv.gz", index=False, float_format="%.5g")

    columns = [f"regret@{k}" for k in BUDGETS]
    keys = ["judged", "method", "learned"]
    per_seed = table.groupby([*keys, "fold_seed"])[columns].mean()
    summary = mean_sd(per_seed, keys)
    lines = [
        f"# Which metric to learn suggestions from: {args.space}",
        "",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/metric_choice.py --space {args.space} --folds {args.folds} "
        f"--seeds {' '.join(map(str, args.seeds))} --out {args.out}` ({seconds:.0f} s).",
        "",
        f"{len(classification)} classification datasets; family groups, {args.folds} folds per fold seed; the "
        f"shipped settings ({shipped}). Mean normalized regret of the best of the first k suggestions (0 = best "
        f"of the pool in the judged metric), mean ± sd over {len(args.seeds)} fold seeds. `defaults` is the "
        "learner's own defaults (one configuration, the same whatever is learned from).",
        "",
    ]
    for judged in LEARNED.values():
        block = summary.loc[judged]
        # defaults and random do not learn: one row each.
        block = block[[method == "autometa" or learned == "ROC-AUC" for method, learned in block.index]]
        block.index = [
            f"{method}, learned from {learned}" if method == "autometa" else method for method, learned in block.index
        ]
        lines += [f"## Judged on {judged}", "", markdown_table(block), ""]
        ours = {
            learned: table[(table.judged == judged) & (table.method == "autometa") & (table.learned == learned)]
            .groupby("dataset")[columns]
            .mean()
            for learned in LEARNED.values()
        }
        rows = []
        for k in (1, 5):
            diff = (
                ours["log-loss"][f"regret@{k}"] - ours["ROC-AUC"].loc[ours["log-loss"].index, f"regret@{k}"]
            ).to_numpy()
            rows.append({"k": str(k), **paired_difference(diff)})
        lines += [
            f"Paired difference judged on {judged}, learned from log-loss minus learned from ROC-AUC (per dataset, "
            "averaged over seeds; negative favours learning from log-loss):",
            "",
            markdown_table(pd.DataFrame(rows), index=False),
            "",
        ]
    (out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
