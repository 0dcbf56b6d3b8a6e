"""Meta-data normalization, the greedy portfolio, kNN and leave-group-out validation, on hand-made data."""

import itertools

import numpy as np
import pandas as pd
import pytest

from autometa.groups import group_folds
from autometa.metamodel import (
    MetaData,
    Scaling,
    expected_random_best_of,
    greedy_best_of,
    greedy_portfolio,
    l1_distances,
    leave_group_out,
    nearest_dataset_configs,
)


@pytest.fixture
def tiny():
    scores = pd.DataFrame(
        {0: [0.5, 0.9, 0.2, 0.7], 1: [0.9, 0.5, 0.4, np.nan], 2: [0.7, 0.7, 0.6, 0.7]},
        index=["a", "b", "c", "d"],
    )
    configs = pd.DataFrame({"x": [0.1, 0.5, 0.9]}, index=[0, 1, 2])
    metafeatures = pd.DataFrame({"m1": [0.0, 1.0, 10.0, 2.0], "m2": [5.0, 5.0, 5.0, 5.0]}, index=scores.index)
    groups = pd.Series({"a": "g1", "b": "g1", "c": "g2", "d": "g3"})
    tasks = pd.Series("binary", index=scores.index)
    return MetaData("toy", scores, configs, metafeatures, groups, tasks)


def test_normalized_scores_and_regret(tiny):
    normalized = tiny.normalized()
    assert normalized.loc["a"].tolist() == pytest.approx([0.0, 1.0, 0.5])
    assert normalized.loc["c"].tolist() == pytest.approx([0.0, 0.5, 1.0])
    assert normalized.loc["d"].tolist() == [1.0, 0.0, 1.0]  # failed fit = worst; ties share the best
    assert tiny.regret().loc["b"].tolist() == pytest.approx([0.0, 1.0, 0.5])


def test_flat_dataset_is_all_best():
    scores = pd.DataFrame({0: [0.7], 1: [0.7]}, index=["flat"])
    md = MetaData(
        "toy",
        scores,
        pd.DataFrame(),
        pd.DataFrame(index=["flat"]),
        pd.Series({"flat": "g"}),
        pd.Series({"flat": "binary"}),
    )
    assert md.normalized().loc["flat"].tolist() == [1.0, 1.0]


def test_greedy_portfolio_hand_computed(tiny):
    # regrets: a [1, 0, .5], b [0, 1, .5], c [1, .5, 0], d [0, 1, 0]
    # step 1 mean regret: c0 .5, c1 .625, c2 .25 -> 2; step 2 from [.5 .5 0 0]: c0 .25, c1 .375 -> 0
    assert greedy_portfolio(tiny.regret(), 2) == [2, 0]
    assert greedy_portfolio(tiny.regret(), 10) == [2, 0, 1]


def test_expected_random_best_of_matches_enumeration():
    regret = np.array([0.0, 0.2, 0.5, 0.9, 1.0])
    for k in (1, 2, 3, 5):
        exact = np.mean([min(c) for c in itertools.combinations(regret, k)])
        assert expected_random_best_of(regret, k) == pytest.approx(exact)


def test_scaling_and_l1(tiny):
    scaling = Scaling.fit(tiny.metafeatures)
    assert scaling.columns == ["m1"]  # m2 is constant
    scaled = scaling.transform(tiny.metafeatures)
    assert scaled[:, 0].tolist() == pytest.approx([0.0, 0.1, 1.0, 0.2])
    query = scaling.transform(pd.DataFrame({"m1": [np.nan], "m2": [1.0]}))
    assert query[0, 0] == pytest.approx(0.15)  # missing -> training median of the scaled values
    assert l1_distances(np.array([0.0, 1.0]), np.array([[1.0, 1.0], [0.5, 0.0]])).tolist() == [0.5, 0.75]


def test_nearest_dataset_configs_rounds_and_skips_taken():
    distances = pd.Series({"far": 0.9, "near": 0.1})
    best = {"near": [3, 1], "far": [3, 2]}
    assert nearest_dataset_configs(distances, best, 3) == [(3, "near"), (1, "near"), (2, "far")]


def test_leave_group_out_never_trains_on_the_held_out_group(tiny):
    seen = []

    class Spy:
        """A candidate whose meta-model records what it was trained on and what it is asked about."""

        def fit(self, train, space):

            class Model:
                def rank_pool(self, metafeatures, n):
                    seen.append((metafeatures.name, set(train.datasets)))
                    return [0, 1], False

            return Model()

    table = leave_group_out(tiny, None, {"spy": Spy()}, budgets=(1, 2))
    for held_out, trained_on in seen:
        assert held_out not in trained_on
        assert not {d for d in trained_on if tiny.groups[d] == tiny.groups[held_out]}
    assert dict(seen)["a"] == {"c", "d"}  # b is a's near-duplicate
    spy_rows = table[table.method == "spy"].set_index("dataset")
    assert spy_rows.loc["a", "regret@1"] == 1.0 and spy_rows.loc["a", "regret@2"] == 0.0
    assert set(table.method) == {"spy", "random"}


def test_group_folds_keep_groups_together(tiny):
    folds = group_folds(tiny, folds=2)
    assert sorted(sum(folds, [])) == tiny.datasets
    assert any({"a", "b"} <= set(f) for f in folds)
    assert group_folds(tiny, None) == [["a", "b"], ["c"], ["d"]]


def test_greedy_best_of_prefers_complementary_picks():
    # Two scenarios: config 0 is good in both (mean .6), 1 only in the first, 2 only in the second.
    scenarios = np.array([[0.6, 1.0, 0.0], [0.6, 0.0, 1.0]])
    assert greedy_best_of(scenarios, 1) == [0]
    assert greedy_best_of(scenarios, 3)[:2] in ([0, 1], [0, 2])
    assert sorted(greedy_best_of(scenarios, 3)) == [0, 1, 2]
