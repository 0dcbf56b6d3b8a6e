"""Paired comparison of one method against others, on a discrete benchmark report's runs.

For each budget, per dataset: the method's best-so-far regret minus the other's, each averaged
over fold seeds and seeds first, on the datasets both ran on; mean with a 95% bootstrap interval
over datasets (``autometa.benchmark.paired_difference``) and the datasets each is better on.
Negative favours the method. ``--against runner-up`` compares, at each budget, with the other
method of lowest mean regret there (on the datasets every method ran on). ``--also PREFIX ...``
adds the runs of other reports or selection curves (``transfer_selection.py``'s ``.csv.gz``) made
on the same datasets and fold seeds, for methods the first does not have.

Usage (what made benchmarks/results/paired_<prefix>_<method>.md):

    python benchmarks/paired_comparison.py --prefix benchmark_family_lightgbm --method autometa+transfer \
        --against autometa+metasampler autometa+tpe autometa tpe
"""

from __future__ import annotations

import argparse
import re
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
    parser.add_argument("--also", nargs="+", default=[], metavar="PREFIX", help="more runs: <PREFIX>.csv.gz")
    args = parser.parse_args()
    results = Path(args.results)

    def load(prefix: str) -> pd.DataFrame:
        table = pd.read_csv(results / f"{prefix}.csv.gz")
        return table if "budget" in table.columns else curves_from_runs(table)  # curves already, or runs

    curves = load(args.prefix)
    for prefix in args.also:
        more = load(prefix)
        curves = pd.concat([curves, more[~more["method"].isin(set(curves["method"]))]], ignore_index=True)
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
        f"--against {' '.join(args.against)} --budgets {' '.join(map(str, args.budgets))}"
        + (f" --also {' '.join(args.also)}" if args.also else "")
        + "`",
        "",
        markdown_table(table, index=False),
        "",
    ]
    name = f"paired_{args.prefix}_{re.sub(r'[^A-Za-z0-9.]+', '_', args.method).strip('_')}.md"
    (results / name).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
