"""Held out means held out: no split that the validation or the discrete benchmark builds puts a
dataset and a sibling (a near-duplicate, a name-family member, a dataset with the same target) on
different sides. Checked on the training sets those functions really build, over the shipped
knowledge base, against siblings named independently of the grouping code."""

from __future__ import annotations

import re

import pytest

from autometa.knowledge import KnowledgeBase
from autometa.metamodel import MetaData

# Content twins and near-duplicates named in ../shared/datasets/README.md, plus name families
# written out by hand (not through autometa.datasets.name_family).
TWINS = [
    ("wdbc", "breast_cancer_wisconsin"),
    ("197_cpu_act", "227_cpu_small"),
    ("218_house_8L", "574_house_16H"),
    ("pima", "diabetes"),
    ("german", "credit_g"),
    ("195_auto_price", "207_autoPrice"),
]
FAMILIES = [
    r"_fri_c\d",
    r"^GAMETES_",
    r"^mfeat_",
    r"analcatdata_",
    r"cpu",
    r"^monk",
    r"^waveform",
    r"^led\d",
    r"^Hill_Valley",
    r"^wine_",
]


def _siblings(datasets: list[str]) -> dict[str, set[str]]:
    present = set(datasets)
    siblings: dict[str, set[str]] = {d: set() for d in datasets}
    for pattern in FAMILIES:
        members = {d for d in datasets if re.search(pattern, d)}
        for d in members:
            siblings[d] |= members - {d}
    for a, b in TWINS:
        if a in present and b in present:
            siblings[a].add(b)
            siblings[b].add(a)
    return siblings


def _leaks(splits: list[tuple[str, set[str]]], siblings: dict[str, set[str]]) -> list[str]:
    return sorted(
        {f"{held} held out, sibling {s} trained on" for held, train in splits for s in siblings[held] & train}
    )


@pytest.fixture(scope="module")
def kb_metadata():
    kb = KnowledgeBase()
    return kb, {
        grouping: MetaData.from_knowledge_base(kb, "lightgbm", grouping) for grouping in ("family", "near-duplicate")
    }


class _Spy:
    """A validation candidate that records what each held-out dataset's meta-model trained on."""

    def __init__(self):
        self.splits: list[tuple[str, set[str]]] = []

    def fit(self, train, space):
        spy, trained_on = self, set(train.datasets)

        class Model:
            def rank_pool(self, metafeatures, n):
                spy.splits.append((metafeatures.name, trained_on))
                return [0], False

        return Model()


@pytest.mark.parametrize("fold_seed", [0, 3])
def test_the_validation_never_trains_on_a_sibling(kb_metadata, fold_seed):
    from autometa.metamodel import leave_group_out

    kb, metadata = kb_metadata
    siblings = _siblings(metadata["family"].datasets)
    assert sum(map(len, siblings.values())) > 300  # the check has siblings to look for

    spy = _Spy()
    leave_group_out(metadata["family"], kb.space("lightgbm"), {"spy": spy}, budgets=(1,), folds=10, seed=fold_seed)
    assert len(spy.splits) == len(metadata["family"].datasets)
    assert not _leaks(spy.splits, siblings)

    # With the family rule switched off (near-duplicate groups only), the same check finds leaks.
    spy = _Spy()
    leave_group_out(
        metadata["near-duplicate"], kb.space("lightgbm"), {"spy": spy}, budgets=(1,), folds=10, seed=fold_seed
    )
    assert len(_leaks(spy.splits, siblings)) > 50


def test_the_discrete_benchmark_never_trains_on_a_sibling(kb_metadata, monkeypatch):
    import autometa.benchmark._discrete as discrete

    kb, metadata = kb_metadata
    siblings = _siblings(metadata["family"].datasets)
    splits: list[tuple[str, set[str]]] = []

    def spy(fold, held, pool, budget, seed):
        splits.append((held.dataset, set(fold.train.datasets)))
        return [0]

    monkeypatch.setitem(discrete.METHODS, "spy", spy)
    for grouping, expect_leaks in (("family", False), ("near-duplicate", True)):
        splits.clear()
        discrete.run_discrete(metadata[grouping], kb.space("lightgbm"), methods=["spy"], budget=1, seeds=1, folds=10)
        assert {held for held, _ in splits} == set(metadata[grouping].datasets)
        assert bool(_leaks(splits, siblings)) == expect_leaks, grouping


def test_benchmark_and_validation_default_to_family_groups(kb_metadata):
    import inspect

    from autometa.benchmark import benchmark

    kb, metadata = kb_metadata
    default = MetaData.from_knowledge_base(kb, "lightgbm")
    assert default.groups.equals(metadata["family"].groups)
    assert inspect.signature(benchmark).parameters["grouping"].default == "family"


def test_corpus_groups_hold_families_and_twins(corpus_path, capsys):
    from autometa.cli import main
    from autometa.datasets import corpus_groups

    groups = corpus_groups(corpus_path)
    siblings = _siblings(sorted(groups))
    for name, others in siblings.items():
        assert {groups[o] for o in others} <= {groups[name]}, name
    assert len({groups[d] for d in groups if "_fri_c" in d}) == 1
    assert main(["corpus", "groups", "--corpus", str(corpus_path)]) == 0
    out = capsys.readouterr().out
    assert "wdbc: same target as breast_cancer_wisconsin" in out
    assert "mfeat_pixel: name family 'mfeat' (6 datasets)" in out
    near = corpus_groups(corpus_path, rules=["near-duplicate"])
    assert near["wdbc"] != near["breast_cancer_wisconsin"] and near["pima"] == near["diabetes"]
