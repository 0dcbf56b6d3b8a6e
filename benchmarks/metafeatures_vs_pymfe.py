"""Our handcrafted metafeatures against pymfe's default groups, side by side in one run.

1. Speed: numeric two-class data (sklearn make_classification, seed 0) at 10,000 x 50 and
   50,000 x 100; wall time of ``metafeatures.extract`` (default groups and row cap) and of
   ``pymfe.MFE()`` (its default groups: general, statistical, info-theory, model-based,
   landmarking; summary mean and sd). Both run with one BLAS/OpenMP thread, one after the other.
2. Informative features: on every classification dataset of the corpus with at most
   ``--sample-max-rows`` rows and 100 features, a feature is informative when it is finite on
   every dataset and not constant across them. Counted for both extractors on the same datasets.

Usage (what made benchmarks/results/metafeatures_vs_pymfe.*):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/metafeatures_vs_pymfe.py \
        --corpus ../shared/datasets/pmlb --out benchmarks/results
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import metafeatures  # noqa: E402
from autometa.datasets import load_corpus, read_corpus_index  # noqa: E402


def _pymfe(X: np.ndarray, y: np.ndarray) -> pd.Series:
    from pymfe.mfe import MFE

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extractor = MFE(random_state=0)
        extractor.fit(X, y, suppress_warnings=True)
        names, values = extractor.extract(suppress_warnings=True)
    return pd.Series(np.asarray(values, dtype=float), index=names)


def speed(sizes: list[tuple[int, int]]) -> pd.DataFrame:
    from sklearn.datasets import make_classification

    rows = []
    for n, p in sizes:
        X, y = make_classification(n_samples=n, n_features=p, n_informative=min(p // 2, 10), random_state=0)
        start = time.perf_counter()
        ours = metafeatures.extract(X, y)
        ours_s = time.perf_counter() - start
        print(f"{n} x {p}: ours {ours_s:.2f} s", flush=True)
        start = time.perf_counter()
        theirs = _pymfe(X, y)
        pymfe_s = time.perf_counter() - start
        print(f"{n} x {p}: pymfe {pymfe_s:.1f} s", flush=True)
        rows.append(
            {
                "rows": n,
                "features": p,
                "ours_s": ours_s,
                "pymfe_s": pymfe_s,
                "speedup": pymfe_s / ours_s,
                "ours_finite": int(np.isfinite(ours).sum()),
                "ours_total": ours.size,
                "pymfe_finite": int(np.isfinite(theirs).sum()),
                "pymfe_total": theirs.size,
            }
        )
    return pd.DataFrame(rows)


def informative(corpus: Path, max_rows: int) -> tuple[pd.DataFrame, list[str]]:
    names = [
        e.name
        for e in read_corpus_index(corpus)
        if e.task != "regression" and e.n_rows <= max_rows and e.n_features <= 100
    ]
    ours, theirs, seconds = {}, {}, {"ours": 0.0, "pymfe": 0.0}
    for dataset in load_corpus(corpus, names=names):
        start = time.perf_counter()
        ours[dataset.name] = metafeatures.extract(dataset)
        seconds["ours"] += time.perf_counter() - start
        # pymfe takes numbers: categoricals as their integer codes (the corpus's own encoding).
        X = np.column_stack(
            [
                dataset.X[c].cat.codes.to_numpy(dtype=float)
                if c in dataset.categorical
                else dataset.X[c].to_numpy(dtype=float)
                for c in dataset.X.columns
            ]
        )
        start = time.perf_counter()
        theirs[dataset.name] = _pymfe(X, dataset.y.cat.codes.to_numpy())
        seconds["pymfe"] += time.perf_counter() - start
    rows = []
    for label, table in (("ours", pd.DataFrame(ours).T), ("pymfe", pd.DataFrame(theirs).T)):
        finite = np.isfinite(table).all()
        varying = table.nunique() > 1
        rows.append(
            {
                "extractor": label,
                "datasets": len(table),
                "features": table.shape[1],
                "finite_on_all": int(finite.sum()),
                "informative": int((finite & varying).sum()),
                "total_s": seconds[label],
            }
        )
    return pd.DataFrame(rows), names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="../shared/datasets/pmlb")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--sample-max-rows", type=int, default=2000)
    parser.add_argument("--sizes", default="10000x50,50000x100")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    counts, names = informative(Path(args.corpus), args.sample_max_rows)
    print(counts.to_string(index=False), flush=True)
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    timings = speed(sizes)
    timings.to_csv(out / "metafeatures_vs_pymfe_speed.csv", index=False)
    counts.to_csv(out / "metafeatures_vs_pymfe_informative.csv", index=False)

    import pymfe
    import sklearn

    lines = [
        "# Handcrafted metafeatures: autometa vs pymfe (default groups)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; one BLAS thread; "
        f"pymfe {pymfe.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}.",
        "",
        "Command: `OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/metafeatures_vs_pymfe.py "
        f"--corpus {args.corpus} --out {args.out}`",
        "",
        "## Speed (numeric, 2 classes, make_classification seed 0)",
        "",
        "| rows x features | ours (s) | pymfe (s) | speed-up | ours finite / total | pymfe finite / total |",
        "|---|---|---|---|---|---|",
    ]
    for r in timings.itertuples():
        lines.append(
            f"| {r.rows:,} x {r.features} | {r.ours_s:.2f} | {r.pymfe_s:.1f} | {r.speedup:.0f}x "
            f"| {r.ours_finite} / {r.ours_total} | {r.pymfe_finite} / {r.pymfe_total} |"
        )
    lines += [
        "",
        f"## Informative features on {len(names)} corpus classification datasets "
        f"(<= {args.sample_max_rows:,} rows, <= 100 features)",
        "",
        "Informative: finite on every one of these datasets and not constant across them.",
        "",
        "| extractor | features | finite on all | informative | total extraction time (s) |",
        "|---|---|---|---|---|",
    ]
    for r in counts.itertuples():
        lines.append(f"| {r.extractor} | {r.features} | {r.finite_on_all} | {r.informative} | {r.total_s:.1f} |")
    (out / "metafeatures_vs_pymfe.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
