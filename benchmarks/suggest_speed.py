"""How long `autometa.suggest` takes end to end on a 100,000 x 100 dataset, and how long the
meta-model takes to load.

The data: 100,000 rows x 100 float columns, a binary target (numpy, seed 0). One warm-up call
(imports), then the median of ``--repeats`` calls of ``autometa.suggest((X, y), n=5)`` with the
given meta-model: data typing, metafeature extraction, the meta-model's suggestion. The load
time is the median of ``MetaModel.load`` on the same folder.

Usage (what made benchmarks/results/suggest_speed.md):

    OMP_NUM_THREADS=1 python benchmarks/suggest_speed.py --out benchmarks/results [--metamodel FOLDER]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

import autometa
from autometa.metamodel import MetaModel, shipped_metamodel_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metamodel", help="meta-model folder (default: the shipped one)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    folder = Path(args.metamodel) if args.metamodel else shipped_metamodel_path("lightgbm")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 100))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=100_000) > 0).astype(int)

    loads = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        model = MetaModel.load(folder)
        loads.append(time.perf_counter() - start)
    autometa.suggest((X[:2000], y[:2000]), metamodel=model)  # warm-up: imports
    calls = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        suggestions = autometa.suggest((X, y), n=5, metamodel=folder)
        calls.append(time.perf_counter() - start)
    lines = [
        "# autometa.suggest speed",
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/suggest_speed.py --out {args.out}`"
        + (f" `--metamodel {args.metamodel}`" if args.metamodel else ""),
        "",
        f"Meta-model: {model.method} ({folder.name}); machine: {os.cpu_count()} cores, one thread.",
        "",
        "| what | median (s) | runs (s) |",
        "|---|---|---|",
        f"| MetaModel.load | {statistics.median(loads):.3f} | {', '.join(f'{v:.3f}' for v in loads)} |",
        f"| suggest, 100,000 x 100, n=5 (load + metafeatures + suggestion) | {statistics.median(calls):.3f} "
        f"| {', '.join(f'{v:.3f}' for v in calls)} |",
        "",
        f"First suggestion: {suggestions[0].because}",
    ]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "suggest_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
