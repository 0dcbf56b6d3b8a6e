"""Does advice measured on 2,000 rows hold at full size? (issue: advice that holds at full size)

For every corpus dataset with more than 10,000 rows, evaluates on up to ``--max-rows`` of its
rows (3-fold, the knowledge base's protocol otherwise unchanged: same seed, same folds rule):

- the learner's defaults;
- FLAML's zero-shot configuration, chosen on the rows it is scored on (the capped full-size rows);
- autometa's top 5, from a meta-model refitted without the dataset's family group (the shipped
  method and settings);
- the 16 best pool configurations of the dataset's 2,000-row evaluation.

Each evaluation is one row of ``<out>/full_size_<space>/<dataset>.csv`` (written when the dataset
is done; a dataset whose file exists is skipped, so the run resumes), cheapest datasets first.
``--report`` summarizes whatever is done into ``<out>/full_size_<space>.md``: the Spearman rank
agreement of the pool configurations between 2,000 rows and full size, top-1 and best-of-5
against the defaults and FLAML at full size, and the fit times.

Usage (what made benchmarks/results/full_size_lightgbm.md):

    OMP_NUM_THREADS=1 nice python benchmarks/full_size.py --corpus ../shared/datasets/pmlb --out benchmarks/results
    python benchmarks/full_size.py --corpus ../shared/datasets/pmlb --out benchmarks/results --report
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autometa.benchmark import markdown_table, shipped_settings
from autometa.collect import dataset_cost
from autometa.datasets import load_corpus, read_corpus_index
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import MetaData, MetaModel
from autometa.protocol import Protocol, evaluate, fold_indices, prepare_rows

MIN_ROWS = 10_000
TOP_POOL = 16
TOP_AUTOMETA = 5


def configurations(name: str, metadata: MetaData, pool, settings: dict, rows) -> list[dict]:
    """(source, rank, config_id or None, params) of what is evaluated on one dataset; `pool` is the
    knowledge base's SearchSpace, `settings` the shipped meta-model's (``shipped_settings``)."""
    from autometa.peers import flaml_configuration

    train = metadata.without_group_of(name)
    model = MetaModel(
        metadata.space, settings["method"], neighbours=settings["neighbours"], guard_quantile=settings["guard_quantile"]
    )
    model.fit(train, pool)
    picks, _ = model.rank_pool(metadata.metafeatures.loc[name], TOP_AUTOMETA)
    best_pool = metadata.scores.loc[name].sort_values(ascending=False, kind="stable").index[:TOP_POOL]

    def typed(config_id) -> dict:
        return pool.clip(metadata.configs.loc[int(config_id)].to_dict())

    out = [{"source": "defaults", "rank": 0, "config_id": 0, "params": typed(0)}]
    out += [{"source": "autometa", "rank": r, "config_id": int(c), "params": typed(c)} for r, c in enumerate(picks)]
    out += [{"source": "pool", "rank": r, "config_id": int(c), "params": typed(c)} for r, c in enumerate(best_pool)]
    out.append({"source": "flaml", "rank": 0, "config_id": None, "params": flaml_configuration(rows)})
    return out


def run(args) -> None:
    kb = KnowledgeBase()
    metadata = MetaData.from_knowledge_base(kb, args.space)
    space = kb.space(args.space)
    settings = shipped_settings(args.space)
    protocol = Protocol(folds=3, max_rows=args.max_rows, seed=0)
    entries = {e.name: e for e in read_corpus_index(args.corpus)}
    big = [d for d in metadata.datasets if d in entries and entries[d].n_rows > MIN_ROWS]
    if args.names:
        big = [d for d in big if d in set(args.names)]
    big.sort(key=lambda d: dataset_cost(entries[d], args.max_rows))
    folder = Path(args.out) / f"full_size_{args.space}"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{len(big)} datasets with more than {MIN_ROWS} rows: {', '.join(big)}", flush=True)
    for name in big:
        path = folder / f"{name}.csv"
        if path.is_file():
            continue
        start = time.perf_counter()
        dataset = next(load_corpus(args.corpus, names=[name]))
        rows = prepare_rows(dataset, protocol)
        folds = fold_indices(rows, protocol)
        evaluated: dict[int, object] = {}
        records = []
        for item in configurations(name, metadata, space, settings, rows):
            key = item["config_id"]
            if key is not None and key in evaluated:
                result = evaluated[key]  # the same configuration under two sources: one fit
            else:
                result = evaluate(space, item["params"], rows, protocol, folds)
                if key is not None:
                    evaluated[key] = result
            records.append(
                {
                    "dataset": name,
                    "rows": len(rows.y),
                    "source": item["source"],
                    "rank": item["rank"],
                    "config_id": key,
                    "params": json.dumps(item["params"], sort_keys=True, default=str),
                    "score": result.score,
                    "fit_seconds": result.fit_seconds,
                    "score_2000": float(metadata.scores.loc[name, key]) if key is not None else np.nan,
                    "error": result.error,
                }
            )
        tmp = path.with_suffix(".tmp")
        pd.DataFrame(records).to_csv(tmp, index=False)
        tmp.rename(path)
        print(f"{name}: {len(rows.y)} rows, {time.perf_counter() - start:.0f} s", flush=True)


def _scores(part: pd.DataFrame, source: str) -> np.ndarray:
    return part[part["source"] == source].sort_values("rank")["score"].to_numpy()


def _scores_2000(part: pd.DataFrame, source: str) -> np.ndarray:
    return part[part["source"] == source].sort_values("rank")["score_2000"].to_numpy()


def _shrink(per: pd.DataFrame, label: str, small: str, large: str) -> str:
    """One summary line: a choice's gain over the defaults at 2,000 rows and at full size."""
    a, b = per[small], per[large]
    return (
        f"- {label}: mean {a.mean():+.4f} at 2,000 rows (better on {(a > 0).sum()} of {len(a)}), "
        f"{b.mean():+.4f} at full size (better on {(b > 0).sum()}); paired change {(b - a).mean():+.4f}, "
        f"smaller gain on {(b < a).sum()} of {len(a)}."
    )


