"""Metafeatures of every dataset of the shared corpus: the table, its wall time, and how many
features are informative (finite on every dataset of a task kind, not constant across them).

Usage (what made benchmarks/results/corpus_metafeatures.*):

    OMP_NUM_THREADS=1 python benchmarks/corpus_metafeatures.py --corpus ../shared/datasets/pmlb --out benchmarks/results
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from autometa.corpus import INFO_COLUMNS, metafeature_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="../shared/datasets/pmlb")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    start = time.perf_counter()
    table = metafeature_table(args.corpus, progress=False)
    wall = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "corpus_metafeatures.csv", float_format="%.6g")

    features = table.drop(columns=INFO_COLUMNS)
    kinds = {"classification": table["task"] != "regression", "regression": table["task"] == "regression"}
    lines = [
        "# Handcrafted metafeatures of the whole corpus",
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/corpus_metafeatures.py --corpus {args.corpus} --out {args.out}`",
        "",
        f"- {len(table)} datasets, {features.shape[1]} metafeatures each, none failed to extract.",
        f"- Wall time {wall:.1f} s (reading the files and near-duplicate fingerprints included); "
        f"extraction alone {table['seconds'].sum():.1f} s, median {table['seconds'].median() * 1000:.0f} ms, "
        f"slowest {table['seconds'].max():.1f} s ({table['seconds'].idxmax()}); {os.cpu_count()} cores, one thread.",
        "",
        "| task kind | datasets | finite on every dataset | informative (also not constant) |",
        "|---|---|---|---|",
    ]
    for kind, rows in kinds.items():
        subset = features[rows]
        finite = np.isfinite(subset).all()
        varying = subset.nunique() > 1
        lines.append(f"| {kind} | {int(rows.sum())} | {int(finite.sum())} | {int((finite & varying).sum())} |")
    lines += [
        "",
        "NaN by design: class features on regression, regression-target features on classification,",
        "categorical-level features on data without categorical columns (reasons in `series.attrs['failures']`).",
    ]
    (out / "corpus_metafeatures.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
