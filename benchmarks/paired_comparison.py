"""Paired comparison of one method against others, on a discrete benchmark report's runs.

For each budget, per dataset: the method's best-so-far regret minus the other's, each averaged
over fold seeds and seeds first, on the datasets both ran on; mean with a 95% bootstrap interval
over datasets (``autometa.benchmark.paired_difference``) and the datasets each is better on.
Negative favours the method. ``--against runner-up`` compares, at each budget, with the other
method of lowest mean regret there (on the datasets every method ran on).

Usage (what made benchmarks/results/paired_<prefix>_<method>.md):

    python benchmarks/paired_comparison.py --prefix benchmark_family_lightgbm --method autometa+transfer \
        --against autometa+metasampler autometa+tpe autometa tpe
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from autometa.benchmark import curves_from_runs, markdown_table, paired_difference

BUDGETS = (1, 3, 5, 10, 20, 30, 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default="benchmarks/results")
    parser.add_argument("--prefix", required=True, help="the benchmark report: <prefix>.csv.gz")
    parser.add_argument("--method", required=True)
    parser.add_argument("--against", nargs="+", required=True)
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    args = parser.parse_args()
    results = Path(args.results)
    curves = curves_from_runs(pd.read_csv(results / f"{args.prefix}.csv.gz"))
    per_dataset = curves.groupby(["method", "dataset", "budget"])["regret"].mean().unstack("method")
    rows = []
    common = per_dataset.dropna()
    for other_name in args.against:
        for k in args.budgets:
            other = other_name
            if other_name == "runner-up":
                at = common.xs(k, level="budget").drop(columns=[args.method]).mean()
                other = str(at.idxmin())
            both = per_dataset.xs(k, level="budget")[[args.method, other]].dropna()
            rows.append(
                {
                    "against": other if other_name == other else f"runner-up: {other}",
                    "trials": k,
                    "datasets": len(both),
                    "method's mean": both[args.method].mean(),
                    "other's mean": both[other].mean(),
                    **paired_difference((both[args.method] - both[other]).to_numpy()),
                }
            )
    table = pd.DataFrame(rows)
    lines = [
        f"# {args.method} against {', '.join(args.against)} ({args.prefix})",
        "",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        f"Command: `python benchmarks/paired_comparison.py --prefix {args.prefix} --method {args.method} "
        f"--against {' '.join(args.against)} --budgets {' '.join(map(str, args.budgets))}`",
        "",
        markdown_table(table, index=False),
        "",
    ]
    name = f"paired_{args.prefix}_{args.method.replace('+', '_')}.md"
    (results / name).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
