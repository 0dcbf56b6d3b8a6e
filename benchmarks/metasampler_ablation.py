"""What the MetaSampler adds: paired comparison on the discrete benchmark's runs.

The MetaSampler wraps multivariate TPE and screens its candidates with the meta-model's
surrogate. Its base alone is ``autometa+tpe`` of the same benchmark run (``autometa-d2v+tpe``
and ``autometa-both+tpe`` for the variants on Dataset2Vec and combined metafeatures): Optuna 5's
``TPESampler(seed=...)`` is multivariate by default, so both samplers are the same TPE with the
same seed after the same 5 warm-start suggestions, and differ only by the screening (identical
up to TPE's 10 startup trials). Compared per dataset at the same budget: mean difference of
best-so-far regret with a 95% bootstrap interval over datasets (seeds averaged first; 2,000
resamples, seed 0); negative favours the MetaSampler.

Usage (what made benchmarks/results/metasampler_ablation_lightgbm.md), after the discrete
benchmark of README.md:

    python benchmarks/metasampler_ablation.py --results benchmarks/results
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from autometa.benchmark import curves_from_runs, paired_difference

BUDGETS = (10, 15, 20, 30, 40, 50)
VARIANTS = ("autometa", "autometa-d2v", "autometa-both")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default="benchmarks/results")
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--prefix", default="benchmark_discrete", help="the benchmark report: <prefix>_<space>.csv.gz")
    args = parser.parse_args()
    results = Path(args.results)
    curves = curves_from_runs(pd.read_csv(results / f"{args.prefix}_{args.space}.csv.gz"))
    per_dataset = curves.groupby(["method", "dataset", "budget"])["regret"].mean().unstack("method")
    rows = []
    for variant in VARIANTS:  # handcrafted, Dataset2Vec and combined metafeatures, where they were run
        sampler = f"{variant}+metasampler"
        if sampler not in per_dataset.columns:
            continue
        for peer in (f"{variant}+tpe", "tpe"):
            for k in BUDGETS:
                ours, theirs = per_dataset.loc[(slice(None), k), sampler], per_dataset.loc[(slice(None), k), peer]
                rows.append(
                    {
                        "metasampler": sampler,
                        "against": peer,
                        "trials": k,
                        "mean": ours.mean(),
                        "peer_mean": theirs.mean(),
                        **paired_difference((ours - theirs).to_numpy()),
                    }
                )
    frame = pd.DataFrame(rows)
    lines = [
        f"# MetaSampler ablation: {args.space}",
        "",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        f"Command: `python benchmarks/metasampler_ablation.py --results {args.results} --space {args.space} "
        f"--prefix {args.prefix}` (runs of `{args.prefix}_{args.space}.csv.gz`).",
        "",
        "Mean regret per dataset (seeds and fold seeds averaged), MetaSampler minus peer:",
        "",
        frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
        "",
    ]
    suffix = "" if args.prefix == "benchmark_discrete" else "_" + args.prefix.removeprefix("benchmark_")
    (results / f"metasampler_ablation_{args.space}{suffix}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
