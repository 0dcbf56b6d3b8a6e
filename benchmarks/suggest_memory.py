"""Peak memory and wall time of `autometa.suggest` on a 1,000,000 x 500 float32 dataset (issue 7).

Runs in a fresh process: builds the array (seed 0; a binary target from two columns), then one
``autometa.suggest((X, y), n=5)`` call with the given meta-model. Reports the process's peak
resident memory (``ru_maxrss``, which includes the 1.9 GiB array itself) and the time of the
call; the budget is 4 GiB and 30 s on the 2-core machine. With ``--tune-trials N`` (issue 20), one
``autometa.tune((X, y), trials=N, max_rows=--tune-max-rows)`` follows in the same process: its wall
time, the process's peak memory after it, and the subsample it says it cross-validated on.

Usage (what made benchmarks/results/suggest_memory.md):

    OMP_NUM_THREADS=1 python benchmarks/suggest_memory.py --out benchmarks/results [--rows N --cols M]
        [--tune-trials 3 --tune-max-rows 20000]
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
    parser.add_argument("--tune-trials", type=int, default=0, help="then tune this many trials (0: no tune)")
    parser.add_argument("--tune-max-rows", type=int, default=20_000, help="tune's --max-rows")
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
    tuned = []
    if args.tune_trials:
        import contextlib
        import io

        said = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stderr(said):  # tune says what it subsampled on stderr
            result = autometa.tune((X, y), trials=args.tune_trials, max_rows=args.tune_max_rows, progress=True)
        tune_seconds = time.perf_counter() - start
        tune_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        message = next((line for line in said.getvalue().splitlines() if "subsample" in line), "(nothing)")
        tuned = [
            "",
            f"Then `autometa.tune((X, y), trials={args.tune_trials}, max_rows={args.tune_max_rows})` in the same process:",
            "",
            "| what | value |",
            "|---|---|",
            f"| tune wall time ({args.tune_trials} trials, 3-fold, sampler {result['sampler']}) | {tune_seconds:.1f} s |",
            f"| peak resident memory of the process after it | {tune_peak:.2f} GiB |",
            f"| rows cross-validated / rows of the data | {result['rows']:,} / {result['dataset_rows']:,} |",
            f"| first suggestions measured on up to | {result['advice_max_rows']:,} rows |",
            f"| best score (ROC-AUC) | {result['best_score']:.4f} |",
            "",
            f"What tune said: `{message.strip()}`",
        ]
    lines = [
        "# autometa.suggest on a large dataset: peak memory and time",
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/suggest_memory.py --out {args.out}"
        + (f" --rows {args.rows} --cols {args.cols}" if (args.rows, args.cols) != (1_000_000, 500) else "")
        + (f" --tune-trials {args.tune_trials} --tune-max-rows {args.tune_max_rows}" if args.tune_trials else "")
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
        *tuned,
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
