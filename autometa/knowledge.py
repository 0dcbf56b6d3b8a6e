"""The knowledge base: what the collector exported, as compact, self-describing files.

Layout of a knowledge-base folder (the shipped one is ``autometa/data/kb``)::

    <space>/<dataset>.parquet   one row per pool configuration: config_id, one column per
                                parameter, score, log_loss, fit_seconds, fold_scores, error,
                                trial_number; the parquet schema metadata ``autometa`` holds the
                                dataset's provenance, the protocol and package versions (JSON)
    <space>/peers.parquet       other systems' own configurations evaluated under the same protocol
                                (:mod:`autometa.peers`); never learned from
    <space>/manifest.json       rebuilt from those files: schema version, space (ranges,
                                defaults, fingerprint), protocol, pool, package versions,
                                datasets (task, OpenML id, near-duplicate group, failures,
                                cv_seconds: the summed time of its pool's cross-validations)
    metafeatures.parquet        handcrafted metafeatures of every dataset (full data)
    rows-<N>/<space>/...        a second fidelity: a subset of the pool measured with a row cap of N
                                (the same layout; ``autometa collect --max-rows N --config-ids ...``)
    groups.json                 what is held out together: each dataset's group under every rule of
                                :data:`autometa.datasets.GROUP_RULES`, its near-duplicate group
                                alone, and the rules that put it there (``autometa kb groups``)

Files are written to a temporary name and renamed, so a file that exists is complete. No pickle.
"""

from __future__ import annotations

import json
import os
import platform
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from autometa.exceptions import DataError

SCHEMA_VERSION = 1
METADATA_KEY = b"autometa"
GROUPS_FILE = "groups.json"
PEERS_FILE = "peers.parquet"  # exact evaluations of other systems' configurations (autometa.peers)
PEER_COLUMNS = ["dataset", "peer", "rank", "params", "score", "log_loss", "fit_seconds", "error"]
FIDELITY_PREFIX = "rows-"  # <folder>/rows-<N>/: what was measured with a row cap of N (a second fidelity)
GROUPINGS = ("family", "near-duplicate")  # every grouping rule, or the content rule alone (the old grouping)


def default_location() -> Path:
    return Path(str(resources.files("autometa") / "data" / "kb"))


def _dataset_file(out: str | Path, space: str, dataset: str) -> Path:
    return Path(out) / space / f"{dataset}.parquet"


def exported_datasets(out: str | Path) -> list[str]:
    """The names of the datasets exported to any space of the knowledge base at `out` (not the
    peers' table, not a second fidelity's folder)."""
    return sorted({p.stem for p in Path(out).glob("*/*.parquet") if p.name != PEERS_FILE})


def fidelity_folders(folder: str | Path, inside: str) -> dict[int, Path]:
    """Row cap N -> ``<folder>/rows-<N>/`` for every such subfolder holding `inside` (a file or
    folder name): the second fidelities of a knowledge base or of a meta-model folder."""
    found = {}
    for path in Path(folder).glob(f"{FIDELITY_PREFIX}*/{inside}"):
        suffix = path.parent.name[len(FIDELITY_PREFIX) :]
        if suffix.isdigit():
            found[int(suffix)] = path.parent
    return dict(sorted(found.items()))


