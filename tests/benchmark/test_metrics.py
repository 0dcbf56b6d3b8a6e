"""Benchmark metrics on hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from autometa.benchmark import average_rank, best_so_far_regret, regret_at_time, trials_to_reach, win_tie_loss


def test_best_so_far_regret():
    # pool best 0.9, worst 0.5 (spread 0.4): scores .6 -> .75, .8 -> .25, .7 stays .25, NaN stays, .9 -> 0
    regret = best_so_far_regret(np.array([0.6, 0.8, 0.7, np.nan, 0.9]), 0.9, 0.5)
    assert regret.tolist() == pytest.approx([0.75, 0.25, 0.25, 0.25, 0.0])
    assert best_so_far_regret(np.array([np.nan]), 0.9, 0.5).tolist() == [1.0]
    assert best_so_far_regret(np.array([0.3]), 0.3, 0.3).tolist() == [0.0]


def test_average_rank_with_ties():
    curves = pd.DataFrame(
        {
            "dataset": ["d1"] * 3 + ["d2"] * 3,
            "seed": 0,
            "budget": 1,
            "method": ["a", "b", "c"] * 2,
            "regret": [0.1, 0.1, 0.5, 0.0, 0.2, 0.3],
        }
    )
    # d1: a and b tie for ranks 1-2 -> 1.5 each, c 3; d2: a 1, b 2, c 3
    ranks = average_rank(curves)
    assert ranks.loc[1].to_dict() == {"a": 1.25, "b": 1.75, "c": 3.0}


def test_win_tie_loss():
    curves = pd.DataFrame(
        {
            "dataset": ["d1", "d1", "d2", "d2", "d3", "d3"],
            "seed": 0,
            "budget": 5,
            "method": ["ours", "tpe"] * 3,
            "regret": [0.1, 0.2, 0.3, 0.3, 0.5, 0.4],
        }
    )
    assert win_tie_loss(curves, "ours", "tpe", 5) == (1, 1, 1)


def test_trials_to_reach():
    cold = np.array([0.5, 0.3, 0.2, 0.1, 0.05])
    assert trials_to_reach(cold, 0.2) == 3.0
    assert trials_to_reach(cold, 0.5) == 1.0
    assert trials_to_reach(cold, 0.01) == float("inf")


def test_paired_difference_by_hand():
    from autometa.benchmark._metrics import paired_difference

    result = paired_difference(np.array([-1.0, 0.0, 1.0, -2.0]))
    assert result["difference"] == pytest.approx(-0.5)
    assert (result["better on"], result["worse on"]) == (2, 1)
    assert -2.0 <= result["95% low"] <= -0.5 <= result["95% high"] <= 1.0
    constant = paired_difference(np.full(10, 0.25))
    assert constant["95% low"] == constant["95% high"] == pytest.approx(0.25)


def test_regret_at_time_by_hand():
    # a: trials end at times 2, 3, 7 with regrets .5, .2, .1; b: one trial at time 0.5, regret .3.
    # c: no recorded times (an older run): left out.
    curves = pd.DataFrame(
        {
            "dataset": ["d"] * 9,
            "seed": [0] * 9,
            "method": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
            "budget": [1, 2, 3] * 3,
            "regret": [0.5, 0.2, 0.1, 0.3, 0.3, 0.3, 0.0, 0.0, 0.0],
            "time": [2.0, 3.0, 7.0, 0.5, 0.5, 0.5, np.nan, np.nan, np.nan],
        }
    )
    table = regret_at_time(curves, [1, 3, 10])
    assert list(table.columns) == ["a", "b"]
    assert table["a"].tolist() == pytest.approx([1.0, 0.2, 0.1])  # nothing finished by time 1
    assert table["b"].tolist() == pytest.approx([0.3, 0.3, 0.3])
