"""The Dataset2Vec encoder of autometa: training on the corpus, the shipped weights, embeddings.

The shipped encoder lives in ``autometa/data/encoder/`` (safetensors weights + config.json with
the sha256); the embeddings of the knowledge-base datasets made with it live in
``autometa/data/kb/dataset2vec.parquet``. Leave-dataset-out evaluations do not use either: they
train one encoder per fold on the other folds' datasets (:func:`fold_embeddings`).

Torch is needed only here and in :mod:`metafeatures.dataset2vec`; nothing imports this module
unless a Dataset2Vec feature is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from autometa.exceptions import DataError

EMBEDDINGS_FILE = "dataset2vec.parquet"
PREFIX = "d2v."  # embedding columns: d2v.0, d2v.1, ...


def default_encoder_path() -> Path:
    return Path(str(resources.files("autometa") / "data" / "encoder"))


def require_torch() -> None:
    try:
        import safetensors  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        raise DataError("Dataset2Vec features need PyTorch and safetensors: pip install 'autometa[torch]'.") from error


def load_encoder(encoder: Any = "default", device: str | None = "auto"):
    """A fitted Dataset2Vec from "default" (shipped), a folder written by ``save``, or itself."""
    require_torch()
    from metafeatures.dataset2vec import Dataset2Vec

    if isinstance(encoder, Dataset2Vec):
        return encoder
    folder = default_encoder_path() if encoder in (None, "default") else Path(encoder)
    if not (folder / "config.json").is_file():
        raise DataError(
            f"No Dataset2Vec encoder at {str(folder)!r}; train one with: autometa train-encoder --corpus PATH"
        )
    return Dataset2Vec.load(folder, device=device)


def corpus_tables(
    corpus: str | Path, names: Iterable[str] | None = None, progress: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every corpus dataset encoded for Dataset2Vec (name -> EncodedTable), and name -> group."""
    from tqdm.auto import tqdm

    from autometa.datasets import load_corpus
    from metafeatures.dataset2vec import encode_table

    tables, groups = {}, {}
    for dataset in tqdm(load_corpus(corpus, names=names), desc="encode", unit="dataset", disable=not progress):
        tables[dataset.name] = encode_table(dataset)
        groups[dataset.name] = str(dataset.group)
    return tables, groups


def make_encoder(*, epochs: int = 20, steps: int = 50, device: str | None = "auto", random_state: int = 0):
    """The encoder settings autometa trains with (see :class:`metafeatures.dataset2vec.Training`)."""
    require_torch()
    from metafeatures.dataset2vec import Architecture, Dataset2Vec, Training

    return Dataset2Vec(
        Architecture(),
        Training(steps_per_epoch=steps, max_epochs=epochs, patience=5),
        device=device,
        random_state=random_state,
    )


def embeddings(encoder, tables: dict[str, Any]) -> pd.DataFrame:
    """dataset x d2v.i embeddings of encoded tables."""
    return encoder.transform_many(tables).rename(columns=lambda c: c if c.startswith(PREFIX) else PREFIX + c)


def build_embedding_table(
    out: str | Path, corpus: str | Path, encoder: Any = "default", progress: bool = True
) -> pd.DataFrame:
    """Embeddings of every knowledge-base dataset with `encoder`, written to
    ``<out>/dataset2vec.parquet`` with ``dataset2vec.json`` naming the encoder's sha256."""
    import json

    from autometa.knowledge import exported_datasets

    encoder = load_encoder(encoder, device="cpu")
    names = exported_datasets(out)
    tables, _ = corpus_tables(corpus, names=names, progress=progress)
    table = embeddings(encoder, tables).sort_index().astype("float32")
    table.to_parquet(Path(out) / EMBEDDINGS_FILE)
    (Path(out) / "dataset2vec.json").write_text(
        json.dumps({"encoder_sha256": encoder.sha256, "datasets": len(table), "columns": list(table.columns)}, indent=1)
    )
    return table


def cached_fold_embeddings(
    metadata, corpus: str | Path, folds: int, cache: str | Path, log=None, *, epochs: int = 20, steps: int = 50
) -> tuple[pd.DataFrame, list[dict]]:
    """:func:`fold_embeddings` over :func:`~autometa.groups.group_folds` of `metadata`, kept in
    ``<cache>/dataset2vec_folds_<space>.parquet`` (+ ``.json``: the folds and each encoder's AUCs)
    and reused while the folds are the same. The validation and the discrete benchmark share it."""
    import json

    from autometa.groups import group_folds

    cache = Path(cache)
    path, facts = (
        cache / f"dataset2vec_folds_{metadata.space}.parquet",
        cache / f"dataset2vec_folds_{metadata.space}.json",
    )
    held = group_folds(metadata, folds)
    if path.is_file() and facts.is_file() and json.loads(facts.read_text())["folds"] == held:
        return pd.read_parquet(path), json.loads(facts.read_text())["aucs"]
    require_torch()
    tables, groups = corpus_tables(corpus, names=metadata.datasets)
    frame = fold_embeddings(tables, groups, held, epochs=epochs, steps=steps, log=log)
    cache.mkdir(parents=True, exist_ok=True)
    frame.astype("float32").to_parquet(path)
    facts.write_text(json.dumps({"folds": held, "aucs": frame.attrs["held_out_auc"]}, indent=1))
    return frame, frame.attrs["held_out_auc"]


def fold_embeddings(
    tables: dict[str, Any],
    groups: dict[str, str],
    folds: Sequence[Sequence[str]],
    *,
    epochs: int = 20,
    steps: int = 50,
    random_state: int = 0,
    log=None,
) -> pd.DataFrame:
    """Leave-dataset-out embeddings: for fold i, an encoder trained without the fold's datasets
    (nor any dataset of their near-duplicate groups) embeds every dataset.

    Returns a frame indexed by (fold, dataset) with columns d2v.*, and the encoder's held-out
    same-dataset AUC of each fold in ``frame.attrs["held_out_auc"]`` (random and hard negatives).
    """
    frames, aucs = [], []
    for i, held_out in enumerate(folds):
        held_groups = {groups[d] for d in held_out}
        train = {n: t for n, t in tables.items() if groups[n] not in held_groups}
        test = {n: t for n, t in tables.items() if groups[n] in held_groups}
        encoder = make_encoder(epochs=epochs, steps=steps, device="cpu", random_state=random_state + i)
        encoder.fit(train, groups)
        aucs.append(
            {
                "fold": i,
                "epochs": len(encoder.history_),
                "validation_auc": encoder.provenance_["best_validation_auc"],
                "held_out_auc": encoder.same_dataset_auc(test, groups) if len({groups[n] for n in test}) > 1 else None,
                "held_out_auc_hard": encoder.same_dataset_auc(test, groups, hard=True)
                if len({groups[n] for n in test}) > 1
                else None,
                "seconds": encoder.provenance_["seconds"],
                "trained_on": sorted(train),
            }
        )
        if log:
            log(f"fold {i}: {aucs[-1]}")
        frame = embeddings(encoder, tables)
        frame.index = pd.MultiIndex.from_product([[i], frame.index], names=["fold", "dataset"])
        frames.append(frame)
    result = pd.concat(frames)
    result.attrs["held_out_auc"] = aucs
    return result
