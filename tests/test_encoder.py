"""The Dataset2Vec parts of autometa: train-encoder and kb embeddings commands, meta-models on
embeddings, and the shipped encoder with its embeddings."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import autometa
from autometa.cli import main
from autometa.exceptions import DataError
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import MetaModel

pytest.importorskip("torch")
pytest.importorskip("safetensors")


def _tiny_corpus(corpus_path, names, folder):
    folder.mkdir()
    index = pd.read_csv(corpus_path / "index.csv")
    index[index["name"].isin(names)].to_csv(folder / "index.csv", index=False)
    for file in index.loc[index["name"].isin(names), "file"]:
        (folder / file).symlink_to(corpus_path / file)
    return folder


def test_train_encoder_then_embeddings_then_a_metamodel_on_them(metadata, corpus_path, tmp_path, capsys):
    import torch

    torch.set_num_threads(1)
    data, _, kb_folder = metadata
    corpus = _tiny_corpus(corpus_path, data.datasets, tmp_path / "corpus")
    encoder = tmp_path / "encoder"
    assert (
        main(
            [
                "train-encoder",
                "--corpus",
                str(corpus),
                "--epochs",
                "2",
                "--steps",
                "3",
                "--device",
                "cpu",
                "--out",
                str(encoder),
                "--quiet",
            ]
        )
        == 0
    )
    assert "Dataset2Vec trained on" in capsys.readouterr().out
    assert json.loads((encoder / "config.json").read_text())["provenance"]["device"] == "cpu"
    location = tmp_path / "kb"
    import shutil

    shutil.copytree(kb_folder, location)
    assert (
        main(
            [
                "kb",
                "embeddings",
                "--location",
                str(location),
                "--corpus",
                str(corpus),
                "--encoder",
                str(encoder),
                "--quiet",
            ]
        )
        == 0
    )
    embeddings, sha = KnowledgeBase(location).embeddings()
    assert sorted(embeddings.index) == sorted(data.datasets) and embeddings.columns[0] == "d2v.0"
    assert sha == json.loads((encoder / "config.json").read_text())["sha256"]

    model = MetaModel.from_knowledge_base(KnowledgeBase(location), "lightgbm", "knn", features="dataset2vec")
    assert all(c.startswith("d2v.") for c in model.scaling_.columns)
    # Queried without an embedding: a clear error, not a silent median fill.
    with pytest.raises(DataError, match="Dataset2Vec embedding .* is missing"):
        model.suggest_configs(data.metafeatures.iloc[0], 2)
    # describe() uses the installed (shipped) encoder, which is not the one these embeddings came from.
    with pytest.raises(DataError, match="another encoder"):
        autometa.suggest(corpus_path / "credit_g.tsv.gz", metamodel=model, n=2)


def test_shipped_encoder_and_embeddings_serve_a_combined_metamodel(corpus_path):
    from autometa.encoder import load_encoder

    encoder = load_encoder("default", device="cpu")
    embeddings, sha = KnowledgeBase().embeddings()
    assert sha == encoder.sha256 and len(embeddings) == 280
    model = MetaModel.from_knowledge_base(KnowledgeBase(), "lightgbm", "knn_portfolio", features="both")
    suggestions = autometa.suggest(corpus_path / "credit_g.tsv.gz", metamodel=model, n=3)
    assert len(suggestions) == 3
    # The shipped embedding of a corpus dataset is what the encoder gives it now (same seed, same table).
    from autometa.datasets import load_corpus

    dataset = next(iter(load_corpus(corpus_path, names=["credit_g"])))
    pd.testing.assert_series_equal(
        encoder.transform(dataset), embeddings.loc["credit_g"].astype(float), check_names=False, atol=1e-5
    )


def test_fold_embeddings_leave_the_fold_out_and_are_reused(metadata, corpus_path, tmp_path):
    import torch

    from autometa.encoder import cached_fold_embeddings
    from autometa.groups import group_folds

    torch.set_num_threads(1)
    data, _, _ = metadata
    frame, aucs = cached_fold_embeddings(data, corpus_path, 2, tmp_path, epochs=1, steps=2)
    held = group_folds(data, 2)
    assert list(frame.index.levels[0]) == [0, 1] and len(frame) == 2 * len(data.datasets)
    assert [a["fold"] for a in aucs] == [0, 1]
    # Each fold's encoder never saw that fold's datasets.
    facts = json.loads((tmp_path / "dataset2vec_folds_lightgbm.json").read_text())
    assert facts["folds"] == held
    for fold, names in enumerate(held):
        assert aucs[fold]["trained_on"] and not set(aucs[fold]["trained_on"]) & set(names)
    path = tmp_path / "dataset2vec_folds_lightgbm.parquet"
    stamp = path.stat().st_mtime_ns
    again, _ = cached_fold_embeddings(data, corpus_path, 2, tmp_path, epochs=1, steps=2)
    assert path.stat().st_mtime_ns == stamp  # reused, not retrained
    pd.testing.assert_frame_equal(again, pd.read_parquet(path))
