"""Behaviour on real and messy data: never a crashed extraction, same seed same values."""

import numpy as np
import pandas as pd
import pytest

import metafeatures
from autometa import load_dataset
from metafeatures import MetafeatureInputError


def test_messy_columns_give_nan_with_reasons_not_errors():
    rng = np.random.default_rng(0)
    n = 60
    X = pd.DataFrame(
        {
            "all_nan": np.full(n, np.nan),
            "constant": np.ones(n),
            "with_inf": np.where(rng.random(n) < 0.1, np.inf, rng.normal(size=n)),
            "text": rng.choice(["a", "b", None], size=n),
            "mixed": [1, "x"] * (n // 2),
            "flag": rng.random(n) < 0.5,
        }
    )
    result = metafeatures.extract_all(X, rng.choice(["u", "v"], size=n))
    values = result.values
    assert list(values.index) == metafeatures.list_metafeatures()
    assert np.isfinite(values.dropna()).all()
    assert set(values.index[values.isna()]) == set(result.failures)
    assert values["nr_attr"] == 6 and values["nr_cat"] == 3
    assert values["missing_share"] > 0


def test_only_categorical_columns_still_have_statistics():
    X = pd.DataFrame({"a": list("xyzxyz" * 5), "b": list("ppqqpq" * 5)})
    values = metafeatures.extract(X, [0, 1, 1] * 10)
    assert np.isfinite(values["skewness.mean"]) and np.isfinite(values["mut_inf.mean"])


def test_same_seed_same_values_other_seed_other_subsample(corpus_path):
    d = load_dataset(corpus_path / "adult.tsv.gz")
    a = metafeatures.extract(d, max_rows=1000, random_state=1)
    b = metafeatures.extract(d, max_rows=1000, random_state=1)
    c = metafeatures.extract(d, max_rows=1000, random_state=2)
    pd.testing.assert_series_equal(a, b)
    assert not a.equals(c)
    assert a["nr_inst"] == c["nr_inst"] == d.n_rows  # general features use the full data


@pytest.mark.parametrize("name", ["iris", "1027_ESL", "credit_g", "mfeat_pixel", "analcatdata_dmft"])
def test_real_datasets_mostly_finite(corpus_path, name):
    d = load_dataset(corpus_path / f"{name}.tsv.gz")
    result = metafeatures.extract_all(d)
    reasons = set(result.failures.values())
    allowed = {"regression only", "classification only", "no items (e.g. no such columns)"}
    assert reasons <= allowed, reasons - allowed


def test_bad_input():
    with pytest.raises(MetafeatureInputError, match="same number of rows"):
        metafeatures.extract(np.ones((4, 2)), [0, 1, 0])
    with pytest.raises(MetafeatureInputError, match="single class"):
        metafeatures.extract(np.ones((4, 2)), ["a"] * 4)
    with pytest.raises(MetafeatureInputError, match="non-empty"):
        metafeatures.extract(np.ones((0, 2)), [])
    with pytest.raises(MetafeatureInputError, match="Expected 2D array"):
        metafeatures.extract(np.ones(4), [0, 1, 0, 1])
    with pytest.raises(MetafeatureInputError, match="needs a target"):
        metafeatures.extract(np.ones((4, 2)))
    with pytest.raises(MetafeatureInputError, match="Unknown metafeature groups"):
        metafeatures.extract(np.ones((4, 2)), [0, 1, 0, 1], groups=["general", "nope"])
    with pytest.raises(MetafeatureInputError, match="all missing"):
        metafeatures.extract(np.ones((4, 2)), [np.nan] * 4)