def report(args) -> None:
    from scipy.stats import spearmanr

    folder = Path(args.out) / f"full_size_{args.space}"
    frames = [pd.read_csv(p) for p in sorted(folder.glob("*.csv"))]
    if not frames:
        raise SystemExit(f"nothing measured yet in {folder}")
    table = pd.concat(frames, ignore_index=True)
    kb = KnowledgeBase()
    peers = kb.peers(args.space)
    rows = []
    for name, part in table.groupby("dataset", sort=False):
        pool = part[part["config_id"].notna()].drop_duplicates("config_id")
        rho = spearmanr(pool["score_2000"], pool["score"]).statistic if len(pool) > 2 else np.nan
        auto, defaults, flaml = (_scores(part, s) for s in ("autometa", "defaults", "flaml"))
        defaults = defaults[0]
        small = {s: _scores_2000(part, s) for s in ("autometa", "defaults", "pool")}
        best = part["score"].max()
        flaml_2000 = peers[(peers["dataset"] == name) & (peers["peer"] == "flaml")]["score"]
        rows.append(
            {
                "dataset": name,
                "rows": int(part["rows"].iloc[0]),
                "spearman": rho,
                "autometa top-1": auto[0],
                "autometa best of 5": np.nanmax(auto),
                "defaults": defaults,
                "flaml": flaml[0] if len(flaml) else np.nan,
                "best measured": best,
                "best at 2,000 rows, at full size": _scores(part, "pool")[0],
                "top-1 - defaults": auto[0] - defaults,
                "top-1 - flaml": auto[0] - flaml[0] if len(flaml) else np.nan,
                "best of 5 - flaml": np.nanmax(auto) - flaml[0] if len(flaml) else np.nan,
                "best of 5 - defaults": np.nanmax(auto) - defaults,
                "best at 2,000 - defaults": _scores(part, "pool")[0] - defaults,
                "flaml at 2000 rows": float(flaml_2000.iloc[0]) if len(flaml_2000) else np.nan,
                "top-1 - defaults at 2,000": small["autometa"][0] - small["defaults"][0],
                "best of 5 - defaults at 2,000": np.nanmax(small["autometa"]) - small["defaults"][0],
                "best at 2,000 - defaults at 2,000": small["pool"][0] - small["defaults"][0],
                "fit s (median)": part["fit_seconds"].median(),
                "fit s (autometa top-1)": part[part["source"] == "autometa"].sort_values("rank")["fit_seconds"].iloc[0],
                "fit s (defaults)": part[part["source"] == "defaults"]["fit_seconds"].iloc[0],
            }
        )
    per = pd.DataFrame(rows).set_index("dataset")
    lines = [
        f"# Advice at full size: {args.space}",
        "",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        "Command: `OMP_NUM_THREADS=1 nice python benchmarks/full_size.py --corpus ../shared/datasets/pmlb"
        f" --out {args.out} --max-rows {args.max_rows}`, then `--report`.",
        "",
        f"{len(per)} datasets measured so far. Scores: ROC-AUC (macro one-vs-rest for multiclass) or R², "
        "3-fold, on up to the row cap.",
        "",
        "## Summary",
        "",
        f"- Rank agreement of the pool configurations between 2,000 rows and full size (Spearman): median "
        f"{per['spearman'].median():.3f}, mean {per['spearman'].mean():.3f}. Over the evaluated ones only (the 16 "
        "best at 2,000 rows, the defaults and autometa's 5): a narrow range of good configurations, where "
        "agreement is harder than over the whole pool.",
        f"- The best pool configuration at 2,000 rows, at full size, minus the best measured there: mean "
        f"{(per['best at 2,000 rows, at full size'] - per['best measured']).mean():+.4f}; minus the defaults: mean "
        f"{(per['best at 2,000 rows, at full size'] - per['defaults']).mean():+.4f}, better on "
        f"{(per['best at 2,000 rows, at full size'] > per['defaults']).sum()} of {len(per)}.",
        f"- autometa's first suggestion minus the defaults at full size: mean {per['top-1 - defaults'].mean():+.4f}, "
        f"better on {(per['top-1 - defaults'] > 0).sum()} of {len(per)}.",
        f"- autometa's first suggestion minus FLAML at full size: mean {per['top-1 - flaml'].mean():+.4f}, "
        f"better on {(per['top-1 - flaml'] > 0).sum()} of {per['top-1 - flaml'].notna().sum()}.",
        f"- autometa's best of 5 minus FLAML: mean {per['best of 5 - flaml'].mean():+.4f}, "
        f"better on {(per['best of 5 - flaml'] > 0).sum()} of {per['best of 5 - flaml'].notna().sum()}.",
        "",
        "## Does the advice shrink with size?",
        "",
        "The same configurations' gain over the library defaults, on the 2,000-row evaluation of the "
        "knowledge base and at full size (the defaults re-measured at each size):",
        "",
        _shrink(per, "autometa's first suggestion", "top-1 - defaults at 2,000", "top-1 - defaults"),
        _shrink(
            per,
            "autometa's best of 5 (the best of its 5 at each size)",
            "best of 5 - defaults at 2,000",
            "best of 5 - defaults",
        ),
        _shrink(
            per,
            "the best pool configuration at 2,000 rows (an oracle there)",
            "best at 2,000 - defaults at 2,000",
            "best at 2,000 - defaults",
        ),
        "",
        "## Per dataset",
        "",
        markdown_table(per.reset_index(), ".4f", index=False),
        "",
    ]
    (Path(args.out) / f"full_size_{args.space}.md").write_text("\n".join(lines))
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="../shared/datasets/pmlb")
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--max-rows", type=int, default=50_000)
    parser.add_argument("--names", nargs="+")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--report", action="store_true", help="summarize what is measured")
    args = parser.parse_args()
    report(args) if args.report else run(args)


if __name__ == "__main__":
    main()
