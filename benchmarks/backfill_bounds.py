"""Record the regret reference of a discrete report made before contexts carried it.

A discrete benchmark normalizes regret per dataset by ``(best, worst)`` over the pool and the peer
evaluations (``autometa.benchmark._discrete.dataset_bounds``). Reports written since record those
bounds in ``<prefix>_context.json``, so that ``autometa benchmark --merge`` can renormalize their
runs when the peer evaluations grow. For an older report this script rebuilds the bounds from the
peer evaluations it was made with (a ``peers.parquet`` file, e.g. taken from the commit whose
knowledge base made it: ``git show COMMIT:autometa/data/kb/lightgbm/peers.parquet > FILE``) and
the current knowledge base, and writes them into the context only if both reproduce the digests
the context recorded; otherwise it changes nothing and says which digest differs.

Usage (what added the bounds of benchmarks/results/benchmark_family_lightgbm_context.json):

    git show 1a98acf:autometa/data/kb/lightgbm/peers.parquet > /tmp/peers_1a98acf.parquet
    python benchmarks/backfill_bounds.py --prefix benchmark_family_lightgbm --peers /tmp/peers_1a98acf.parquet
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from autometa.benchmark import dataset_bounds, read_context, run_context, shipped_settings
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import MetaData


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--peers", required=True, help="the peers.parquet the report was made with")
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--grouping", default="family")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()

    recorded = read_context(args.out, args.prefix)
    if recorded is None:
        raise SystemExit(f"{args.prefix}: no context recorded; nothing to check the bounds against")
    metadata = MetaData.from_knowledge_base(KnowledgeBase(), args.space, args.grouping)
    peers = pd.read_parquet(args.peers)
    peers = peers[peers["dataset"].isin(metadata.datasets)]
    settings = {**shipped_settings(args.space), **recorded["metamodel"]}
    rebuilt = run_context(
        settings,
        metadata.scores.reset_index(names="dataset"),
        peers[["dataset", "peer", "rank", "score", "fit_seconds"]] if len(peers) else None,
        dataset_bounds(metadata, peers),
    )
    differ = [k for k in ("knowledge_base", "peers") if rebuilt[k] != recorded[k]]
    if differ:
        raise SystemExit(
            f"{args.prefix}: the {' and '.join(differ)} digests differ from the recorded context; unchanged"
        )
    path = Path(args.out) / f"{args.prefix}_context.json"
    path.write_text(json.dumps({**recorded, "bounds": rebuilt["bounds"]}, indent=1, sort_keys=True) + "\n")
    print(f"{path}: bounds of {len(rebuilt['bounds'])} datasets recorded (digests verified)")


if __name__ == "__main__":
    main()
