"""A PMLB-layout corpus: ``index.csv`` plus one gzip TSV per dataset, target column ``target``.

Near-duplicates
---------------
The same data often appears under two names (``pima``/``diabetes``, ``german``/``credit_g``),
sometimes with columns reordered, categories re-coded or a few values changed. Each column gets
a *signature* that survives those edits: the sorted counts of its distinct values when it has
few of them (invariant to relabelling), else its standardized deciles (invariant to shifts and
scaling). A dataset's **fingerprint** hashes its row count with the sorted multiset of column
signatures (target included): two files with the same content in another column order share it.
Two datasets are **near-duplicates** when their row counts differ by at most
``ROW_TOLERANCE`` and their column-signature multisets overlap by at least ``MIN_OVERLAP``
(Jaccard).

Groups: what is held out together
---------------------------------
Every leave-dataset-out split keeps a *group* on one side. Three rules link datasets
(:data:`GROUP_RULES`); groups are the connected components of their union, named after the
smallest fingerprint among their members, so the name does not depend on iteration order:

- ``near-duplicate``: the content rule above;
- ``name-family``: the same :func:`name_family`, the name without its OpenML-id prefix cut at
  its first ``_`` and its trailing digits (``579_fri_c0_250_5`` -> ``fri``, ``mfeat_pixel`` ->
  ``mfeat``, ``monk2`` -> ``monk``): variants of one source (Friedman, GAMETES, mfeat,
  analcatdata, cpu, monk, waveform, led, wine...) tell nothing new about each other;
- ``same-target``: the same target vector, row for row (class labels up to renaming, numeric
  targets up to shift and scale), under any set of columns (``wdbc`` and
  ``breast_cancer_wisconsin``, ``218_house_8L`` and ``574_house_16H``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from autometa.datasets._dataset import Dataset, build_dataset
from autometa.exceptions import DataError, SourceNotFoundError

TARGET = "target"
ROW_TOLERANCE = 0.02
MIN_OVERLAP = 0.6
_FEW_VALUES = 64
_TASK_FILTERS = {
    None: {"binary", "multiclass", "regression"},
    "classification": {"binary", "multiclass"},
    "binary": {"binary"},
    "multiclass": {"multiclass"},
    "regression": {"regression"},
}


GROUP_RULES = ("near-duplicate", "name-family", "same-target")


@dataclasses.dataclass(frozen=True)
class Grouping:
    """Where one dataset is held out: its group, its near-duplicate group alone, and why."""

    group: str
    near_duplicate_group: str
    reasons: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class CorpusEntry:
    """One row of a corpus ``index.csv``."""

    name: str
    file: str
    task: str
    n_rows: int
    n_features: int
    n_classes: int | None
    openml_id: int | None
    openml_id_source: str | None  # "exact", "name-match" (a hint) or None


def read_corpus_index(path: str | Path) -> list[CorpusEntry]:
    root = Path(path)
    index = root / "index.csv"
    if not index.is_file():
        raise SourceNotFoundError(
            f"No corpus index at {str(index)!r}. A corpus is a folder with index.csv and one "
            "file per dataset (the PMLB layout of ../shared/datasets/pmlb)."
        )
    table = pd.read_csv(index)
    required = {"name", "file", "task", "n_rows", "n_features"}
    if not required <= set(table.columns):
        raise DataError(
            f"{str(index)!r} lacks the columns {sorted(required - set(table.columns))}; expected "
            "name, file, task, n_rows, n_features[, n_classes, openml_did, openml_did_source]."
        )

    def optional_int(row: pd.Series, column: str) -> int | None:
        value = row.get(column)
        return None if value is None or pd.isna(value) else int(value)

    def optional_str(row: pd.Series, column: str) -> str | None:
        value = row.get(column)
        return None if value is None or pd.isna(value) else str(value)

    return [
        CorpusEntry(
            name=str(row["name"]),
            file=str(row["file"]),
            task=str(row["task"]),
            n_rows=int(row["n_rows"]),
            n_features=int(row["n_features"]),
            n_classes=optional_int(row, "n_classes"),
            openml_id=optional_int(row, "openml_did"),
            openml_id_source=optional_str(row, "openml_did_source"),
        )
        for _, row in table.iterrows()
    ]


def dataset_from_corpus_frame(
    entry: CorpusEntry, frame: pd.DataFrame, *, task: str | None = None, target: str | None = None
) -> Dataset:
    target = target or TARGET
    if target not in frame.columns:
        raise DataError(f"Corpus file {entry.file!r} has no {target!r} column; columns: {list(frame.columns[:20])}.")
    provenance = {"corpus_file": entry.file}
    if entry.openml_id is not None:
        provenance["openml_id_source"] = entry.openml_id_source
    return build_dataset(
        frame.drop(columns=[target]),
        frame[target],
        task=task or entry.task,
        name=entry.name,
        source="corpus",
        categorical="integer-coded",
        openml_id=entry.openml_id,
        provenance=provenance,
    )


def load_corpus(
    path: str | Path,
    *,
    task: str | None = None,
    max_rows: int | None = None,
    names: Iterable[str] | None = None,
    random_state: int = 0,
) -> Iterator[Dataset]:
    """Iterate over a corpus's datasets, in index order, each with `fingerprint` and `group` set.

    Parameters
    ----------
    path : folder with ``index.csv``
    task : {"binary", "multiclass", "regression", "classification"}, optional
        Only datasets of this kind.
    max_rows : int, optional
        Stratified subsample (fixed `random_state`) of larger datasets. Fingerprints and groups
        are always computed on the full data.
    names : iterable of str, optional
        Only these datasets (unknown names raise).
    """
    if task not in _TASK_FILTERS:
        raise DataError(f"Unknown task filter {task!r}; expected one of {[t for t in _TASK_FILTERS if t]} or None.")
    root = Path(path)
    entries = read_corpus_index(root)
    if names is not None:
        wanted = list(names)
        known = {e.name for e in entries}
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise DataError(f"Not in the corpus at {str(root)!r}: {unknown[:10]}. See its index.csv for names.")
        entries = [e for e in entries if e.name in set(wanted)]
    entries = [e for e in entries if e.task in _TASK_FILTERS[task]]
    groups = corpus_groups(root)
    for entry in entries:
        frame = pd.read_csv(root / entry.file, sep="\t")
        dataset = dataset_from_corpus_frame(entry, frame)
        dataset = dataset.replace(fingerprint=fingerprint(frame), group=groups[entry.name])
        yield dataset.subsample(max_rows, random_state)


def column_signature(values: pd.Series) -> str:
    """A short string that is equal for the same column under relabelling, shift or scaling."""
    present = values.dropna()
    counts = np.sort(present.value_counts().to_numpy())[::-1]
    if counts.size <= _FEW_VALUES:
        shape = "c" + ",".join(map(str, counts))
    else:
        numbers = pd.to_numeric(present, errors="coerce").to_numpy(dtype=float)
        spread = numbers.std()
        deciles = np.quantile((numbers - numbers.mean()) / (spread or 1.0), np.linspace(0.1, 0.9, 9))
        shape = f"q{counts.size}:" + ",".join(f"{d:.2f}" for d in deciles)
    return f"{shape}|na{len(values) - len(present)}"


def _signatures(frame: pd.DataFrame) -> list[str]:
    return sorted(column_signature(frame[c]) for c in frame.columns)


def fingerprint(frame: pd.DataFrame) -> str:
    """Content hash of a raw table: row count plus the sorted column signatures (16 hex digits)."""
    text = f"{len(frame)}\n" + "\n".join(_signatures(frame))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _overlap(a: Counter, b: Counter) -> float:
    shared = sum((a & b).values())
    return shared / max(1, sum((a | b).values()))


def near_duplicate_groups(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Name -> group id for raw tables (see the module docstring for the rule)."""
    rows = {name: len(t) for name, t in tables.items()}
    signatures = {name: Counter(_signatures(t)) for name, t in tables.items()}
    prints = {name: fingerprint(t) for name, t in tables.items()}
    return _group(rows, signatures, prints)


