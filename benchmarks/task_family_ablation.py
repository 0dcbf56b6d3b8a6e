"""Should the meta-model's neighbours come from datasets of the same task kind only?

The shipped meta-models pool every dataset of a space: a regression dataset's nearest neighbours
may be classification datasets (scored by ROC-AUC, not R^2) and the other way round. This
ablation runs the grouped leave-dataset-out validation (``autometa.metamodel.leave_group_out``:
10 folds of family groups, fold seeds 0-4, handcrafted metafeatures) three ways for each method:

- ``pooled``: as shipped, every training dataset;
- ``family``: only training datasets of the held-out dataset's family (classification or
  regression);
- ``task``: only training datasets of its exact task kind (binary, multiclass, regression).

The task kind of the held-out dataset is known to a user and leaks nothing about its scores.
Reported: mean normalized regret of the best of the first k suggestions (mean ± sd over the fold
seeds), and the paired difference against ``pooled`` (per dataset, averaged over the fold seeds:
mean, normal 95% interval, datasets better / worse).

Usage (what made benchmarks/results/task_family_ablation_<space>.*):

    OMP_NUM_THREADS=1 python benchmarks/task_family_ablation.py --space lightgbm --out benchmarks/results
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autometa.benchmark import markdown_table, mean_sd
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import Candidate, MetaData, leave_group_out

BUDGETS = (1, 3, 5, 10, 20)
KINDS = {
    "family": lambda task: "regression" if task == "regression" else "classification",
    "task": lambda task: task,
}


@dataclasses.dataclass(frozen=True)
class ByKind:
    """A validation candidate fitted separately on each kind's training datasets: a held-out
    dataset (the Series name of its metafeatures) is answered by the MetaModel of its own kind."""

    candidate: Candidate
    tasks: pd.Series
    kind: object

    def fit(self, train: MetaData, space):
        kinds = train.tasks.map(self.kind)
        models = {k: self.candidate.fit(train.subset(list(kinds.index[kinds == k])), space) for k in sorted(set(kinds))}
        return _Routed(models, self.tasks, self.kind)


@dataclasses.dataclass(frozen=True)
class _Routed:
    models: dict
    tasks: pd.Series
    kind: object

    def rank_pool(self, metafeatures: pd.Series, n: int):
        return self.models[self.kind(self.tasks.loc[metafeatures.name])].rank_pool(metafeatures, n)


def paired(table: pd.DataFrame, method: str, baseline: str) -> list[dict]:
    regret = [f"regret@{k}" for k in BUDGETS]
    a = table[table.method == baseline].groupby("dataset")[regret].mean()
    b = table[table.method == method].groupby("dataset")[regret].mean().loc[a.index]
    rows = []
    for k in BUDGETS:
        d = b[f"regret@{k}"] - a[f"regret@{k}"]
        half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
        rows.append(
            {
                "method": method,
                "against": baseline,
                "k": k,
                "mean_difference": d.mean(),
                "ci_low": d.mean() - half,
                "ci_high": d.mean() + half,
                "better": int((d < 0).sum()),
                "worse": int((d > 0).sum()),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--location", help="knowledge-base folder (default: the package's own)")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4], help="fold seeds")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    kb = KnowledgeBase(args.location)
    metadata = MetaData.from_knowledge_base(kb, args.space)
    base = {name: Candidate(name) for name in ("knn_portfolio", "portfolio", "knn")}
    candidates = {}
    for name, candidate in base.items():
        candidates[f"{name} pooled"] = candidate
        for kind, key in KINDS.items():
            candidates[f"{name} {kind}"] = ByKind(candidate, metadata.tasks, key)
    start = time.perf_counter()
    table = pd.concat(
        [
            leave_group_out(
                metadata, kb.space(args.space), candidates, budgets=BUDGETS, folds=args.folds, seed=seed
            ).assign(fold_seed=seed)
            for seed in args.seeds
        ],
        ignore_index=True,
    )
    seconds = time.perf_counter() - start
    regret = [f"regret@{k}" for k in BUDGETS]
    per_seed = table.groupby(["method", "fold_seed"], sort=False)[regret].mean()
    overall = mean_sd(per_seed, "method", sort=False)
    by_task = table.groupby(["task", "method"], sort=False)[regret[:3]].mean()
    tests = pd.DataFrame(
        [row for name in base for kind in KINDS for row in paired(table, f"{name} {kind}", f"{name} pooled")]
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"task_family_ablation_{args.space}.csv", index=False, float_format="%.5g")
    tasks = metadata.tasks.value_counts().to_dict()
    lines = [
        f"# Neighbours of the same task kind only? ({args.space})",
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/task_family_ablation.py --space {args.space} "
        f"--folds {args.folds} --seeds {' '.join(map(str, args.seeds))} --out {args.out}` ({seconds:.0f} s).",
        "",
        f"{len(metadata.datasets)} datasets ({', '.join(f'{n} {t}' for t, n in sorted(tasks.items()))}), "
        f"{args.folds} folds of family groups per fold seed, handcrafted metafeatures, 10 neighbours. "
        "`pooled`: every training "
        "dataset (as shipped); `family`: classification or regression only; `task`: the exact task kind only.",
        "",
        f"## Mean normalized regret of the best of the first k suggestions (mean ± sd over {len(args.seeds)} "
        "fold seeds)",
        "",
        markdown_table(overall),
        "",
        "## Paired difference against pooled (negative: restricting helps)",
        "",
        markdown_table(tests, index=False),
        "",
        "## By task kind (k = 1, 3, 5)",
        "",
        markdown_table(by_task.reset_index(), index=False),
        "",
    ]
    (out / f"task_family_ablation_{args.space}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
