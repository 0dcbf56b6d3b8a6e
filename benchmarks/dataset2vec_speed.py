"""Dataset2Vec speed: training throughput per device, and embedding time of a large dataset.

Measured (one process, ``torch.set_num_threads(--threads)``):

- training: ``--steps`` steps of the shipped architecture on the corpus datasets (pairs of
  subsamples per second, and seconds per epoch of 50 steps), after one warm-up step;
- embedding: ``Dataset2Vec.transform`` of a 100,000 x 100 float table (binary target), which
  encodes the table (a stratified 2,048-row subsample, scaling) and averages 16 subsample
  embeddings; median of ``--repeats`` runs, the first call excluded.

CUDA rows appear when torch sees a GPU; the speed-up is GPU over CPU pairs per second from the
same run. Usage (what made benchmarks/results/dataset2vec_speed.*):

    OMP_NUM_THREADS=1 python benchmarks/dataset2vec_speed.py --corpus ../shared/datasets/pmlb --out benchmarks/results
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from autometa.encoder import corpus_tables, default_encoder_path, load_encoder, make_encoder


def training_throughput(tables, groups, device: str, steps: int) -> dict:
    encoder = make_encoder(device=device, steps=1, epochs=1)
    encoder.fit(tables, groups)  # builds the network; one warm-up epoch of one step
    rng = np.random.default_rng(0)
    names = sorted(tables)
    optimizer = torch.optim.Adam(encoder.net_.parameters(), lr=1e-3)
    target = torch.device(device)
    encoder.net_.train()
    if target.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        batch = encoder._pairs(names, tables, groups, encoder.training.batch_pairs, rng)
        loss = encoder._loss(batch, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if target.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    pairs = steps * encoder.training.batch_pairs
    return {
        "device": device,
        "steps": steps,
        "pairs_per_second": pairs / seconds,
        "seconds_per_epoch_of_50_steps": seconds / steps * 50,
    }


def embedding_time(device: str, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(100_000, 100)).astype(np.float32), columns=[f"x{i}" for i in range(100)])
    y = pd.Series((X["x0"] > 0).astype(int))
    encoder = load_encoder(default_encoder_path(), device=device)
    encoder.transform(X, y)  # first call: allocations, lazy initialisation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        encoder.transform(X, y)
        times.append(time.perf_counter() - start)
    return {
        "device": device,
        "rows": 100_000,
        "columns": 100,
        "median_seconds": statistics.median(times),
        "max_seconds": max(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    tables, groups = corpus_tables(args.corpus)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    training = pd.DataFrame([training_throughput(tables, groups, d, args.steps) for d in devices])
    embedding = pd.DataFrame([embedding_time(d, args.repeats) for d in devices])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    training.to_csv(out / "dataset2vec_speed_training.csv", index=False, float_format="%.4g")
    embedding.to_csv(out / "dataset2vec_speed_embedding.csv", index=False, float_format="%.4g")
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none visible to torch"
    lines = [
        "# Dataset2Vec speed",
        "",
        f"Machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} CPU thread(s); GPU: {gpu}.",
        "",
        f"Command: `OMP_NUM_THREADS=1 python benchmarks/dataset2vec_speed.py --corpus {args.corpus} --out {args.out}`",
        "",
        f"Training (shipped architecture, corpus subsamples, one step = {make_encoder().training.batch_pairs} pairs):",
        "",
        training.to_string(index=False, float_format=lambda v: f"{v:.3g}"),
        "",
        "Embedding of a 100,000 x 100 float table (encode + 16 subsamples):",
        "",
        embedding.to_string(index=False, float_format=lambda v: f"{v:.3g}"),
        "",
    ]
    if len(devices) > 1:
        ratio = (
            training.set_index("device").loc["cuda", "pairs_per_second"]
            / training.set_index("device").loc["cpu", "pairs_per_second"]
        )
        lines += [f"GPU speed-up of training over CPU, same run: {ratio:.1f}x", ""]
    else:
        lines += ["No CUDA device in this run: the GPU rows are missing, not zero.", ""]
    (out / "dataset2vec_speed.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
