import pandas as pd
import pytest

from autometa import DataError, load_corpus
from autometa.datasets import corpus_groups, fingerprint, near_duplicate_groups


def test_load_corpus_filters_caps_and_annotates(corpus_path):
    names = ["pima", "diabetes", "1027_ESL", "iris"]
    datasets = list(load_corpus(corpus_path, names=names, task="classification", max_rows=100))
    assert [d.name for d in datasets] == ["diabetes", "iris", "pima"]  # index order, regression dropped
    assert all(d.n_rows <= 100 and d.fingerprint and d.group for d in datasets)
    pima, diabetes = datasets[2], datasets[0]
    assert pima.group == diabetes.group and pima.group != datasets[1].group
    assert pima.provenance["subsampled_from_rows"] == 768


def test_known_near_duplicates_share_a_group(corpus_path):
    groups = corpus_groups(corpus_path, rules=["near-duplicate"])
    assert len(groups) == 280
    for names in [
        ("pima", "diabetes"),
        ("breast", "breast_w"),
        ("crx", "credit_a", "buggyCrx"),
        ("german", "credit_g"),
        ("heart_c", "cleve"),
        ("195_auto_price", "207_autoPrice"),
        ("house_votes_84", "vote"),
        ("glass", "prnn_fglass"),
    ]:
        assert len({groups[n] for n in names}) == 1, names
    assert groups["pima"] != groups["iris"]
    sizes = pd.Series(groups).value_counts()
    assert sizes.max() <= 4  # no runaway merging of unrelated datasets
    # Every rule together: the largest group is the Friedman family, nothing merges beyond it.
    every = pd.Series(corpus_groups(corpus_path))
    assert every.value_counts().max() == 62 == every.index.str.contains("_fri_c").sum()
    assert all(every[n] == every["pima"] for n in ("pima", "diabetes"))


def test_fingerprint_ignores_column_order_and_relabelling():
    a = pd.DataFrame({"x": [1, 2, 2, 3, 3, 3], "c": [0, 0, 1, 1, 1, 1], "target": [0, 1, 0, 1, 0, 1]})
    b = a[["target", "c", "x"]].rename(columns={"x": "renamed"})
    b["c"] = b["c"].map({0: 7, 1: 9})
    c = a.assign(x=[1, 1, 1, 3, 3, 3])
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(c)
    groups = near_duplicate_groups({"a": a, "b": b, "c": c})
    assert groups["a"] == groups["b"]


def test_bad_corpus_arguments(corpus_path, tmp_path):
    with pytest.raises(DataError, match="Unknown task filter"):
        next(load_corpus(corpus_path, task="ranking"))
    with pytest.raises(DataError, match="Not in the corpus"):
        next(load_corpus(corpus_path, names=["no_such_dataset"]))
    with pytest.raises(DataError, match="No corpus index"):
        next(load_corpus(tmp_path))
