"""autometa.optuna.warm_start on real Optuna studies."""

import numpy as np
import optuna
import pytest

import autometa
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


def test_an_empty_study_without_distributions_is_a_clear_error(corpus_path, model):
    """Without its ranges, an empty study would be sent suggestions outside the objective's
    suggest_* ranges (Optuna runs them anyway, with a warning): refused, saying what to pass."""
    study = optuna.create_study(direction="maximize")
    with pytest.raises(DataError, match="needs distributions="):
        warm_start(study, _dataset(corpus_path), n=3, metamodel=model)
    assert study.trials == []


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


def test_transfer_sampler_starts_from_the_neighbours_and_learns_from_what_it_sees(metadata, corpus_path):
    """Before any observation it proposes the knn_portfolio order; every proposal is a pool
    configuration never tried before; the weights move towards the datasets that order the observed
    configurations as the study does; after the handover the base sampler takes over; a resumed
    study continues from its trials."""
    from autometa.metamodel import MetaModel
    from autometa.optuna import TransferSampler

    data, space, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio", guard_quantile=None).fit(data, space)
    held = data.datasets[0]
    values = data.metafeatures.loc[held]
    first = [model.configs_.loc[c].to_dict() for c in model.rank_pool(values, 1)[0]]
    sampler = TransferSampler(metamodel=model, metafeatures=values, seed=0, max_pool_trials=6, handover=-1.0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    distributions = model.space_.distributions()
    scores = data.scores.loc[held]
    pool = model.configs_.loc[scores.index]
    for _ in range(8):
        trial = study.ask(distributions)
        match = np.isclose(pool.to_numpy(dtype=float), [float(trial.params[k]) for k in pool.columns]).all(axis=1)
        # The held-out dataset's own score when the trial is a pool configuration, else a neutral one.
        study.tell(trial, float(scores[pool.index[match][0]]) if match.any() else float(scores.min()))
    params = [t.params for t in study.trials]
    assert all(np.isclose(float(params[0][k]), float(first[0][k])) for k in first[0])
    on_pool = [
        bool(np.isclose(pool.to_numpy(dtype=float), [float(p[k]) for k in pool.columns]).all(axis=1).any())
        for p in params
    ]
    assert on_pool[:6] == [True] * 6 and len({tuple(sorted(p.items())) for p in params[:6]}) == 6
    # The held-out dataset itself is not in the meta-model; its nearest known datasets gain weight.
    assert sampler.weights_.max() > 1.5 / len(sampler.weights_)
    resumed = TransferSampler(metamodel=model, metafeatures=values, seed=0, max_pool_trials=6)
    columns, observed, exact = resumed._observed(study)
    assert len(columns) == 8 and exact >= 6


def test_transfer_sampler_maps_aliases_and_leaves_other_parameters_to_its_base(metadata, corpus_path):
    from autometa.metamodel import MetaModel
    from autometa.optuna import TransferSampler

    data, space, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio").fit(data, space)
    sampler = TransferSampler(_dataset(corpus_path), metamodel=model, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)

    def objective(trial):
        lr = trial.suggest_float("eta", 1e-3, 1.0, log=True)
        leaves = trial.suggest_int("num_leaves", 2, 64, log=True)
        booster = trial.suggest_categorical("boosting", ["gbdt", "dart"])
        return -abs(np.log(lr / 0.1)) - abs(np.log(leaves / 16)) - (booster == "dart")

    study.optimize(objective, n_trials=6)
    first = model.suggest_configs(model.describe(autometa.load_dataset(_dataset(corpus_path))), 1)[0].params
    assert study.trials[0].params["eta"] == pytest.approx(first["learning_rate"])
    assert study.trials[0].params["num_leaves"] == min(64, first["num_leaves"])
    assert {t.params["boosting"] for t in study.trials} <= {"gbdt", "dart"}


def test_transfer_sampler_per_second_prefers_what_is_cheap_where_the_neighbours_say_so(metadata, tmp_path):
    """cost_exponent=1 ranks the pool by expected improvement per expected fit time: the costs come
    from the recorded fit times (kept through a save/load round trip), and its first proposals
    cost less on the held-out dataset than the per-trial ones, which are the knn_portfolio order."""
    from autometa.metamodel import MetaModel
    from autometa.optuna import TransferSampler

    data, space, _ = metadata
    held = data.datasets[0]
    model = MetaModel("lightgbm", "knn_portfolio", guard_quantile=None).fit(data.without_group_of(held), space)
    assert model.method_.pool_costs.shape == model.method_.pool_scores.shape
    loaded = MetaModel.load(model.save(tmp_path / "m"))
    assert np.allclose(loaded.method_.pool_costs.to_numpy(), model.method_.pool_costs.to_numpy())
    values = data.metafeatures.loc[held]
    pool = model.configs_
    spent = {}
    for exponent in (0.0, 1.0):
        sampler = TransferSampler(metamodel=loaded, metafeatures=values, seed=0, cost_exponent=exponent)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        chosen = []
        for _ in range(3):
            trial = study.ask(model.space_.distributions())
            match = np.isclose(pool.to_numpy(dtype=float), [float(trial.params[k]) for k in pool.columns]).all(axis=1)
            chosen.append(int(pool.index[match][0]))
            study.tell(trial, float(data.scores.loc[held, chosen[-1]]))
        spent[exponent] = float(data.costs.loc[held, chosen].sum())
        if exponent == 0.0:
            assert chosen[:1] == model.rank_pool(values, 1)[0]
    assert spent[1.0] < spent[0.0]
    model.method_.pool_costs = None  # a meta-model saved before costs were kept
    with pytest.raises(DataError, match="fit times"):
        TransferSampler(metamodel=model, metafeatures=values, cost_exponent=1.0)


def test_transfer_sampler_min_gap_ignores_pairs_closer_than_the_study_can_tell(metadata):
    from autometa.metamodel import MetaModel
    from autometa.optuna import TransferSampler

    data, space, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio", guard_quantile=None).fit(data, space)
    values = data.metafeatures.loc[data.datasets[0]]
    sampler = TransferSampler(metamodel=model, metafeatures=values, min_gap=0.01)
    plain = TransferSampler(metamodel=model, metafeatures=values)
    columns = [0, 1, 2]
    close = np.array([0.9, 0.9001, 0.5])  # 0 and 1 differ by 0.02% of the range: a tie
    only_far = [0, 2], np.array([0.9, 0.5]), [1, 2], np.array([0.9001, 0.5])
    expected = np.log(plain.posterior(*only_far[:2])) + np.log(plain.posterior(*only_far[2:]))
    expected -= np.log(plain.posterior([], np.array([])))  # the prior counted once
    expected = np.exp(expected - expected.max())
    assert np.allclose(sampler.posterior(columns, close), expected / expected.sum())
    assert not np.allclose(plain.posterior(columns, close), sampler.posterior(columns, close))
