"""Sampling overhead of autometa's samplers against Optuna's TPE, measured in the same run.

Each sampler runs a 50-trial study whose objective costs nothing: it returns the knowledge base's
score of the pool configuration nearest to the trial (the same data the discrete benchmark
uses), so the wall time per trial is the sampler's time plus Optuna's own bookkeeping, which
every sampler pays alike. One thread, in-memory storage. Reported per sampler: milliseconds per
trial over all trials and over trials 41-50 (when the study holds 40-49 finished trials), and the
ratio to TPE's. The TransferSampler, the DeepKernelSampler and the MetaSampler read the shipped
meta-models (this is a timing, not a score: that the dataset is in them does not matter). The
DeepKernelSampler's kernel is fine-tuned at every trial; before the study it is loaded (the
shipped kernel) or pretrained (a meta-model of your own): both timed apart, costs a study pays
once, at its start. "prior=1" is the DeepKernelSampler with the neighbours' prior mean (tune's
--sampler deepkernel). "TransferSampler, then DeepKernelSampler, prior=1" is tune's default
(transfer+deepkernel): the pool phase, then the deep kernel with that prior mean; without
"prior=1", the same with FSBO's zero mean.

Usage (what made benchmarks/results/sampler_overhead_<space>.md):

    OMP_NUM_THREADS=1 python benchmarks/sampler_overhead.py --space lightgbm --out benchmarks/results
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

import autometa
from autometa.benchmark import markdown_table
from autometa.deepkernel import PRIOR_WEIGHT
from autometa.knowledge import KnowledgeBase
from autometa.optuna import (
    DeepKernelSampler,
    MetaSampler,
    TransferSampler,
    pretrained_kernel,
    save_pretrained_kernel,
)

DATASETS = ["credit_g", "diabetes", "adult", "1027_ESL", "iris", "spambase", "529_pollen", "vehicle"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--corpus", default="../shared/datasets/pmlb")
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kb = KnowledgeBase()
    space = kb.space(args.space)
    evaluations = kb.evaluations(args.space)
    configs = evaluations.drop_duplicates("config_id").set_index("config_id")[list(space.params)].sort_index()
    units = space.to_unit(configs).to_numpy(dtype=float)
    rows = []
    start = time.perf_counter()
    kernel = pretrained_kernel(space=args.space)  # the shipped kernel, where one ships
    loading = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        save_pretrained_kernel("default", folder, space=args.space)
        pretraining = time.perf_counter() - start
    for name in args.datasets:
        data = autometa.load_dataset(Path(args.corpus) / f"{name}.tsv.gz")
        scores = evaluations[evaluations.dataset == name].set_index("config_id")["score"].reindex(configs.index)

        def objective(trial, scores=scores):
            config = space.suggest(trial)
            point = np.array([float(space.params[k].to_unit(config[k])) for k in space.params])
            value = float(scores.iloc[int(np.argmin(np.square(units - point).sum(axis=1)))])
            return value if np.isfinite(value) else float("nan")

        makers = {
            "tpe (multivariate)": lambda: optuna.samplers.TPESampler(multivariate=True, seed=0),
            "TransferSampler": lambda data=data: TransferSampler(data, space=args.space, seed=0),
            "DeepKernelSampler": lambda data=data: DeepKernelSampler(data, space=args.space, kernel=kernel, seed=0),
            f"DeepKernelSampler, prior={PRIOR_WEIGHT:g}": lambda data=data: DeepKernelSampler(
                data, space=args.space, kernel=kernel, seed=0, prior=PRIOR_WEIGHT
            ),
            "TransferSampler, then DeepKernelSampler": lambda data=data: TransferSampler(
                data,
                space=args.space,
                seed=0,
                base_sampler=DeepKernelSampler(data, space=args.space, kernel=kernel, seed=0),
            ),
            f"TransferSampler, then DeepKernelSampler, prior={PRIOR_WEIGHT:g} (tune's default)": lambda data=data: (
                TransferSampler(
                    data,
                    space=args.space,
                    seed=0,
                    base_sampler=DeepKernelSampler(data, space=args.space, kernel=kernel, seed=0, prior=PRIOR_WEIGHT),
                )
            ),
        }
        if args.space == "lightgbm":
            makers["MetaSampler"] = lambda data=data: MetaSampler(data, space=args.space, seed=0)
        for sampler_name, make in makers.items():
            sampler = make()  # construction (loading the meta-model, describing the data) is not timed
            study = optuna.create_study(direction="maximize", sampler=sampler)
            times = []
            for _ in range(args.trials):
                start = time.perf_counter()
                study.optimize(objective, n_trials=1)
                times.append(time.perf_counter() - start)
            rows.append(
                {
                    "dataset": name,
                    "sampler": sampler_name,
                    "ms per trial": 1000 * float(np.mean(times)),
                    "ms per trial 41-50": 1000 * float(np.mean(times[40:50])),
                }
            )
        print(name, flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("sampler")[["ms per trial", "ms per trial 41-50"]].mean()
    tpe = summary.loc["tpe (multivariate)"]
    summary["ratio to TPE"] = summary["ms per trial"] / tpe["ms per trial"]
    summary["ratio to TPE, 41-50"] = summary["ms per trial 41-50"] / tpe["ms per trial 41-50"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Sampling overhead: {args.space}",
        "",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/sampler_overhead.py --space {args.space} --trials {args.trials} "
        f"--datasets {' '.join(args.datasets)} --out {args.out}`",
        "",
        f"Mean over {len(args.datasets)} datasets, {args.trials} trials each. Once a study, before its "
        f"first trial, the DeepKernelSampler's kernel took {loading:.2f} s to get (the shipped one: loaded where it "
        f"ships) and {pretraining:.1f} s to pretrain from scratch (a meta-model of your own):",
        "",
        markdown_table(summary, ".2f"),
        "",
        "Per dataset:",
        "",
        markdown_table(table.set_index(["dataset", "sampler"]), ".2f"),
        "",
    ]
    (out / f"sampler_overhead_{args.space}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
