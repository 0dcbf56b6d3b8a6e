"""Does advice measured on 2,000 rows hold at full size? (issue: advice that holds at full size)

For every corpus dataset with more than 10,000 rows, evaluates on up to ``--max-rows`` of its
rows (3-fold, the knowledge base's protocol otherwise unchanged: same seed, same folds rule):

- the learner's defaults;
- FLAML's zero-shot configuration, chosen on the rows it is scored on (the capped full-size rows);
- autometa's top 5, from a meta-model refitted without the dataset's family group (the shipped
  method and settings);
- the 16 best pool configurations of the dataset's 2,000-row evaluation;
- with ``--fidelity N``: the top 5 of the meta-model learned from the knowledge base's second
  fidelity (a pool subset measured on up to N rows, ``autometa collect --max-rows N
  --config-ids ...``), refitted without the dataset's family group (source ``autometa-sized``).

Each evaluation is one row of ``<out>/full_size_<space>/<dataset>.csv`` (written when the dataset
is done, cheapest datasets first); a re-run adds only the (source, rank) rows a file lacks, and
measures a configuration once per dataset, so the run resumes and takes new sources.
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
COLUMNS = ["dataset", "rows", "source", "rank", "config_id", "params", "score", "fit_seconds", "score_2000", "error"]
TOP_POOL = 16
TOP_AUTOMETA = 5


def configurations(name: str, metadata: MetaData, pool, settings: dict, sized: MetaData | None = None) -> list[dict]:
    """(source, rank, config_id, params) of the pool configurations evaluated on one dataset
    (FLAML's, chosen on the rows, is added by ``run``); `pool` is the knowledge base's
    SearchSpace, `settings` the shipped meta-model's (``shipped_settings``); `sized`: the
    knowledge base's second fidelity, whose meta-model gives the ``autometa-sized`` source."""

    def top(train: MetaData) -> list[int]:
        model = MetaModel(
            metadata.space,
            settings["method"],
            neighbours=settings["neighbours"],
            guard_quantile=settings["guard_quantile"],
        )
        picks, _ = model.fit(train, pool).rank_pool(metadata.metafeatures.loc[name], TOP_AUTOMETA)
        return [int(c) for c in picks]

    def typed(config_id) -> dict:
        return pool.clip(metadata.configs.loc[int(config_id)].to_dict())

    best_pool = metadata.scores.loc[name].sort_values(ascending=False, kind="stable").index[:TOP_POOL]
    out = [{"source": "defaults", "rank": 0, "config_id": 0, "params": typed(0)}]
    sources = {"autometa": top(metadata.without_group_of(name)), "pool": [int(c) for c in best_pool]}
    if sized is not None:  # the fidelity's meta-model, refitted without the dataset's family group
        group = metadata.groups.loc[name]
        sources["autometa-sized"] = top(sized.subset([d for d in sized.datasets if sized.groups.loc[d] != group]))
    for source, ids in sources.items():
        out += [{"source": source, "rank": r, "config_id": c, "params": typed(c)} for r, c in enumerate(ids)]
    return out


def run(args) -> None:
    from autometa.peers import flaml_configuration

    kb = KnowledgeBase()
    metadata = MetaData.from_knowledge_base(kb, args.space)
    space = kb.space(args.space)
    settings = shipped_settings(args.space)
    sized = MetaData.from_knowledge_base(kb, args.space, rows=args.fidelity) if args.fidelity else None
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
        done = pd.read_csv(path) if path.is_file() else pd.DataFrame(columns=COLUMNS)
        have = set(zip(done["source"], done["rank"]))
        items = [
            i for i in configurations(name, metadata, space, settings, sized) if (i["source"], i["rank"]) not in have
        ]
        if not items and ("flaml", 0) in have:
            continue
        start = time.perf_counter()
        dataset = next(load_corpus(args.corpus, names=[name]))
        rows = prepare_rows(dataset, protocol)
        folds = fold_indices(rows, protocol)
        if ("flaml", 0) not in have:
            items.append({"source": "flaml", "rank": 0, "config_id": None, "params": flaml_configuration(rows)})
        # A configuration measured before (under another source, or in an earlier run): one fit.
        evaluated = {
            int(r["config_id"]): (r["score"], r["fit_seconds"], r["error"])
            for _, r in done.iterrows()
            if pd.notna(r["config_id"])
        }
        records = []
        for item in items:
            key = item["config_id"]
            if key is None or key not in evaluated:
                result = evaluate(space, item["params"], rows, protocol, folds)
                measured = (result.score, result.fit_seconds, result.error)
                if key is not None:
                    evaluated[key] = measured
            else:
                measured = evaluated[key]
            records.append(
                {
                    "dataset": name,
                    "rows": len(rows.y),
                    "source": item["source"],
                    "rank": item["rank"],
                    "config_id": key,
                    "params": json.dumps(item["params"], sort_keys=True, default=str),
                    "score": measured[0],
                    "fit_seconds": measured[1],
                    "score_2000": float(metadata.scores.loc[name, key]) if key is not None else np.nan,
                    "error": measured[2],
                }
            )
        added = pd.DataFrame(records, columns=COLUMNS)
        table = pd.concat([done, added], ignore_index=True) if len(done) else added
        tmp = path.with_suffix(".tmp")
        table.to_csv(tmp, index=False)
        tmp.rename(path)
        print(f"{name}: {len(rows.y)} rows, {len(records)} added, {time.perf_counter() - start:.0f} s", flush=True)


def _scores(part: pd.DataFrame, source: str) -> np.ndarray:
    return part[part["source"] == source].sort_values("rank")["score"].to_numpy()


def _scores_2000(part: pd.DataFrame, source: str) -> np.ndarray:
    return part[part["source"] == source].sort_values("rank")["score_2000"].to_numpy()


def _sized_columns(sized: np.ndarray, auto: np.ndarray, defaults: float, flaml: np.ndarray) -> dict:
    """The fidelity-aware meta-model's picks against the defaults, FLAML and the 2,000-row model's."""
    if not len(sized):
        return {}
    peer = flaml[0] if len(flaml) else np.nan
    return {
        "sized top-1": sized[0],
        "sized best of 5": np.nanmax(sized),
        "sized top-1 - defaults": sized[0] - defaults,
        "sized top-1 - flaml": sized[0] - peer,
        "sized best of 5 - flaml": np.nanmax(sized) - peer,
        "sized top-1 - top-1": sized[0] - auto[0],
        "sized best of 5 - best of 5": np.nanmax(sized) - np.nanmax(auto),
    }


def _versus(per: pd.DataFrame, column: str, label: str) -> str:
    """A paired line: the mean gain over datasets with its 95% bootstrap interval."""
    from autometa.benchmark import paired_difference

    values = per[column].dropna()
    interval = paired_difference(-values.to_numpy())  # paired_difference counts lower as better
    return (
        f"- {label}: mean {values.mean():+.4f} (95% interval {-interval['95% high']:+.4f} to "
        f"{-interval['95% low']:+.4f}), better on {(values > 0).sum()}, worse on {(values < 0).sum()} of {len(values)}."
    )


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
                **_sized_columns(_scores(part, "autometa-sized"), auto, defaults, flaml),
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
        f" --out {args.out} --max-rows {args.max_rows}"
        + (f" --fidelity {args.fidelity}" if args.fidelity else "")
        + "`, then the same with `--report`.",
        "",
        f"{len(per)} datasets measured so far. Scores: ROC-AUC (macro one-vs-rest for multiclass) or R², "
        "3-fold, on up to the row cap.",
        "",
        "## Summary",
        "",
        f"- Rank agreement of the pool configurations between 2,000 rows and full size (Spearman): median "
        f"{per['spearman'].median():.3f}, mean {per['spearman'].mean():.3f}. Over the evaluated ones only (the 16 "
        "best at 2,000 rows, the defaults, autometa's 5 and, with `--fidelity`, the second fidelity's 5): a narrow range of good configurations, where "
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
        *(
            [
                "## Advice from the second fidelity",
                "",
                "`autometa-sized`: the top 5 of the meta-model learned from the knowledge base's second fidelity "
                f"(the pool subset measured on up to {args.fidelity} rows; `--fidelity {args.fidelity}`), refitted "
                "without the dataset's family group: what `suggest` gives a dataset of this size once that "
                "meta-model ships.",
                "",
                _versus(per, "sized top-1 - defaults", "its first suggestion minus the defaults"),
                _versus(per, "sized top-1 - flaml", "its first suggestion minus FLAML"),
                _versus(per, "sized best of 5 - flaml", "its best of 5 minus FLAML"),
                _versus(per, "sized top-1 - top-1", "its first suggestion minus the 2,000-row meta-model's"),
                _versus(per, "sized best of 5 - best of 5", "its best of 5 minus the 2,000-row meta-model's"),
                "",
            ]
            if "sized top-1" in per.columns
            else []
        ),
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
    parser.add_argument(
        "--fidelity",
        type=int,
        help="also evaluate the top 5 of the meta-model learned from the knowledge base's second fidelity "
        "with this row cap (source autometa-sized), refitted without the dataset's family",
    )
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--report", action="store_true", help="summarize what is measured")
    args = parser.parse_args()
    report(args) if args.report else run(args)


if __name__ == "__main__":
    main()
