"""Paired comparison of the metafeature views in the meta-model validation (Dataset2Vec ablation).

Reads ``metamodel_validation_<space>.csv`` (written by ``metamodel_validation.py --corpus``) and
compares, per held-out dataset, each method on Dataset2Vec embeddings (``+d2v``) or on both
(``+both``) with the same method on handcrafted metafeatures: mean difference of regret@k with
a 95% bootstrap interval over datasets (2,000 resamples, seed 0), and on how many datasets the
variant is better or worse. Negative differences favour the variant.

Usage (what made benchmarks/results/dataset2vec_ablation_<space>.md):

    python benchmarks/dataset2vec_ablation.py --space lightgbm --results benchmarks/results
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from autometa.benchmark import paired_difference

BUDGETS = (1, 3, 5, 10)


def paired(table: pd.DataFrame, variant: str, base: str, k: int) -> dict:
    wide = table.pivot(index="dataset", columns="method", values=f"regret@{k}")
    difference = (wide[variant] - wide[base]).dropna().to_numpy()
    return {"variant": variant, "against": base, "k": k, **paired_difference(difference), "datasets": difference.size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--results", default="benchmarks/results")
    args = parser.parse_args()
    results = Path(args.results)
    table = pd.read_csv(results / f"metamodel_validation_{args.space}.csv")
    variants = sorted(m for m in table["method"].unique() if m.endswith(("+d2v", "+both")))
    rows = [paired(table, v, v.rsplit("+", 1)[0], k) for v in variants for k in BUDGETS]
    frame = pd.DataFrame(rows)
    lines = [
        f"# Dataset2Vec ablation: {args.space}",
        "",
        f"Command: `python benchmarks/dataset2vec_ablation.py --space {args.space} --results {args.results}`",
        "",
        f"From `metamodel_validation_{args.space}.csv` (10 folds of near-duplicate groups; one Dataset2Vec "
        "encoder per fold, trained without it). Difference of regret@k, variant minus the same method on "
        "handcrafted metafeatures; negative favours the variant.",
        "",
        frame.to_string(index=False, float_format=lambda v: f"{v:+.4f}"),
        "",
    ]
    (results / f"dataset2vec_ablation_{args.space}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