def name_family(name: str) -> str:
    """The family of a dataset name: without its OpenML-id prefix, cut at the first ``_``, trailing
    digits dropped, lower case (``579_fri_c0_250_5`` -> ``fri``, ``Hill_Valley_with_noise`` ->
    ``hill``, ``led24`` -> ``led``)."""
    stem = re.sub(r"^\d+_", "", name)
    return re.sub(r"\d+$", "", stem.split("_")[0]).lower() or stem.lower()


def target_signature(target: pd.Series, classification: bool) -> str:
    """A hash equal for the same target vector row for row: class labels up to renaming, numeric
    targets up to shift and scale."""
    if classification:
        values = pd.factorize(target)[0].astype(str)
    else:
        numbers = pd.to_numeric(target, errors="coerce").to_numpy(dtype=float)
        spread = np.nanstd(numbers) or 1.0
        values = np.round((numbers - np.nanmean(numbers)) / spread, 6).astype(str)
    return hashlib.sha256((f"{len(values)}\n" + ",".join(values)).encode()).hexdigest()[:16]


class _Components:
    """Union-find over dataset names."""

    def __init__(self, names):
        self.parent = {name: name for name in names}

    def find(self, name: str) -> str:
        while self.parent[name] != name:
            self.parent[name] = self.parent[self.parent[name]]
            name = self.parent[name]
        return name

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)

    def members(self) -> list[list[str]]:
        found: dict[str, list[str]] = {}
        for name in self.parent:
            found.setdefault(self.find(name), []).append(name)
        return list(found.values())


