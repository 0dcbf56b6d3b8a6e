"""Collector throughput with 1 and 2 local worker processes, measured in one run.

The same datasets and pool (the defaults plus ``--configs`` Sobol points of the lightgbm
space), each setting on a fresh SQLite storage and output folder, one after the other on an
otherwise idle machine. Throughput = evaluations / wall seconds of ``autometa.collect.collect``
(process start-up, storage and export included).

Usage (what made benchmarks/results/collect_throughput.md):

    python benchmarks/collect_throughput.py --corpus ../shared/datasets/pmlb --out benchmarks/results
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from autometa.collect import Plan, collect
from autometa.datasets import read_corpus_index

DATASETS = ["iris", "wine_quality_red", "credit_g", "pima", "1027_ESL", "529_pollen", "vehicle", "breast_w"]


def run(corpus: str, workers: int, configs: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        plan = Plan(
            corpus=corpus, space="lightgbm", storage=f"sqlite:///{folder}/s.db", out=f"{folder}/kb", n_configs=configs
        )
        start = time.perf_counter()
        results = collect(plan, names=DATASETS, workers=workers, progress=False)
        seconds = time.perf_counter() - start
    evaluations = sum(r["evaluated"] for r in results)
    return {
        "workers": workers,
        "datasets": len(results),
        "evaluations": evaluations,
        "seconds": seconds,
        "evaluations_per_s": evaluations / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="../shared/datasets/pmlb")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--configs", type=int, default=32)
    args = parser.parse_args()
    known = {e.name for e in read_corpus_index(args.corpus)}
    assert set(DATASETS) <= known, set(DATASETS) - known
    rows = [run(args.corpus, workers, args.configs) for workers in (1, 2)]
    table = pd.DataFrame(rows)
    table["speedup"] = table["evaluations_per_s"] / table["evaluations_per_s"].iloc[0]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "collect_throughput.csv", index=False)
    lines = [
        "# Collector throughput, 1 vs 2 local workers (one run)",
        "",
        f"{len(DATASETS)} corpus datasets ({', '.join(DATASETS)}), lightgbm pool of {args.configs + 1} "
        f"configurations, 3-fold CV, SQLite storage; {os.cpu_count()} cores.",
        "",
        "Command: `python benchmarks/collect_throughput.py --corpus ../shared/datasets/pmlb --out benchmarks/results`",
        "",
        "| workers | evaluations | wall (s) | evaluations / s | speed-up |",
        "|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.workers} | {r.evaluations} | {r.seconds:.1f} | {r.evaluations_per_s:.2f} | {r.speedup:.2f}x |"
        )
    (out / "collect_throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
