"""Exact values on tiny hand-made data (worked out by hand in the comments)."""

import numpy as np
import pandas as pd
import pytest

import metafeatures


@pytest.fixture
def tiny():
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", "b"]})
    return X, np.array([0, 0, 1, 1])


def test_general(tiny):
    v = metafeatures.extract(*tiny, groups="general")
    expected = {
        "nr_inst": 4,
        "nr_attr": 2,
        "nr_num": 1,
        "nr_cat": 1,
        "nr_bin": 1,  # "c" has 2 levels
        "attr_to_inst": 0.5,
        "inst_to_attr": 2,
        "cat_share": 0.5,
        "missing_share": 0,
        "nr_class": 2,
        "class_ent": 1.0,
        "class_ent_norm": 1.0,
        "majority_share": 0.5,
        "imbalance_ratio": 1.0,
        "freq_class.mean": 0.5,
        "freq_class.sd": 0.0,
        "cat_levels.max": 2,
    }
    for name, value in expected.items():
        assert v[name] == pytest.approx(value), name
    assert np.isnan(v["target_skewness"]) and v.attrs["failures"]["target_skewness"] == "regression only"


def test_statistical(tiny):
    v = metafeatures.extract(*tiny, groups="statistical")
    # Numeric view: x = [1, 2, 3, 4] and the two dummies of c: [1, 1, 0, 0] and [0, 0, 1, 1].
    # x: mean 2.5, s^2 = 5/3, m3 = 0, m4 = (2 * 1.5^4 + 2 * 0.5^4) / 4 = 2.5625
    # dummies: mean 0.5, s^2 = 1/3, m3 = 0, m4 = 0.0625
    kurt_x = 2.5625 / (5 / 3) ** 2 - 3
    kurt_d = 0.0625 / (1 / 3) ** 2 - 3
    assert v["skewness.mean"] == pytest.approx(0.0, abs=1e-12)
    assert v["kurtosis.max"] == pytest.approx(kurt_x)
    assert v["kurtosis.min"] == pytest.approx(kurt_d)
    assert v["sd.max"] == pytest.approx(np.sqrt(5 / 3))
    assert v["iq_range.max"] == pytest.approx(1.5)  # numpy's linear quantiles: 3.25 - 1.75
    # eta of x with the classes: between SS 2*1^2 + 2*1^2 = 4 over total SS 5.
    assert v["target_assoc.max"] == pytest.approx(1.0)  # each dummy equals the class
    assert v["target_assoc.min"] == pytest.approx(np.sqrt(0.8))
    # |cor|(x, dummy) = 2 / sqrt(5) for both dummies; the dummies are perfectly anticorrelated.
    assert v["cor.max"] == pytest.approx(1.0) and v["cor.min"] == pytest.approx(2 / np.sqrt(5))
    assert v["nr_outliers"] == 0


def test_info_theory(tiny):
    v = metafeatures.extract(*tiny, groups="info-theory")
    # floor(4 ** (1/3)) = 1 -> 2 bins; x splits at its median into [1, 2] | [3, 4], like y and c.
    for name in ("attr_ent.mean", "joint_ent.mean", "mut_inf.mean", "target_ent", "eq_num_attr", "max_mut_inf_norm"):
        assert v[name] == pytest.approx(1.0), name
    assert v["ns_ratio"] == pytest.approx(0.0)


def test_regression_target():
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    y = np.array([0.5, 1.5, 2.0, 2.5, 10.0])
    v = metafeatures.extract(X, y, groups=["general", "statistical"])
    d = y - y.mean()
    m2, m3 = np.mean(d**2), np.mean(d**3)
    assert v["target_skewness"] == pytest.approx(m3 / m2**1.5)  # Fisher-Pearson, biased
    assert v["target_unique_share"] == 1.0
    assert v["target_assoc.mean"] == pytest.approx(abs(np.corrcoef(X["x"], y)[0, 1]))
    assert np.isnan(v["nr_class"])


def test_model_based_on_separable_data():
    X = np.arange(40, dtype=float)[:, None]
    y = (X[:, 0] >= 20).astype(int)
    v = metafeatures.extract(X, y, groups="model-based")
    assert (v["leaves"], v["nodes"], v["tree_depth"]) == (2, 1, 1)
    assert v["leaves_corrob.mean"] == pytest.approx(0.5) and v["var_importance.max"] == 1.0


def test_landmarking_on_separable_data():
    X = np.arange(200, dtype=float)[:, None]
    y = (X[:, 0] >= 100).astype(int)
    v = metafeatures.extract(X, y, groups="landmarking")
    # A stump splits halfway between training points, so a boundary test point may fall wrong.
    assert v["best_node.mean"] >= 0.98 and v["random_node.mean"] == v["best_node.mean"]  # one column
    assert v["one_nn.mean"] >= 0.98 and v["linear.mean"] >= 0.98


def test_catalog_names_and_descriptions():
    names = metafeatures.list_metafeatures()
    assert len(names) == len(set(names)) > 150
    assert names[:2] == ["nr_inst", "nr_attr"]
    info = metafeatures.describe("skewness.mean")
    assert info["group"] == "statistical" and "mean" in info["definition"] and info["reference"]
    assert metafeatures.list_metafeatures("landmarking") == [
        f"{n}.{s}" for n in ("best_node", "random_node", "one_nn", "linear", "naive_bayes") for s in ("mean", "sd")
    ]
    with pytest.raises(metafeatures.MetafeatureInputError, match="Unknown metafeature 'nope'"):
        metafeatures.describe("nope")