def _near_duplicate_pairs(rows: dict[str, int], signatures: dict[str, Counter]) -> list[tuple[str, str]]:
    names = sorted(rows, key=lambda n: rows[n])
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if rows[b] > rows[a] * (1 + ROW_TOLERANCE):
                break
            if _overlap(signatures[a], signatures[b]) >= MIN_OVERLAP:
                pairs.append((a, b))
    return pairs


def _named(components: _Components, prints: dict[str, str]) -> dict[str, str]:
    return {name: "g" + min(prints[m] for m in group) for group in components.members() for name in group}


def _group(rows: dict[str, int], signatures: dict[str, Counter], prints: dict[str, str]) -> dict[str, str]:
    """Near-duplicate groups alone (the content rule)."""
    components = _Components(rows)
    for a, b in _near_duplicate_pairs(rows, signatures):
        components.join(a, b)
    return _named(components, prints)


def group_datasets(
    rows: dict[str, int],
    signatures: dict[str, Counter],
    prints: dict[str, str],
    targets: dict[str, str],
    rules: Iterable[str] = GROUP_RULES,
) -> dict[str, Grouping]:
    """Name -> :class:`Grouping` under `rules` (a subset of :data:`GROUP_RULES`)."""
    rules = tuple(rules)
    unknown = sorted(set(rules) - set(GROUP_RULES))
    if unknown:
        raise DataError(f"Unknown grouping rules {unknown}; expected some of {list(GROUP_RULES)}.")
    components = _Components(rows)
    reasons: dict[str, list[str]] = {name: [] for name in rows}
    near = _group(rows, signatures, prints)
    if "near-duplicate" in rules:
        for a, b in _near_duplicate_pairs(rows, signatures):
            components.join(a, b)
            reasons[a].append(f"near-duplicate of {b}")
            reasons[b].append(f"near-duplicate of {a}")
    if "name-family" in rules:
        families: dict[str, list[str]] = {}
        for name in rows:
            families.setdefault(name_family(name), []).append(name)
        for family, names in families.items():
            for other in names[1:]:
                components.join(names[0], other)
            if len(names) > 1:
                for name in names:
                    reasons[name].append(f"name family {family!r} ({len(names)} datasets)")
    if "same-target" in rules:
        by_target: dict[str, list[str]] = {}
        for name in rows:
            by_target.setdefault(targets[name], []).append(name)
        for names in by_target.values():
            for name in names:
                for other in names:
                    if other != name:
                        components.join(name, other)
                        reasons[name].append(f"same target as {other}")
    groups = _named(components, prints)
    return {name: Grouping(groups[name], near[name], tuple(reasons[name])) for name in rows}


@functools.lru_cache(maxsize=8)
def _corpus_grouping_cached(root: str, index_mtime: float, rules: tuple[str, ...]) -> tuple[tuple[str, Grouping], ...]:
    rows, signatures, prints, targets = {}, {}, {}, {}
    for entry in read_corpus_index(root):
        frame = pd.read_csv(Path(root) / entry.file, sep="\t")
        rows[entry.name] = len(frame)
        signatures[entry.name] = Counter(_signatures(frame))
        prints[entry.name] = fingerprint(frame)
        target = frame[TARGET] if TARGET in frame.columns else frame.iloc[:, -1]
        targets[entry.name] = target_signature(target, entry.task != "regression")
    return tuple(sorted(group_datasets(rows, signatures, prints, targets, rules).items()))


