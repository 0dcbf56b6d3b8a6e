"""Does a cheaper first pass rank a space's configurations as the knowledge base's protocol does?

Before a space's full collection (257 configurations x every corpus dataset), this measures
whether a cheaper pass would do: the same pool configurations cross-validated with the
knowledge base's protocol (3-fold, at most 2,000 rows, seed 0: ``autometa.protocol.evaluate``,
what the collector runs) and with cheaper variants of it:

- ``rows=R``: at most R rows instead of 2,000;
- ``trees<=T``: every configuration's number of trees capped at T (the other parameters kept).

Per dataset and variant: the Spearman correlation of the configurations' scores with the
protocol's; the regret, under the protocol, of the configuration the cheap pass ranks first
(normalized by the range of the protocol's scores over these configurations, 0 = the best);
how many of the protocol's top 5 the cheap pass's top 5 holds; and the summed fit time, as a
share of the protocol's (measured in the same run, one thread). Datasets: a seeded draw among
the corpus datasets with at least 2,000 rows (where the row cap binds).

Usage (what made benchmarks/results/cheap_pass_<space>.md):

    OMP_NUM_THREADS=1 python benchmarks/cheap_pass.py --space random_forest --out benchmarks/results
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

import autometa
from autometa.benchmark import markdown_table
from autometa.datasets import read_corpus_index
from autometa.protocol import Protocol, evaluate, prepare_rows
from autometa.spaces import get_space


def variants(rows: list[int], trees: list[int]) -> dict[str, tuple[int, int | None]]:
    """Name -> (row cap, tree cap); the first is the knowledge base's protocol."""
    out = {"protocol (2000 rows)": (2000, None)}
    out.update({f"rows={r}": (r, None) for r in rows})
    out.update({f"trees<={t}": (2000, t) for t in trees})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="random_forest")
    parser.add_argument("--corpus", default="../shared/datasets/pmlb")
    parser.add_argument("--datasets", type=int, default=8, help="how many datasets to draw")
    parser.add_argument("--draw-seed", type=int, default=0)
    parser.add_argument("--configs", type=int, default=32, help="pool configurations (the defaults first)")
    parser.add_argument("--rows", type=int, nargs="*", default=[500, 1000])
    parser.add_argument("--trees", type=int, nargs="*", default=[32])
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    space = get_space(args.space)
    trees_param = "n_estimators"
    if args.trees and trees_param not in space.params:
        parser.error(f"--trees needs a space with {trees_param!r}; {args.space!r} has {list(space.params)}")
    entries = [e for e in read_corpus_index(args.corpus) if e.n_rows >= 2000 and e.task in space.tasks]
    rng = np.random.default_rng(args.draw_seed)
    chosen = sorted(rng.choice(len(entries), size=min(args.datasets, len(entries)), replace=False))
    pool = space.pool(256)[: args.configs]
    named = variants(args.rows, args.trees)
    rows = []
    started = time.perf_counter()
    for index in chosen:
        entry = entries[index]
        dataset = autometa.load_dataset(Path(args.corpus) / entry.file)
        for name, (max_rows, max_trees) in named.items():
            protocol = Protocol(max_rows=max_rows)
            capped = prepare_rows(dataset, protocol)
            for config_id, params in enumerate(pool):
                params = dict(params)
                if max_trees is not None:
                    params[trees_param] = min(params[trees_param], max_trees)
                result = evaluate(space, params, capped, protocol)
                rows.append(
                    {
                        "dataset": entry.name,
                        "task": dataset.task,
                        "variant": name,
                        "config_id": config_id,
                        "score": result.score,
                        "fit_seconds": result.fit_seconds,
                    }
                )
        print(f"{entry.name}: {time.perf_counter() - started:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    report(table, args, list(named))


def compare(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """One row per (dataset, cheap variant): agreement with the protocol's ranking, and cost."""
    out = []
    for dataset, group in table.groupby("dataset", sort=False):
        wide = group.pivot(index="config_id", columns="variant", values="score")
        seconds = group.groupby("variant")["fit_seconds"].sum()
        full = wide[names[0]]
        spread = full.max() - full.min()
        top5 = set(full.nlargest(5).index)
        for name in names[1:]:
            cheap = wide[name]
            both = full.notna() & cheap.notna()
            out.append(
                {
                    "dataset": dataset,
                    "variant": name,
                    "spearman": float(spearmanr(full[both], cheap[both]).statistic),
                    "regret of its first": float((full.max() - full[cheap.idxmax()]) / spread) if spread > 0 else 0.0,
                    "top-5 overlap": len(top5 & set(cheap.nlargest(5).index)),
                    "time share": float(seconds[name] / seconds[names[0]]),
                }
            )
    return pd.DataFrame(out)


def report(table: pd.DataFrame, args, names: list[str]) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"cheap_pass_{args.space}.csv", index=False)
    per = compare(table, names)
    summary = per.groupby("variant", sort=False)[["spearman", "regret of its first", "top-5 overlap", "time share"]]
    summary = summary.agg(["median", "mean"])
    summary.columns = [f"{a} ({b})" for a, b in summary.columns]
    command = (
        f"OMP_NUM_THREADS=1 python benchmarks/cheap_pass.py --space {args.space} --datasets {args.datasets} "
        f"--draw-seed {args.draw_seed} --configs {args.configs} --rows {' '.join(map(str, args.rows))} "
        f"--trees {' '.join(map(str, args.trees))} --out {args.out}"
    )
    lines = [
        f"# A cheaper first pass for {args.space}?",
        "",
        " ".join(part.replace("\n", " ") for part in __doc__.split("\n\n")[1:4]),
        "",
        f"Command: `{command}`",
        "",
        f"{per.dataset.nunique()} datasets, {args.configs} pool configurations each (the defaults and the first "
        f"{args.configs - 1} Sobol points); the protocol's fit time: "
        f"{table[table.variant == names[0]].fit_seconds.sum():.0f} s in all.",
        "",
        markdown_table(summary, ".3f"),
        "",
        "Per dataset:",
        "",
        markdown_table(per.set_index(["dataset", "variant"]), ".3f"),
        "",
    ]
    (out / f"cheap_pass_{args.space}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
