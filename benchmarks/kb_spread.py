"""The spread of the knowledge base: how much tuning buys, and whether the ranges are wide enough.

Per dataset of a space: the score of the learner's defaults (config 0), the best and median
score of the pool, the gap best - defaults, and the defaults' normalized regret
``(best - defaults) / (best - worst)``. Per parameter: how often the best configuration of a
dataset lies on a range edge (outside the central 90% of the range on the parameter's own
linear or log scale), plus the same share for the top-5 configurations. A range that is too
narrow shows up as a high edge share; 10% would be expected if the best sat anywhere at random.

Usage (what made benchmarks/results/kb_spread_<space>.*):

    python benchmarks/kb_spread.py --space lightgbm --out benchmarks/results
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from autometa.knowledge import KnowledgeBase
from autometa.spaces import get_space

EDGE = 0.05


def unit_scale(values: pd.Series, low: float, high: float, log: bool) -> pd.Series:
    if log:
        return (np.log(values.astype(float)) - np.log(low)) / (np.log(high) - np.log(low))
    return (values.astype(float) - low) / (high - low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--location", help="knowledge-base folder (default: the package's own)")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    space = get_space(args.space)
    kb = KnowledgeBase(args.location)
    evaluations = kb.evaluations(args.space)
    manifest = kb.manifest(args.space)

    rows, edges, top5_edges = [], [], []
    for name, table in evaluations.groupby("dataset"):
        scores = table.set_index("config_id")["score"]
        finite = scores.dropna()
        best, worst = finite.max(), finite.min()
        default = scores.get(0, np.nan)
        rows.append(
            {
                "dataset": name,
                "task": manifest["datasets"][name]["task"],
                "default": default,
                "best": best,
                "median": finite.median(),
                "gap_best_minus_default": best - default,
                "default_regret": (best - default) / (best - worst) if best > worst else 0.0,
                "failed": int(scores.isna().sum()),
            }
        )
        ranked = table.dropna(subset=["score"]).sort_values("score", ascending=False)
        for frame, target in ((ranked.head(1), edges), (ranked.head(5), top5_edges)):
            for key, p in space.params.items():
                u = unit_scale(frame[key], p.low, p.high, p.log)
                target.append(
                    {
                        "param": key,
                        "edge": float(((u < EDGE) | (u > 1 - EDGE)).mean()),
                        "low": float((u < EDGE).mean()),
                        "high": float((u > 1 - EDGE).mean()),
                    }
                )
    spread = pd.DataFrame(rows).sort_values("gap_best_minus_default", ascending=False)
    edge = pd.DataFrame(edges).groupby("param").mean()
    edge5 = pd.DataFrame(top5_edges).groupby("param")["edge"].mean().rename("edge_top5")
    edge = edge.join(edge5).loc[list(space.params)]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    spread.to_csv(out / f"kb_spread_{args.space}.csv", index=False, float_format="%.5g")
    by_task = spread.groupby("task").agg(
        datasets=("dataset", "size"),
        gap_median=("gap_best_minus_default", "median"),
        gap_mean=("gap_best_minus_default", "mean"),
        default_regret_median=("default_regret", "median"),
        default_is_best=("default_regret", lambda r: float((r == 0).mean())),
    )
    lines = [
        f"# Knowledge-base spread: {args.space}",
        "",
        f"{len(spread)} datasets, {manifest['pool']['size']} configurations each "
        f"(protocol: {manifest['protocol']['folds']}-fold CV, <= {manifest['protocol']['max_rows']} rows).",
        "",
        f"Command: `python benchmarks/kb_spread.py --space {args.space} --out {args.out}`",
        "",
        "## Best of the pool vs the learner's defaults (score: AUC or R^2)",
        "",
        by_task.to_markdown(floatfmt=".4f") if _has_tabulate() else by_task.to_string(),
        "",
        "Largest gaps:",
        "",
        spread.head(10)[["dataset", "task", "default", "best", "gap_best_minus_default"]].to_string(index=False),
        "",
        f"## Best configuration on a range edge (outside the central {100 - 2 * 100 * EDGE:.0f}% of the range)",
        "",
        edge.to_string(float_format=lambda v: f"{v:.3f}"),
        "",
    ]
    (out / f"kb_spread_{args.space}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