def is_exported(out: str | Path, space: str, dataset: str) -> bool:
    return _dataset_file(out, space, dataset).is_file()


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for package in ("autometa", "lightgbm", "scikit-learn", "optuna", "numpy", "pandas"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(temporary)
    os.replace(temporary, path)


def write_dataset(out: str | Path, space: str, dataset: str, table: pd.DataFrame, provenance: dict[str, Any]) -> None:
    """Write one dataset's evaluations as ``<space>/<dataset>.parquet``, `provenance` in the file's
    schema metadata (with the schema version and package versions added); atomic."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    metadata = {"schema_version": SCHEMA_VERSION, **provenance, "package_versions": package_versions()}
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata(
        {**(arrow.schema.metadata or {}), METADATA_KEY: json.dumps(metadata).encode()}
    )
    _atomic_write(_dataset_file(out, space, dataset), lambda p: pq.write_table(arrow, p))


def read_metadata(path: str | Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    try:
        raw = pq.read_schema(path).metadata or {}
        return json.loads(raw[METADATA_KEY])
    except (OSError, KeyError, ValueError) as error:
        raise DataError(f"{str(path)!r} is not a knowledge-base file ({type(error).__name__}: {error}).") from error


def record_failure(out: str | Path, space: str, dataset: str, reason: str | None) -> None:
    """Keep ``<space>/failed.json`` (dataset -> reason) current: add a failure, or clear one that now worked."""
    path = Path(out) / space / "failed.json"
    failed = json.loads(path.read_text()) if path.is_file() else {}
    if reason is None and dataset not in failed:
        return
    if reason is None:
        failed.pop(dataset)
    else:
        failed[dataset] = reason
    _atomic_write(path, lambda p: p.write_text(json.dumps(failed, indent=1, sort_keys=True)))


def write_manifest(out: str | Path, space_name: str) -> dict[str, Any] | None:
    """Rebuild ``<space>/manifest.json`` from the exported files (one writer: the collector's parent)."""
    from autometa.spaces import get_space

    folder = Path(out) / space_name
    files = sorted(p for p in folder.glob("*.parquet") if p.name != PEERS_FILE)
    failed_file = folder / "failed.json"
    failed = json.loads(failed_file.read_text()) if failed_file.is_file() else {}
    if not files:
        return None
    space = get_space(space_name)
    datasets, protocol, pool_size, versions, config_ids = {}, None, None, {}, None
    for path in files:
        meta = read_metadata(path)
        protocol, pool_size = meta["protocol"], meta["pool_size"]
        config_ids = meta.get("config_ids")
        versions = meta["package_versions"]
        datasets[meta["dataset"]] = {
            "task": meta["task"],
            "openml_id": meta["openml_id"],
            "group": meta["group"],
            "fingerprint": meta["fingerprint"],
            "n_rows": meta["n_rows"],
            "n_features": meta["n_features"],
            "n_classes": meta["n_classes"],
            "failed_fits": meta["n_failed"],
            "file": path.name,
            "cv_seconds": round(float(pd.read_parquet(path, columns=["fit_seconds"])["fit_seconds"].sum()), 1),
        }
    metafeature_file = Path(out) / "metafeatures.parquet"
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "space": {
            "name": space.name,
            "fingerprint": space.fingerprint(),
            "description": space.description,
            "params": {
                k: {"low": p.low, "high": p.high, "log": p.log, "integer": p.integer} for k, p in space.params.items()
            },
            "defaults": space.defaults,
            "fixed": {k: v for k, v in space.fixed.items()},
        },
        "pool": {
            "size": pool_size,
            "seed": 0,
            "sampler": "scipy Sobol (scrambled); config 0 = defaults",
            **({"config_ids": config_ids} if config_ids is not None else {}),
        },
        "protocol": protocol,
        "package_versions": versions,
        "metafeature_names": list(pd.read_parquet(metafeature_file).columns) if metafeature_file.is_file() else [],
        "datasets": datasets,
        "failed_datasets": failed,
    }
    _atomic_write(folder / "manifest.json", lambda p: p.write_text(json.dumps(manifest, indent=1, sort_keys=True)))
    return manifest


def write_table(out: str | Path, space: str, name: str, table: pd.DataFrame) -> Path:
    """Write a table of the knowledge base as ``<space>/<name>`` (parquet, atomic)."""
    path = Path(out) / space / name
    _atomic_write(path, lambda p: table.to_parquet(p, index=False))
    return path


def write_groups(out: str | Path, corpus: str | Path) -> dict[str, Any]:
    """Write ``groups.json`` for every dataset of `corpus` (see the module docstring); returns it."""
    from autometa.datasets import GROUP_RULES, corpus_grouping

    grouping = corpus_grouping(corpus)
    document = {
        "schema_version": SCHEMA_VERSION,
        "rules": list(GROUP_RULES),
        "datasets": {
            name: {"group": g.group, "near_duplicate_group": g.near_duplicate_group, "reasons": list(g.reasons)}
            for name, g in sorted(grouping.items())
        },
    }
    _atomic_write(Path(out) / GROUPS_FILE, lambda p: p.write_text(json.dumps(document, indent=1, sort_keys=True)))
    return document


class KnowledgeBase:
    """Read access to a knowledge-base folder.

    location : the folder (see the module docstring for its layout); default: the knowledge
        base shipped in the package.
    """

    def __init__(self, location: str | Path | None = None):
        self.location = Path(location) if location is not None else default_location()

    def spaces(self) -> list[str]:
        return sorted(p.parent.name for p in self.location.glob("*/manifest.json"))

    def manifest(self, space: str) -> dict[str, Any]:
        path = self.location / space / "manifest.json"
        if not path.is_file():
            raise DataError(
                f"The knowledge base at {str(self.location)!r} has no results for space {space!r}; "
                f"it has {self.spaces()}. Collect them with: autometa collect --space {space} ..."
            )
        manifest = json.loads(path.read_text())
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise DataError(
                f"{str(path)!r} has schema version {manifest.get('schema_version')!r}; this autometa reads "
                f"version {SCHEMA_VERSION}. Re-export it with this version's collector."
            )
        return manifest

    def space(self, space: str):
        """The :class:`~autometa.spaces.SearchSpace` `space`, with the ranges its pool was collected on."""
        from autometa.spaces import get_space

        return get_space(space).with_ranges(self.manifest(space)["space"]["params"])

    def evaluations(self, space: str) -> pd.DataFrame:
        """Every evaluation of `space`, one row per (dataset, configuration), with a `dataset` column."""
        manifest = self.manifest(space)
        frames = [
            pd.read_parquet(self.location / space / info["file"]).assign(dataset=name)
            for name, info in manifest["datasets"].items()
        ]
        return pd.concat(frames, ignore_index=True)

    def metafeatures(self) -> pd.DataFrame:
        path = self.location / "metafeatures.parquet"
        if not path.is_file():
            raise DataError(f"No metafeatures table at {str(path)!r}; build it with: autometa kb metafeatures.")
        return pd.read_parquet(path)

    def groups(self, space: str, grouping: str = "family") -> pd.Series:
        """Dataset -> group of every dataset of `space`: what a leave-dataset-out split holds out
        together. ``"family"``: every rule of :data:`autometa.datasets.GROUP_RULES` (name
        families, same targets, near-duplicates), from ``groups.json``; ``"near-duplicate"``: the
        content rule alone. A dataset that ``groups.json`` does not list keeps the group recorded
        when it was collected."""
        if grouping not in GROUPINGS:
            raise DataError(f"Unknown grouping {grouping!r}; expected one of {list(GROUPINGS)}.")
        recorded = {name: str(info["group"]) for name, info in self.manifest(space)["datasets"].items()}
        path = self.location / GROUPS_FILE
        listed = json.loads(path.read_text())["datasets"] if path.is_file() else {}
        key = "group" if grouping == "family" else "near_duplicate_group"
        return pd.Series(
            {name: str(listed[name][key]) if name in listed else group for name, group in recorded.items()}
        )

    def fidelities(self, space: str) -> dict[int, KnowledgeBase]:
        """Row cap -> the knowledge base of `space` measured with that cap besides the main one
        (``<location>/rows-<N>/``, see the module docstring); empty when there is none."""
        return {
            rows: KnowledgeBase(path)
            for rows, path in fidelity_folders(self.location, space).items()
            if (path / space / "manifest.json").is_file()
        }

    def peers(self, space: str) -> pd.DataFrame:
        """Exact evaluations of other systems' configurations on this knowledge base's datasets
        (one row per dataset, peer and rank; empty when none were made: ``autometa kb peers``)."""
        path = self.location / space / PEERS_FILE
        return pd.read_parquet(path) if path.is_file() else pd.DataFrame(columns=PEER_COLUMNS)

    def embeddings(self) -> tuple[pd.DataFrame, str]:
        """(dataset x d2v.* Dataset2Vec embeddings, sha256 of the encoder weights that made them)."""
        path = self.location / "dataset2vec.parquet"
        facts = self.location / "dataset2vec.json"
        if not (path.is_file() and facts.is_file()):
            raise DataError(
                f"No Dataset2Vec embeddings at {str(path)!r}; build them with: "
                "autometa kb embeddings --corpus PATH (needs autometa[torch])."
            )
        return pd.read_parquet(path), json.loads(facts.read_text())["encoder_sha256"]

    def info(self) -> dict[str, Any]:
        summary: dict[str, Any] = {"location": str(self.location), "spaces": {}}
        for space in self.spaces():
            manifest = self.manifest(space)
            tasks: dict[str, int] = {}
            for info in manifest["datasets"].values():
                tasks[info["task"]] = tasks.get(info["task"], 0) + 1
            summary["spaces"][space] = {
                "datasets": len(manifest["datasets"]),
                "datasets_by_task": tasks,
                "configurations_per_dataset": _configurations(manifest),
                "failed_fits": sum(i["failed_fits"] for i in manifest["datasets"].values()),
                "cv_seconds": _cv_seconds(manifest["datasets"].values()),
                "failed_datasets": manifest.get("failed_datasets", {}),
                "protocol": manifest["protocol"],
                "package_versions": manifest["package_versions"],
                "peers": _peer_summary(self.peers(space)),
                "fidelities": {
                    rows: {
                        "datasets": len(described["datasets"]),
                        "configurations_per_dataset": _configurations(described),
                        "cv_seconds": _cv_seconds(described["datasets"].values()),
                    }
                    for rows, described in ((r, kb.manifest(space)) for r, kb in self.fidelities(space).items())
                },
            }
        return summary


def _peer_summary(peers: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per peer of ``peers.parquet``: the datasets it was evaluated on, its configurations per
    dataset (the most on any), and the datasets where any of its fits failed."""
    return {
        str(peer): {
            "datasets": int(rows["dataset"].nunique()),
            "configurations": int(rows.groupby("dataset").size().max()),
            "datasets_with_failed_fits": int(rows.loc[rows["error"].notna(), "dataset"].nunique()),
        }
        for peer, rows in peers.groupby("peer")
    }


def _configurations(manifest: dict[str, Any]) -> int:
    """Configurations evaluated on each dataset: the pool, or the subset a second fidelity chose."""
    return len(manifest["pool"].get("config_ids") or range(manifest["pool"]["size"]))


def _cv_seconds(datasets) -> float | None:
    """Summed cross-validation time of every evaluation (each ran on one thread, so these are
    core-seconds); None for a manifest written before the time was recorded."""
    seconds = [info.get("cv_seconds") for info in datasets]
    if not seconds or any(s is None for s in seconds):
        return None
    return round(sum(seconds), 1)


def build_metafeature_table(out: str | Path, corpus: str | Path, progress: bool = True) -> pd.DataFrame:
    """Metafeatures (full data) of every dataset present in any space of `out`, computed once each."""
    from autometa.corpus import metafeature_table

    path = Path(out) / "metafeatures.parquet"
    names = exported_datasets(out)
    existing = pd.read_parquet(path) if path.is_file() else pd.DataFrame()
    missing = [n for n in names if n not in existing.index]
    if missing:
        fresh = metafeature_table(corpus, names=missing, progress=progress)
        table = pd.concat([existing, fresh]) if len(existing) else fresh
        table = table.sort_index()
        _atomic_write(path, lambda p: table.to_parquet(p))
        return table
    return existing
