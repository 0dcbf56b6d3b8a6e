"""Peak memory and wall time of `autometa.suggest` on a 1,000,000 x 500 float32 dataset (issue 7).

Runs in a fresh process: builds the array (seed 0; a binary target from two columns), then one
``autometa.suggest((X, y), n=5)`` call with the given meta-model. Reports the process's peak
resident memory (``ru_maxrss``, which includes the 1.9 GiB array itself) and the time of the
call; the budget is 4 GiB and 30 s on the 2-core machine.

Usage (what made benchmarks/results/suggest_memory.md):

    OMP_NUM_THREADS=1 python benchmarks/suggest_memory.py --out benchmarks/results [--rows N --cols M]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=500)
    parser.add_argument("--metamodel", default="default")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    import autometa

    rng = np.random.default_rng(0)
    X = np.empty((args.rows, args.cols), dtype=np.float32)
    for j in range(0, args.cols, 50):  # fill in slices: no float64 temporary of the whole array
        X[:, j : j + 50] = rng.standard_normal((args.rows, min(50, args.cols - j)), dtype=np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int8)
    data_gib = (X.nbytes + y.nbytes) / 2**30
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    start = time.perf_counter()
    suggestions = autometa.suggest((X, y), n=5, metamodel=args.metamodel)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB on Linux
    from autometa.metamodel import MetaModel, fidelity_folder, shipped_metamodel_path

    # Which meta-model advised: on this many rows, a shipped second fidelity where one applies.
    folder = shipped_metamodel_path("lightgbm") if args.metamodel == "default" else Path(args.metamodel)
    cap = MetaModel.load(fidelity_folder(folder, args.rows, "binary")).max_rows
    lines = [
        "# autometa.suggest on a large dataset: peak memory and time",
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/suggest_memory.py --out {args.out}"
        + (f" --rows {args.rows} --cols {args.cols}" if (args.rows, args.cols) != (1_000_000, 500) else "")
        + "`",
        "",
        f"Data: {args.rows:,} x {args.cols} float32 + int8 target = {data_gib:.2f} GiB; machine: "
        f"{os.cpu_count()} cores, one thread.",
        "",
        "| what | value | budget |",
        "|---|---|---|",
        f"| peak resident memory of the process (data included) | {peak:.2f} GiB | 4 GiB |",
        f"| peak before the call (data built) | {before:.2f} GiB | |",
        f"| suggest wall time (typing, metafeatures, meta-model) | {seconds:.1f} s | 30 s |",
        "",
        f"Advice from the meta-model measured on up to {cap:,} rows a dataset. "
        f"First suggestion: {suggestions[0].because}",
    ]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = (
        "suggest_memory.md"
        if (args.rows, args.cols) == (1_000_000, 500)
        else f"suggest_memory_{args.rows}x{args.cols}.md"
    )
    (out / name).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
