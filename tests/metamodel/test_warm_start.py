"""autometa.optuna.warm_start on real Optuna studies."""

import numpy as np
import optuna
import pytest

from autometa import DataError
from autometa.optuna import map_params, warm_start


@pytest.fixture
def model(metadata):
    from autometa.metamodel import MetaModel

    data, params, _ = metadata
    return MetaModel("lightgbm", "knn").fit(data, params)


def _dataset(corpus_path):
    return corpus_path / "diabetes.tsv.gz"


def test_map_params_aliases_clipping_rounding_categoricals():
    distributions = {
        "eta": optuna.distributions.FloatDistribution(0.01, 0.2, log=True),
        "num_leaves": optuna.distributions.IntDistribution(4, 64, step=4),
        "feature_fraction": optuna.distributions.CategoricalDistribution([0.5, 0.8, 1.0]),
        "boosting": optuna.distributions.CategoricalDistribution(["gbdt", "dart"]),
    }
    params = {"learning_rate": 0.5, "num_leaves": 13, "colsample_bytree": 0.7, "subsample": 0.9}
    assert map_params(params, distributions) == {"eta": 0.2, "num_leaves": 12, "feature_fraction": 0.8}


@pytest.mark.parametrize("sampler", [optuna.samplers.TPESampler(seed=0), optuna.samplers.RandomSampler(seed=0)])
def test_warm_start_enqueues_first_trials(corpus_path, model, sampler):
    study = optuna.create_study(direction="maximize", sampler=sampler)
    distributions = {
        "learning_rate": optuna.distributions.FloatDistribution(1e-3, 1.0, log=True),
        "num_leaves": optuna.distributions.IntDistribution(2, 256, log=True),
        "booster": optuna.distributions.CategoricalDistribution(["gbdt", "goss"]),
    }
    enqueued = warm_start(study, _dataset(corpus_path), n=3, distributions=distributions, metamodel=model)
    assert 1 <= len(enqueued) <= 3 and all(set(p) == {"learning_rate", "num_leaves"} for p in enqueued)

    def objective(trial):
        lr = trial.suggest_float("learning_rate", 1e-3, 1.0, log=True)
        leaves = trial.suggest_int("num_leaves", 2, 256, log=True)
        trial.suggest_categorical("booster", ["gbdt", "goss"])
        return -abs(np.log(lr)) - leaves / 1000

    study.optimize(objective, n_trials=len(enqueued) + 2)
    first = [{k: t.params[k] for k in ("learning_rate", "num_leaves")} for t in study.trials[: len(enqueued)]]
    assert first == enqueued
    again = warm_start(study, _dataset(corpus_path), n=3, metamodel=model)  # distributions read from trials
    assert again == enqueued and len(study.get_trials(states=(optuna.trial.TrialState.WAITING,))) == 0


def test_no_shared_parameter_is_a_clear_error(corpus_path, model):
    study = optuna.create_study()
    with pytest.raises(DataError, match="shares no parameter"):
        warm_start(
            study,
            _dataset(corpus_path),
            distributions={"C": optuna.distributions.FloatDistribution(0.1, 10)},
            metamodel=model,
        )


def test_meta_sampler_screens_base_candidates(metadata, corpus_path):
    from autometa.metamodel import MetaModel
    from autometa.optuna import MetaSampler

    data, params, _ = metadata
    model = MetaModel("lightgbm", "surrogate", members=2).fit(data, params)
    base = optuna.samplers.TPESampler(multivariate=True, n_startup_trials=3, seed=0)
    sampler = MetaSampler(_dataset(corpus_path), base_sampler=base, metamodel=model, n_candidates=4)
    assert isinstance(sampler, optuna.samplers.BaseSampler) and isinstance(sampler, MetaSampler)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    screened = []
    predict = sampler.predict
    sampler.predict = lambda candidates: screened.append(len(candidates)) or predict(candidates)

    def objective(trial):
        lr = trial.suggest_float("learning_rate", 1e-3, 1.0, log=True)
        leaves = trial.suggest_int("num_leaves", 2, 256, log=True)
        return -abs(np.log(lr / 0.1)) - abs(np.log(leaves / 16))

    study.optimize(objective, n_trials=8)
    assert len(study.trials) == 8 and all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert screened and set(screened) == {4}  # after the 3 startup trials, 4 TPE candidates each
    with pytest.raises(DataError, match="method='surrogate'"):
        MetaSampler(_dataset(corpus_path), metamodel=MetaModel("lightgbm", "knn").fit(data, params))
