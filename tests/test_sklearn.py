"""The drop-in estimators: scikit-learn's own estimator checks, and real use on real data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import autometa
from autometa.sklearn import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    LGBMClassifier,
    LGBMRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    XGBClassifier,
    XGBRegressor,
)

# scikit-learn's checks fit on toy data of 12-21 rows, where a forest's suggested bootstrap fraction
# (max_samples, a tuned parameter) leaves few rows; scikit-learn warns of that, rightly, and this
# suite turns warnings into errors.
FEW_BOOTSTRAP_ROWS = "ignore:Using the fractional value max_samples:UserWarning"


@pytest.mark.filterwarnings(FEW_BOOTSTRAP_ROWS)
@parametrize_with_checks(
    [
        LGBMClassifier(),
        LGBMRegressor(),
        HistGradientBoostingClassifier(),
        HistGradientBoostingRegressor(),
        RandomForestClassifier(),
        RandomForestRegressor(),
        XGBClassifier(),
        XGBRegressor(),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def credit(corpus_path):
    dataset = autometa.load_dataset(corpus_path / "credit_g.tsv.gz")
    X, y = dataset.X, dataset.y.cat.codes.to_numpy()
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_fit_asks_autometa_and_predicts_held_out_rows(credit):
    X_train, X_test, y_train, y_test = credit
    model = LGBMClassifier().fit(X_train, y_train)
    first = autometa.suggest(autometa.load_dataset(X_train.assign(target=y_train), target="target"), n=1)[0]
    assert model.config_ == first.params and "nearest datasets" in model.reason_
    assert roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]) > 0.7  # rows the model never saw
    assert set(model.predict(X_test)) <= set(model.classes_)


@pytest.mark.parametrize(
    "drop_in, space, learner",
    [
        (XGBClassifier, "xgboost", "XGBClassifier"),
        (RandomForestClassifier, "random_forest", "RandomForestClassifier"),
    ],
)
def test_drop_in_fits_its_learner_with_its_own_suggestion(credit, drop_in, space, learner):
    import sklearn.ensemble
    import xgboost

    X_train, X_test, y_train, y_test = credit
    model = drop_in().fit(X_train, y_train)
    first = autometa.suggest(autometa.load_dataset(X_train.assign(target=y_train), target="target"), n=1, space=space)
    learners = {
        "XGBClassifier": xgboost.XGBClassifier,
        "RandomForestClassifier": sklearn.ensemble.RandomForestClassifier,
    }
    # The learner is the last step, after the space's categorical step.
    assert isinstance(model.estimator_[-1], learners[learner]) and model.config_ == first[0].params
    assert roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]) > 0.7  # credit_g has categorical columns


def test_several_suggestions_are_compared_on_a_validation_split(credit):
    X_train, _, y_train, _ = credit
    model = LGBMClassifier(n_suggestions=3, random_state=1).fit(X_train, y_train)
    assert model.validation_scores_.shape == (3,)
    assert model.config_ == model.suggestions_[int(np.argmax(model.validation_scores_))].params
    assert "chosen among 3" in model.reason_


def test_pipelines_and_cross_validation(corpus_path):
    dataset = autometa.load_dataset(corpus_path / "1027_ESL.tsv.gz")
    X, y = dataset.X.to_numpy(dtype=float), dataset.y.to_numpy(dtype=float)
    for regressor in (LGBMRegressor(), HistGradientBoostingRegressor(), RandomForestRegressor(), XGBRegressor()):
        scores = cross_val_score(make_pipeline(StandardScaler(), regressor), X, y, cv=3)
        assert scores.shape == (3,) and np.all(scores > 0.5)


def test_bad_settings_are_clear_errors(credit):
    X_train, _, y_train, _ = credit
    with pytest.raises(autometa.DataError, match="n_suggestions must be a positive integer"):
        LGBMClassifier(n_suggestions=0).fit(X_train, y_train)