def corpus_grouping(path: str | Path, rules: Iterable[str] = GROUP_RULES) -> dict[str, Grouping]:
    """Name -> :class:`Grouping` (group, near-duplicate group, the rules that put it there) for every
    dataset of a corpus; reads every file once per process and set of rules."""
    root = Path(path).resolve()
    index = root / "index.csv"
    if not index.is_file():
        read_corpus_index(root)  # raises the explanatory error
    return dict(_corpus_grouping_cached(str(root), index.stat().st_mtime, tuple(sorted(rules))))


def corpus_groups(path: str | Path, rules: Iterable[str] = GROUP_RULES) -> dict[str, str]:
    """Name -> group id for every dataset of a corpus (all of :data:`GROUP_RULES` by default)."""
    return {name: g.group for name, g in corpus_grouping(path, rules).items()}


INDEX_COLUMNS = ["name", "file", "task", "n_rows", "n_features", "n_classes", "openml_did", "openml_did_source"]


def corpus_name(dataset: Dataset) -> str:
    """The name a dataset gets in a corpus: an OpenML dataset is ``<id>_<name>`` (the PMLB
    convention, so :func:`name_family` strips the id); characters outside ``[A-Za-z0-9_.-]``
    become ``_``."""
    name = f"{dataset.openml_id}_{dataset.name}" if dataset.openml_id is not None else dataset.name
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "dataset"


def add_to_corpus(path: str | Path, datasets: Iterable[Dataset]) -> list[CorpusEntry]:
    """Write `datasets` into the corpus folder `path` (created if missing) in its layout: one gzip
    TSV per dataset with the label in a ``target`` column, and a row each in ``index.csv``.

    Returns the entries of `datasets`. A dataset already in the corpus under the same name with
    the same content (fingerprint) is left as it is, so adding again is harmless; the same name
    with other content is an error that says so. Categorical features are written as their
    values: string categories read back as categorical, integer codes as the corpus convention
    says (integers with at most 10 values)."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    index = root / "index.csv"
    known = {e.name: e for e in read_corpus_index(root)} if index.is_file() else {}
    added: list[CorpusEntry] = []
    rows = []
    for dataset in datasets:
        name = corpus_name(dataset)
        frame = dataset.X.rename(columns=lambda c: f"{c}_feature" if str(c) == TARGET else str(c)).copy()
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype(object)
        frame[TARGET] = dataset.y.astype(object) if dataset.is_classification else dataset.y.to_numpy()
        frame = frame.reset_index(drop=True)
        entry = CorpusEntry(
            name=name,
            file=f"{name}.tsv.gz",
            task=dataset.task,
            n_rows=dataset.n_rows,
            n_features=dataset.n_features,
            n_classes=dataset.n_classes,
            openml_id=dataset.openml_id,
            openml_id_source="exact" if dataset.openml_id is not None else None,
        )
        if name in known:
            existing = pd.read_csv(root / known[name].file, sep="\t")
            if fingerprint(existing) != fingerprint(pd.read_csv(_tsv_bytes(frame), sep="\t", compression="gzip")):
                raise DataError(
                    f"The corpus at {str(root)!r} already has a dataset named {name!r} with other content; "
                    "rename the new one (e.g. its file) or use another corpus folder."
                )
            added.append(known[name])
            continue
        target = root / entry.file
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_bytes(_tsv_bytes(frame).getvalue())
        temporary.replace(target)
        known[name] = entry
        added.append(entry)
        rows.append(entry)
    if rows:
        table = pd.read_csv(index) if index.is_file() else pd.DataFrame(columns=INDEX_COLUMNS)
        new = pd.DataFrame(
            [
                [e.name, e.file, e.task, e.n_rows, e.n_features, e.n_classes, e.openml_id, e.openml_id_source]
                for e in rows
            ],
            columns=INDEX_COLUMNS,
        )
        table = pd.concat([table, new], ignore_index=True) if len(table) else new
        temporary = index.with_name("index.csv.tmp")
        table.to_csv(temporary, index=False)
        temporary.replace(index)
    return added


def _tsv_bytes(frame: pd.DataFrame):
    import gzip
    import io

    buffer = io.BytesIO()
    # mtime=0: the same table gives the same bytes.
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        handle.write(frame.to_csv(sep="\t", index=False).encode())
    buffer.seek(0)
    return buffer
