"""Search spaces and the evaluation protocol."""

import numpy as np
import pandas as pd
import pytest

from autometa import load_dataset
from autometa.protocol import Protocol, evaluate, fold_indices, ovr_auc, prepare_rows
from autometa.spaces import SPACES, UnknownSpaceError, get_space


@pytest.mark.parametrize("name", sorted(SPACES))
def test_pool_is_deterministic_starts_with_defaults_and_stays_in_range(name):
    space = get_space(name)
    pool = space.pool(64, seed=0)
    assert pool == space.pool(64, seed=0) and pool != space.pool(64, seed=1)
    assert len(pool) == 65 and pool[0] == space.defaults
    for config in pool:
        assert set(config) == set(space.params)
        for key, value in config.items():
            p = space.params[key]
            assert p.low <= value <= p.high
            assert isinstance(value, int) if p.integer else isinstance(value, float)
    # space-filling: every parameter's unit-scale values spread over the whole range
    for key, p in space.params.items():
        values = np.array([c[key] for c in pool[1:]], dtype=float)
        unit = (
            (np.log(values) - np.log(p.low)) / (np.log(p.high) - np.log(p.low))
            if p.log
            else (values - p.low) / (p.high - p.low)
        )
        assert unit.min() < 0.1 and unit.max() > 0.9, key


def test_distributions_match_params_and_fingerprint_is_stable():
    space = get_space("lightgbm")
    dists = space.distributions()
    assert set(dists) == set(space.params) and dists["learning_rate"].log
    assert space.fingerprint() == get_space("lightgbm").fingerprint()
    assert space.fingerprint() != get_space("hist_gradient_boosting").fingerprint()


def test_unknown_space_is_a_clear_error():
    with pytest.raises(UnknownSpaceError, match="Unknown search space 'xgb'. Available: "):
        get_space("xgb")


def test_ovr_auc_hand_computed():
    y = np.array([0, 0, 1, 1, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1], [0.5, 0.4, 0.1], [0.1, 0.1, 0.8]])
    # class 0: positives .8 .6 vs negatives .3 .5 .1 -> 6/6; class 1: .6 .4 vs .1 .3 .1 -> 6/6;
    # class 2: .8 vs .1 x4 -> 1. Every class separable: macro AUC 1.
    assert ovr_auc(y, proba) == 1.0
    proba[3] = [0.7, 0.2, 0.1]  # class 0: .8 .6 vs .3 .7 .1 -> 5/6; class 1: .6 .2 vs .1 .3 .1 -> 5/6
    assert ovr_auc(y, proba) == pytest.approx((5 / 6 + 5 / 6 + 1) / 3)


@pytest.mark.parametrize("space", sorted(SPACES))
@pytest.mark.parametrize("name", ["iris", "credit_g", "1027_ESL"])  # multiclass; categorical columns; regression
def test_evaluate_real_datasets_with_defaults(corpus_path, name, space):
    pytest.importorskip("xgboost") if space == "xgboost" else None
    dataset = load_dataset(corpus_path / f"{name}.tsv.gz")
    protocol = Protocol()
    rows = prepare_rows(dataset, protocol)
    result = evaluate(get_space(space), get_space(space).defaults, rows, protocol)
    assert result.ok and len(result.fold_scores) == 3, result.error
    assert 0.5 < result.score <= 1.0
    assert np.isnan(result.log_loss) == (dataset.task == "regression")


def test_the_xgboost_defaults_are_xgboosts_own():
    """The space's defaults are what XGBoost fits when given nothing (its alpha 0 is 1e-8 here)."""
    import json

    xgboost = pytest.importorskip("xgboost")
    X, y = np.random.default_rng(0).normal(size=(50, 3)), np.arange(50) % 2
    config = json.loads(xgboost.XGBClassifier(n_jobs=1).fit(X, y).get_booster().save_config())
    train = config["learner"]["gradient_booster"]["tree_train_param"]
    defaults = get_space("xgboost").defaults
    for own, theirs in [
        ("learning_rate", "eta"),
        ("max_depth", "max_depth"),
        ("min_child_weight", "min_child_weight"),
        ("subsample", "subsample"),
        ("colsample_bytree", "colsample_bytree"),
        ("reg_lambda", "lambda"),
    ]:
        assert float(train[theirs]) == pytest.approx(defaults[own]), own
    assert float(train["alpha"]) == 0 and defaults["reg_alpha"] == 1e-8
    assert xgboost.XGBClassifier().get_params()["n_estimators"] in (None, 100) and defaults["n_estimators"] == 100


def test_rare_classes_fall_back_to_plain_folds_and_failures_are_recorded():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=60)})
    y = np.array([0] * 30 + [1] * 28 + [2] * 2)
    dataset = load_dataset((X, y))
    folds = fold_indices(dataset, Protocol(folds=3))
    assert len(folds) == 3 and sorted(np.concatenate([t for _, t in folds])) == list(range(60))
    broken = evaluate(get_space("lightgbm"), {**get_space("lightgbm").defaults, "num_leaves": -5}, dataset, Protocol())
    assert not broken.ok and np.isnan(broken.score) and "num_leaves" in broken.error


def test_row_cap_is_stratified_and_seeded(corpus_path):
    dataset = load_dataset(corpus_path / "adult.tsv.gz")
    rows = prepare_rows(dataset, Protocol(max_rows=500))
    assert rows.n_rows == 500 and rows.X.equals(prepare_rows(dataset, Protocol(max_rows=500)).X)
    share = dataset.y.value_counts(normalize=True).sort_index()
    assert np.allclose(rows.y.value_counts(normalize=True).sort_index(), share, atol=0.01)


def test_the_random_forest_defaults_are_scikit_learns_own():
    """The library defaults build the very forests scikit-learn fits when given nothing (the
    classifier's "sqrt" columns, unlimited leaves, n bootstrap rows): the same predictions."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    space = get_space("random_forest")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(300, 9)), columns=[f"x{i}" for i in range(9)])
    labels, target = (X["x0"] + X["x1"] > 0).astype(int).to_numpy(), (X["x0"] * X["x2"]).to_numpy()
    assert space.library_defaults("regression") == space.defaults  # the pool's first configuration
    assert space.library_defaults("binary")["max_features"] == "sqrt"
    ours = space.estimator("binary", space.library_defaults("binary"), random_state=3).fit(X, labels)
    theirs = RandomForestClassifier(random_state=3).fit(X, labels)
    np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))
    ours = space.estimator("regression", space.library_defaults("regression"), random_state=3).fit(X, target)
    theirs = RandomForestRegressor(random_state=3).fit(X, target)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    # A peer's own seed is part of its configuration; the pool's use the protocol's.
    assert space.estimator("binary", {"random_state": 7}, random_state=3)[-1].random_state == 7


def test_random_forest_reads_categories_as_codes_with_missing_values():
    space = get_space("random_forest")
    X = pd.DataFrame(
        {
            "colour": pd.Categorical(["red", "blue", None, "green"] * 25, categories=["blue", "green", "red"]),
            "size": np.arange(100.0),
        }
    )
    X.loc[::9, "size"] = np.nan
    y = (X["colour"] == "red").to_numpy().astype(int)
    model = space.estimator("binary", space.pool(2)[1]).fit(X, y)
    codes = model[0].transform(X)
    assert codes["colour"].iloc[[0, 1, 3]].tolist() == [2.0, 0.0, 1.0] and np.isnan(codes["colour"].iloc[2])
    assert model.predict_proba(X.iloc[:4]).shape == (4, 2)
