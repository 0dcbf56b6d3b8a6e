"""`autometa suggest` and `autometa tune`, in-process."""

import json

import pytest

from autometa.cli import main
from autometa.metamodel import MetaModel


@pytest.fixture
def saved_model(metadata, tmp_path):
    data, params, _ = metadata
    return str(MetaModel("lightgbm", "knn").fit(data, params).save(tmp_path / "mm"))


def test_suggest_json_and_table(corpus_path, saved_model, capsys):
    path = str(corpus_path / "diabetes.tsv.gz")
    assert main(["suggest", path, "-n", "2", "--metamodel", saved_model, "--format", "json"]) == 0
    suggestions = json.loads(capsys.readouterr().out)
    assert len(suggestions) == 2 and "num_leaves" in suggestions[0]["params"]
    assert main(["suggest", path, "-n", "2", "--metamodel", saved_model]) == 0
    assert capsys.readouterr().out.startswith("#1")


def test_suggest_errors(corpus_path, saved_model, capsys, tmp_path):
    assert main(["suggest", str(corpus_path / "diabetes.tsv.gz"), "--space", "nope", "--metamodel", saved_model]) == 2
    assert "Unknown search space 'nope'" in capsys.readouterr().err
    assert main(["suggest", str(corpus_path / "diabetes.tsv.gz"), "--metamodel", str(tmp_path / "none")]) == 2
    assert "No meta-model at" in capsys.readouterr().err


def test_tune_warm_started_and_resumed(corpus_path, saved_model, tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    out = tmp_path / "best.json"
    argv = ["tune", str(corpus_path / "diabetes.tsv.gz"), "--trials", "4", "--metamodel", saved_model,
            "--storage", storage, "--out", str(out), "--quiet", "--max-rows", "400"]
    assert main(argv) == 0
    first = json.loads(out.read_text())
    assert first["trials"] == 4 and first["warm_started"] and 0.5 < first["best_score"] <= 1
    assert main([*argv[:3], "6", *argv[4:]]) == 0  # same study, 2 more trials
    assert json.loads(out.read_text())["trials"] == 6
    assert main([*argv, "--no-warm-start", "--storage", f"sqlite:///{tmp_path / 'cold.db'}"]) == 0
    assert "best roc_auc" in capsys.readouterr().out


def test_metamodel_fit_command(metadata, tmp_path, capsys):
    from autometa.knowledge import KnowledgeBase

    location = str(metadata_location(metadata))
    assert main(["metamodel", "fit", "--location", location, "--method", "portfolio", "--out", str(tmp_path / "m")]) == 0
    assert "portfolio meta-model for lightgbm fitted on 8 datasets" in capsys.readouterr().out
    assert MetaModel.load(tmp_path / "m").method == "portfolio"
    assert KnowledgeBase(location).manifest("lightgbm")["pool"]["size"] == 17


def metadata_location(metadata):
    return metadata[2]
