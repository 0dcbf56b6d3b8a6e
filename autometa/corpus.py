"""Corpus-wide tables: metafeatures of every dataset, and the groups held out together."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from autometa.datasets import GROUP_RULES, corpus_grouping, load_corpus, read_corpus_index

INFO_COLUMNS = ["group", "task", "openml_id", "fingerprint", "n_failed", "seconds"]


def groups_table(path: str | Path, rules: Iterable[str] = GROUP_RULES) -> pd.DataFrame:
    """One row per dataset: name, group, group size, near-duplicate group, and the rules that put
    it in its group (``reasons``, ``; ``-separated); sorted so that groups are contiguous."""
    grouping = corpus_grouping(path, rules)
    table = pd.DataFrame(
        {
            "name": list(grouping),
            "group": [g.group for g in grouping.values()],
            "near_duplicate_group": [g.near_duplicate_group for g in grouping.values()],
            "reasons": ["; ".join(_compact(g.reasons)) for g in grouping.values()],
        }
    )
    table["group_size"] = table.groupby("group")["name"].transform("size")
    return table.sort_values(["group_size", "group", "name"], ascending=[False, True, True], ignore_index=True)


def _compact(reasons: Iterable[str]) -> list[str]:
    """'same target as a', 'same target as b' -> 'same target as a, b' (likewise near-duplicates)."""
    merged: dict[str, list[str]] = {}
    for reason in reasons:
        for prefix in ("same target as ", "near-duplicate of "):
            if reason.startswith(prefix):
                merged.setdefault(prefix, []).append(reason[len(prefix) :])
                break
        else:
            merged.setdefault(reason, [])
    return [key + ", ".join(names) if names else key for key, names in merged.items()]


def metafeature_table(
    path: str | Path,
    *,
    task: str | None = None,
    names: Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    random_state: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Handcrafted metafeatures of every corpus dataset (index: dataset name).

    Columns: ``INFO_COLUMNS`` then every metafeature. Extraction uses the full data (with the
    extractor's own documented row cap).
    """
    from tqdm.auto import tqdm

    import metafeatures

    entries = read_corpus_index(path)
    wanted = set(names) if names is not None else None
    total = sum(1 for e in entries if wanted is None or e.name in wanted)
    rows = []
    datasets = load_corpus(path, task=task, names=names)
    for dataset in tqdm(datasets, total=total, desc="metafeatures", unit="dataset", disable=not progress):
        start = time.perf_counter()
        result = metafeatures.extract_all(dataset, groups=groups, random_state=random_state)
        info = {
            "name": dataset.name,
            "group": dataset.group,
            "task": dataset.task,
            "openml_id": dataset.openml_id,
            "fingerprint": dataset.fingerprint,
            "n_failed": len(result.failures),
            "seconds": time.perf_counter() - start,
        }
        rows.append({**info, **result.values.to_dict()})
    table = pd.DataFrame(rows).set_index("name")
    table["openml_id"] = table["openml_id"].astype("Int64")
    return table
