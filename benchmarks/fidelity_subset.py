"""Which pool configurations a second fidelity measures (issue: advice that holds at full size).

The full-size report (``full_size.py``) found that the 2,000-row advice shrinks on larger data.
A second fidelity re-measures part of the pool with a higher row cap on the corpus datasets that
have more rows than the first fidelity's cap, so that a meta-model can learn what holds there.
Which part is chosen by measurement, from the knowledge base:

- the defaults (the baseline every user has);
- the configurations the shipped meta-model advises on the larger datasets: its top 5 on each
  corpus dataset of more than ``--min-rows`` rows, from a meta-model refitted without the
  dataset's family group (as ``suggest`` would advise a new dataset);
- the configurations that are best there at 2,000 rows: the 5 best of each such dataset;
  ranked by how many datasets name them, the first ``--top``;
- the first ``--sobol`` Sobol points of the pool, unselected, so that rank agreement between the
  fidelities is also measured on configurations nobody chose for being good.

Writes ``<out>/fidelity_subset_<space>.md`` with the chosen ids and the command that collects them.

Usage (what made benchmarks/results/fidelity_subset_lightgbm.md):

    python benchmarks/fidelity_subset.py --corpus ../shared/datasets/pmlb --out benchmarks/results
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

import pandas as pd

from autometa.benchmark import markdown_table, shipped_settings
from autometa.collect import dataset_cost
from autometa.datasets import read_corpus_index
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import MetaData, MetaModel

ADVISED = 5
BEST = 5


def choose(metadata: MetaData, space, settings: dict, names: list[str], top: int, sobol: int):
    """(chosen pool ids, the most-named ones among them, how many datasets named each id:
    advised, best)."""
    advised, best = collections.Counter(), collections.Counter()
    normalized = metadata.normalized()
    for name in names:
        model = MetaModel(
            metadata.space,
            settings["method"],
            neighbours=settings["neighbours"],
            guard_quantile=settings["guard_quantile"],
        ).fit(metadata.without_group_of(name), space)
        picks, _ = model.rank_pool(metadata.metafeatures.loc[name], ADVISED)
        advised.update(int(c) for c in picks)
        best.update(int(c) for c in normalized.loc[name].sort_values(ascending=False, kind="stable").index[:BEST])
    named = advised + best
    ranked = sorted(named, key=lambda c: (-named[c], c))[:top]
    ids = sorted({0, *ranked, *range(1, sobol + 1)})
    return ids, set(ranked), advised, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="../shared/datasets/pmlb")
    parser.add_argument("--space", default="lightgbm")
    parser.add_argument("--min-rows", type=int, default=4000, help="datasets with more rows than this")
    parser.add_argument("--max-rows", type=int, default=20_000, help="the second fidelity's row cap")
    parser.add_argument("--top", type=int, default=24, help="most-named configurations kept")
    parser.add_argument("--sobol", type=int, default=8, help="unselected Sobol points kept")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()

    kb = KnowledgeBase()
    metadata = MetaData.from_knowledge_base(kb, args.space)
    space = kb.space(args.space)
    entries = {e.name: e for e in read_corpus_index(args.corpus)}
    names = [d for d in metadata.datasets if d in entries and entries[d].n_rows > args.min_rows]
    ids, ranked, advised, best = choose(metadata, space, shipped_settings(args.space), names, args.top, args.sobol)

    rows_ratio = {d: min(entries[d].n_rows, args.max_rows) / min(entries[d].n_rows, 2000) for d in names}
    estimate = sum(float(metadata.costs.loc[d, ids].sum()) * rows_ratio[d] for d in names) / 3600
    table = pd.DataFrame(
        {
            "config_id": ids,
            "advised on": [advised[c] for c in ids],
            "best of 5 on": [best[c] for c in ids],
            "why": ["defaults" if c == 0 else ("most named" if c in ranked else "Sobol point") for c in ids],
            **{
                p: [metadata.configs.loc[c, p] for c in ids]
                for p in ("learning_rate", "n_estimators", "num_leaves", "min_child_samples")
            },
        }
    )
    command = (
        f"OMP_NUM_THREADS=1 nice autometa collect --corpus {args.corpus} --space {args.space} "
        f"--max-rows {args.max_rows} --min-rows {args.min_rows} --config-ids {' '.join(map(str, ids))} "
        f"--storage sqlite:///fidelity-{args.max_rows}.db --out autometa/data/kb/rows-{args.max_rows} "
        "--no-metafeatures --quiet"
    )
    names.sort(key=lambda d: dataset_cost(entries[d], args.max_rows))
    lines = [
        f"# Second fidelity: which configurations, {args.space}",
        "",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        __doc__.split("\n\n")[2].replace("\n  ", " "),
        "",
        "Command: `python benchmarks/fidelity_subset.py --corpus ../shared/datasets/pmlb --out "
        f"{args.out} --min-rows {args.min_rows} --max-rows {args.max_rows} --top {args.top} --sobol {args.sobol}`.",
        "",
        f"- {len(names)} datasets of more than {args.min_rows} rows (cheapest first): {', '.join(names)}.",
        f"- {len(advised)} distinct configurations advised, {len(best)} distinct among the 5 best; "
        f"{len(set(advised) | set(best))} named in all; kept: {len(ids)} (the defaults, the {args.top} most "
        f"named, Sobol points 1-{args.sobol}).",
        f"- Estimated cost at up to {args.max_rows} rows: {estimate:.1f} core-hours (each dataset's recorded "
        "2,000-row fit times of these configurations, times its row ratio).",
        "",
        "Collect them with:",
        "",
        f"    {command}",
        "",
        markdown_table(table, ".4g", index=False),
        "",
    ]
    path = Path(args.out) / f"fidelity_subset_{args.space}.md"
    path.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
