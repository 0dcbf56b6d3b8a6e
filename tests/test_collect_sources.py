"""A knowledge base from the user's own sources: OpenML ids, suites and files, offline through
the shared OpenML cache (issue: what a user touches, "a knowledge base from the user's own
sources")."""

from __future__ import annotations

import pandas as pd
import pytest

import autometa
from autometa.cli import main
from autometa.datasets import load_corpus, read_corpus_index
from autometa.knowledge import KnowledgeBase


@pytest.fixture
def anneal_csv(openml_cache, tmp_path):
    """OpenML dataset 2 (anneal), saved as a user's CSV under another name: a near-duplicate."""
    anneal = autometa.load_dataset("openml:2")
    path = tmp_path / "files" / "my_anneal.csv"
    path.parent.mkdir()
    anneal.X.assign(label=anneal.y).to_csv(path, index=False)
    return path


def test_corpus_add_writes_the_layout_and_is_idempotent(openml_cache, anneal_csv, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    args = ["corpus", "add", "--corpus", str(corpus), "--openml", "2", "--datasets", str(anneal_csv)]
    assert main([*args, "--target", "label"]) == 0
    entries = {e.name: e for e in read_corpus_index(corpus)}
    assert set(entries) == {"2_anneal", "my_anneal"}
    assert entries["2_anneal"].openml_id == 2 and entries["2_anneal"].openml_id_source == "exact"
    loaded = {d.name: d for d in load_corpus(corpus)}
    original = autometa.load_dataset("openml:2")
    assert loaded["2_anneal"].task == original.task == "multiclass"
    assert loaded["2_anneal"].X.shape == original.X.shape
    assert (loaded["2_anneal"].y.astype(str).to_numpy() == original.y.astype(str).to_numpy()).all()
    # Content twins share a group; adding again changes nothing.
    assert loaded["2_anneal"].group == loaded["my_anneal"].group
    assert main([*args, "--target", "label"]) == 0
    assert len(pd.read_csv(corpus / "index.csv")) == 2


def test_the_same_name_with_other_content_is_refused(openml_cache, anneal_csv, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    assert main(["corpus", "add", "--corpus", str(corpus), "--datasets", str(anneal_csv), "--target", "label"]) == 0
    other = pd.read_csv(anneal_csv).head(100)
    other.to_csv(anneal_csv, index=False)
    assert main(["corpus", "add", "--corpus", str(corpus), "--datasets", str(anneal_csv), "--target", "label"]) == 2
    assert "already has a dataset named 'my_anneal' with other content" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--datasets", "nowhere.csv", "--target", "y"], "no such file"),
        (["--openml-suite", "99"], "suite 99 is not in the OpenML cache"),
        ([], "Nothing to add"),
    ],
)
def test_bad_sources_are_one_line_errors(openml_cache, tmp_path, capsys, extra, message):
    assert main(["corpus", "add", "--corpus", str(tmp_path / "c"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_datasets_need_a_target(openml_cache, anneal_csv, tmp_path, capsys):
    assert main(["corpus", "add", "--corpus", str(tmp_path / "c"), "--datasets", str(anneal_csv)]) == 2
    assert "--datasets needs --target" in capsys.readouterr().err


def test_collect_from_openml_and_files_builds_a_grouped_knowledge_base(openml_cache, anneal_csv, tmp_path):
    corpus, kb = tmp_path / "corpus", tmp_path / "kb"
    command = [
        "collect",
        "--corpus",
        str(corpus),
        "--openml",
        "2",
        "--datasets",
        str(anneal_csv),
        "--target",
        "label",
        "--configs",
        "2",
        "--storage",
        f"sqlite:///{tmp_path / 'c.db'}",
        "--out",
        str(kb),
        "--quiet",
    ]
    assert main(command) == 0
    knowledge = KnowledgeBase(kb)
    evaluations = knowledge.evaluations("lightgbm")
    assert sorted(evaluations["dataset"].unique()) == ["2_anneal", "my_anneal"]
    assert len(evaluations) == 2 * 3 and evaluations["score"].notna().all()
    groups = knowledge.groups("lightgbm")
    assert groups["2_anneal"] == groups["my_anneal"]  # held out together
    assert set(knowledge.metafeatures().index) >= {"2_anneal", "my_anneal"}
