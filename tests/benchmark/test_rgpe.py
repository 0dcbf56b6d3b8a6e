"""The RGPE peer (autometa.benchmark._rgpe): its weights by hand, and as a sampler on real pool scores."""

import numpy as np
import optuna
import pytest

from autometa.benchmark import run_discrete
from autometa.benchmark._rgpe import RGPESampler, TargetGP, rgpe_weights


def test_rgpe_weights_go_to_the_model_that_ranks_the_observations():
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    x = np.linspace(0, 1, 5)[:, None]
    base = np.array([y * 2.0, -y, np.array([0.0, 1.0, 2.0, 4.0, 3.0])])  # right, reversed, one pair off
    weights = rgpe_weights(base, TargetGP(x, (y - y.mean()) / y.std()), y, np.random.default_rng(0))
    assert weights.sum() == pytest.approx(1.0)
    assert weights[1] == 0.0  # every pair the other way: beyond the target's 95th percentile
    assert weights[0] > weights[2]
    # Before two observations every model weighs the same.
    assert np.allclose(rgpe_weights(base[:, :1], None, y[:1], np.random.default_rng(0)), 0.25)


def test_rgpe_on_real_pool_scores_learns_which_dataset_the_study_is(metadata):
    """A study whose values are what a known dataset's model predicts (its GP on that dataset's
    real pool scores) puts the most weight on that dataset after a few trials, and never
    proposes an observed point again."""
    from autometa.metamodel import MetaModel

    data, space, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio", guard_quantile=None).fit(data, space)
    twin = data.datasets[3]
    sampler = RGPESampler(model, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    pool = model.configs_
    column = list(model.method_.pool_scores.index).index(twin)
    for _ in range(8):
        trial = study.ask(space.distributions())
        point = space.to_unit(pool.iloc[:1].assign(**trial.params)).to_numpy(dtype=float)
        study.tell(trial, float(sampler.predict_known(point)[0, column]))
    weights = sampler.weights_[:-1]
    assert int(np.argmax(weights)) == column and weights[column] > 0.2
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 8


def test_rgpe_runs_in_the_discrete_benchmark(metadata):
    data, space, _ = metadata
    curves, errors = run_discrete(data, space, methods=["rgpe"], budget=6, seeds=1, folds=4)
    assert errors.empty and len(curves) == len(data.datasets) * 6
    assert (curves["regret"].between(0, 1)).all()
