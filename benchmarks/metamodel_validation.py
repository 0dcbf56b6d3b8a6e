"""Grouped leave-dataset-out validation of the meta-model candidates on the shipped knowledge base.

Held-out units are ``--folds`` folds of whole groups (seed 0): family groups by default (a
dataset, its near-duplicates, its name family and its same-target twins: ``autometa corpus
groups``), ``--groups near-duplicate`` for the old grouping; for each fold
every candidate MetaModel (the shipped class, guard included: ``autometa.metamodel.CANDIDATES``)
is fitted on the other folds only (evaluations, metafeature scaling, surrogate) and asked with
``MetaModel.rank_pool``, the code behind ``autometa suggest``.
Reported: mean normalized regret (HPO-B) of the best of the first k suggestions, chosen from the
held-out dataset's evaluated pool, for k in 1, 3, 5, 10; per task kind too. "random" is the
exact expectation of k configurations drawn from the pool without replacement.

With ``--corpus`` (and torch installed) the Dataset2Vec ablation runs too: for each fold an
encoder is trained on the other folds' datasets only and embeds every dataset; knn and
knn_portfolio then run on handcrafted metafeatures, on the embeddings (``+d2v``) and on both
(``+both``). The fold embeddings and each fold encoder's same-dataset AUC on its held-out
datasets are written to ``dataset2vec_folds_<space>.parquet`` / ``.json`` and reused when present
(the discrete benchmark reads them too).

Usage (what made benchmarks/results/metamodel_validation_<space>.*):

    OMP_NUM_THREADS=1 python benchmarks/metamodel_validation.py --space lightgbm --corpus ../shared/datasets/pmlb --out benchmarks/results
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import pandas as pd

from autometa.knowledge import KnowledgeBase
from autometa.metamodel import CANDIDATES, Candidate, MetaData, leave_group_out

BUDGETS = (1, 3, 5, 10)
TASKS = {"classification": ("binary", "multiclass"), "regression": ("regression",)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--location", help="knowledge-base folder (default: the package's own)")
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--members", type=int, default=4, help="surrogate ensemble size")
    parser.add_argument("--groups", choices=["family", "near-duplicate"], default="family")
    parser.add_argument("--task", choices=sorted(TASKS), help="only datasets of this task family (default: all)")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--corpus", help="the corpus folder: adds the Dataset2Vec ablation (needs torch)")
    args = parser.parse_args()
    kb = KnowledgeBase(args.location)
    metadata = MetaData.from_knowledge_base(kb, args.space, grouping=args.groups)
    if args.task:
        metadata = metadata.subset([d for d in metadata.datasets if metadata.tasks.loc[d] in TASKS[args.task]])
    space = kb.space(args.space)
    candidates = {
        name: dataclasses.replace(c, members=args.members) if c.method in ("surrogate", "hybrid") else c
        for name, c in CANDIDATES.items()
    }
    start = time.perf_counter()
    fold_features, encoder_lines = None, []
    if args.corpus:
        from autometa.encoder import cached_fold_embeddings

        fold_features, aucs = cached_fold_embeddings(metadata, args.corpus, args.folds, args.out, log=print)
        for view in ("dataset2vec", "both"):
            suffix = "+d2v" if view == "dataset2vec" else "+both"
            candidates[f"knn{suffix}"] = Candidate("knn", features=view)
            candidates[f"knn_portfolio{suffix}"] = Candidate("knn_portfolio", features=view)
        aucs = pd.DataFrame(aucs).set_index("fold")
        encoder_lines = [
            "Dataset2Vec encoders, one per fold, trained without the fold's datasets; the paper's check on "
            "the held-out datasets (AUC of same-dataset vs different-dataset subsample pairs; hard: negatives "
            "of the same subsample shape):",
            "",
            aucs.to_string(float_format=lambda v: f"{v:.3f}"),
            "",
            f"Mean held-out AUC {aucs['held_out_auc'].mean():.3f} (hard {aucs['held_out_auc_hard'].mean():.3f}).",
            "",
        ]
    table = leave_group_out(metadata, space, candidates, budgets=BUDGETS, folds=args.folds, fold_features=fold_features)
    seconds = time.perf_counter() - start
    columns = [f"regret@{k}" for k in BUDGETS]
    overall = table.groupby("method")[columns].mean().sort_values("regret@5")
    by_task = table.groupby(["task", "method"])[columns].mean()
    # The fallback guard: on held-out datasets beyond the threshold (95th percentile of the
    # training datasets' nearest-neighbour distances), does each method still beat the portfolio?
    far = table[table["beyond_threshold"]]
    near = table[~table["beyond_threshold"]]
    guard = pd.DataFrame(
        {
            "near: regret@1": near.groupby("method")["regret@1"].mean(),
            "near: regret@5": near.groupby("method")["regret@5"].mean(),
            "far: regret@1": far.groupby("method")["regret@1"].mean(),
            "far: regret@5": far.groupby("method")["regret@5"].mean(),
        }
    ).loc[overall.index]
    guard["fell back"] = table.groupby("method")["fell_back"].sum().astype(int)
    n_far = far["dataset"].nunique()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"metamodel_validation_{args.space}.csv", index=False, float_format="%.5g")
    lines = [
        f"# Meta-model validation: {args.space}",
        "",
        f"{len(metadata.datasets)} datasets in {metadata.groups.nunique()} {args.groups} groups, "
        f"{len(metadata.configs)} pool configurations; {args.folds} folds of whole groups; "
        f"surrogate ensemble of {args.members}; {seconds:.0f} s.",
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/metamodel_validation.py --space {args.space} "
        f"--folds {args.folds} --groups {args.groups} --members {args.members}"
        f"{' --task ' + args.task if args.task else ''}"
        f"{' --corpus ' + args.corpus if args.corpus else ''} --out {args.out}`",
        "",
        "Mean normalized regret of the best of the first k suggestions (0 = best of the pool):",
        "",
        overall.to_string(float_format=lambda v: f"{v:.4f}"),
        "",
        "Per task kind:",
        "",
        by_task.to_string(float_format=lambda v: f"{v:.4f}"),
        "",
        f"Fallback guard: {n_far} of {table['dataset'].nunique()} held-out datasets lie beyond the "
        "threshold their fold's training set gives (95th percentile of nearest-neighbour distances); "
        "regret on them (far) and on the others (near), and how many held-out datasets each meta-model "
        "sent to the static portfolio (its guard, the same rule computed on its own metafeature view):",
        "",
        guard.to_string(float_format=lambda v: f"{v:.4f}"),
        "",
        *encoder_lines,
    ]
    (out / f"metamodel_validation_{args.space}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
