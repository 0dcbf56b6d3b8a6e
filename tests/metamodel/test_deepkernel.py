"""The FSBO-style deep-kernel GP and its Optuna sampler."""

import numpy as np
import optuna
import pytest

pytest.importorskip("torch")


def _tasks(rng, n_tasks, n_configs, dim=3):
    """Tasks that share their structure: a smooth peak whose place varies a little per task."""
    units = rng.uniform(size=(n_configs, dim))
    centres = 0.3 + 0.1 * rng.normal(size=(n_tasks, 1, dim))
    scores = -np.square(units[None] - centres).sum(axis=2)
    return units, scores


def test_pretraining_makes_a_few_observations_rank_a_new_task():
    """After pretraining on related tasks, 5 observations of a new one rank its other
    configurations better than the same GP untrained (both fine-tuned the same way)."""
    from scipy.stats import spearmanr

    from autometa.deepkernel import DeepKernel

    rng = np.random.default_rng(0)
    units, scores = _tasks(rng, 40, 60)
    trained = DeepKernel(3, seed=0).pretrain(units, scores[:30], steps=600, batch=32, lr=3e-3)
    fresh = DeepKernel(3, seed=0)
    gains = []
    for task in range(30, 40):
        seen = rng.choice(60, size=5, replace=False)
        rest = np.setdiff1d(np.arange(60), seen)
        rho = []
        for kernel in (trained, fresh):
            mean, sd = kernel.fine_tuned(units[seen], scores[task, seen], steps=20).predict(
                units[seen], scores[task, seen], units[rest]
            )
            assert np.all(sd > 0) and np.all(np.isfinite(mean))
            rho.append(spearmanr(mean, scores[task, rest]).correlation)
        gains.append(rho[0] - rho[1])
    assert np.mean(gains) > 0.1, gains


def test_pretrain_says_what_shapes_it_expects():
    from autometa.deepkernel import DeepKernel
    from autometa.exceptions import DataError

    with pytest.raises(DataError, match=r"units of shape \(configurations, 3\)"):
        DeepKernel(3).pretrain(np.zeros((10, 2)), np.zeros((4, 10)))


def test_deep_kernel_sampler_starts_from_the_neighbours_and_never_repeats(metadata):
    """Its first trial is the knn_portfolio's first pick; then the fine-tuned GP proposes pool
    configurations never tried (discrete), or points off the pool (continuous); same seed, same
    trials; parameters outside the space come from the base sampler."""
    from autometa.metamodel import MetaModel
    from autometa.optuna import DeepKernelSampler, pretrained_kernel

    data, space, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio", guard_quantile=None).fit(data, space)
    held = data.datasets[0]
    values = data.metafeatures.loc[held]
    kernel = pretrained_kernel(model, steps=200)
    scores = data.scores.loc[held]
    pool = model.configs_.loc[scores.index]
    distributions = model.space_.distributions()

    def run(continuous: bool) -> list[dict]:
        sampler = DeepKernelSampler(
            metamodel=model, metafeatures=values, kernel=kernel, continuous=continuous, seed=3, steps=10
        )
        study = optuna.create_study(direction="maximize", sampler=sampler)
        for _ in range(6):
            trial = study.ask({**distributions, "extra": optuna.distributions.FloatDistribution(0, 1)})
            match = np.isclose(pool.to_numpy(dtype=float), [float(trial.params[k]) for k in pool.columns]).all(axis=1)
            study.tell(trial, float(scores[pool.index[match][0]]) if match.any() else float(scores.median()))
        return [t.params for t in study.trials]

    discrete = run(False)
    first = model.configs_.loc[model.rank_pool(values, 1)[0][0]]
    assert all(np.isclose(float(discrete[0][k]), float(first[k])) for k in pool.columns)
    keys = [tuple(round(float(p[k]), 9) for k in pool.columns) for p in discrete]
    on_pool = {tuple(round(float(v), 9) for v in row) for row in pool.to_numpy(dtype=float)}
    assert len(set(keys)) == 6 and set(keys) <= on_pool
    assert all(0 <= p["extra"] <= 1 for p in discrete)
    assert run(False) == discrete
    continuous = run(True)
    assert any(tuple(round(float(p[k]), 9) for k in pool.columns) not in on_pool for p in continuous[1:])


def test_a_saved_kernel_predicts_as_the_pretrained_one(tmp_path):
    from autometa.deepkernel import DeepKernel, pretraining_fingerprint

    rng = np.random.default_rng(1)
    units, scores = _tasks(rng, 10, 30)
    kernel = DeepKernel(3, hidden=8, features=4, seed=3).pretrain(units, scores, steps=50, batch=16)
    kernel.save(tmp_path / "k.npz", fingerprint=pretraining_fingerprint(units, scores, steps=50))
    loaded, fingerprint = DeepKernel.load(tmp_path / "k.npz")
    assert fingerprint == pretraining_fingerprint(units, scores, steps=50)
    assert fingerprint != pretraining_fingerprint(units, scores[1:], steps=50)
    assert fingerprint != pretraining_fingerprint(units, scores, steps=51)
    assert (loaded.hidden, loaded.features, loaded.pretrained_steps) == (8, 4, 50)
    seen = [0, 5, 9, 12]
    expected = kernel.predict(units[seen], scores[0, seen], units)
    np.testing.assert_array_equal(loaded.predict(units[seen], scores[0, seen], units)[0], expected[0])
    np.testing.assert_array_equal(loaded.predict(units[seen], scores[0, seen], units)[1], expected[1])


def test_the_shipped_kernel_matches_the_shipped_meta_model():
    """Where a deep kernel ships next to a meta-model, it was pretrained on that meta-model's pool
    scores (otherwise refit it: autometa metamodel kernel --space S --out
    autometa/data/metamodel/S), and pretrained_kernel loads it instead of pretraining."""
    from autometa.deepkernel import DeepKernel
    from autometa.metamodel import shipped_metamodel_path
    from autometa.optuna import KERNEL_FILE, pretrained_kernel
    from autometa.spaces import SPACES

    shipped = [s for s in SPACES if (shipped_metamodel_path(s) / KERNEL_FILE).is_file()]
    assert set(shipped) == set(SPACES)
    for space in shipped:
        kernel = pretrained_kernel(space=space)  # would take seconds if it pretrained
        assert kernel.pretrained_steps == 10000
        saved, _ = DeepKernel.load(shipped_metamodel_path(space) / KERNEL_FILE)
        for mine, theirs in zip(kernel.parameters(), saved.parameters()):
            assert np.array_equal(mine.detach().numpy(), theirs.detach().numpy())


def test_metamodel_kernel_command_writes_a_kernel_pretrained_on_the_pool_scores(metadata, tmp_path):
    from autometa.cli import main
    from autometa.deepkernel import DeepKernel, pretraining_fingerprint
    from autometa.metamodel import MetaModel

    data, space, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio", guard_quantile=None).fit(data, space)
    folder = model.save(tmp_path / "model")
    assert main(["metamodel", "kernel", "--metamodel", str(folder), "--steps", "20", "--out", str(tmp_path)]) == 0
    kernel, fingerprint = DeepKernel.load(tmp_path / "deepkernel.npz")
    scores = model.method_.pool_scores
    units = model.space_.to_unit(model.configs_.loc[[int(c) for c in scores.columns]]).to_numpy(dtype=float)
    assert kernel.pretrained_steps == 20
    assert fingerprint == pretraining_fingerprint(units, scores.to_numpy(dtype=float), steps=20, seed=0)


def test_a_prior_mean_keeps_the_gp_near_what_did_well_on_the_neighbours(metadata):
    """With ``prior > 0`` the GP's prior mean is the neighbours' mean score: its proposals after the
    first are configurations the neighbours rate higher than the zero-mean GP's exploration picks.
    A negative weight is a clear error."""
    from autometa.exceptions import DataError
    from autometa.metamodel import MetaModel
    from autometa.optuna import DeepKernelSampler, neighbour_prior, pretrained_kernel

    data, space, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio", guard_quantile=None).fit(data, space)
    kernel = pretrained_kernel(model, steps=200)
    pool = model.configs_.loc[model.method_.pool_scores.columns.astype(int)]
    rated = {"zero": [], "prior": []}
    for held in data.datasets[:4]:
        values, scores = data.metafeatures.loc[held], data.scores.loc[held]
        known, weights = neighbour_prior(model, values)
        expected = weights @ model.method_.pool_scores.loc[known].to_numpy(dtype=float)
        for name, prior in (("zero", 0.0), ("prior", 1.0)):
            sampler = DeepKernelSampler(
                metamodel=model, metafeatures=values, kernel=kernel, continuous=False, seed=0, steps=10, prior=prior
            )
            study = optuna.create_study(direction="maximize", sampler=sampler)
            for _ in range(8):
                trial = study.ask(model.space_.distributions())
                point = [float(trial.params[k]) for k in pool.columns]
                column = int(np.flatnonzero(np.isclose(pool.to_numpy(dtype=float), point).all(axis=1))[0])
                study.tell(trial, float(scores[pool.index[column]]))
                rated[name].append(expected[column])
    assert np.mean(rated["prior"]) > np.mean(rated["zero"]), rated
    with pytest.raises(DataError, match="prior must be a non-negative weight"):
        DeepKernelSampler(metamodel=model, metafeatures=values, kernel=kernel, prior=-1.0)


def test_ranking_posterior_weights_the_datasets_that_order_the_observations_alike():
    """A known dataset whose scores order the observed trials as the study did gains weight; a
    noise near 1/2 leaves the prior almost as it was; the TransferSampler reads the same function."""
    from autometa.optuna import ranking_posterior

    rng = np.random.default_rng(0)
    scores = rng.uniform(size=(3, 12))
    columns = [0, 3, 5, 7, 9]
    values = scores[1, columns] + 0.01 * rng.normal(size=5)
    prior = np.log(np.full(3, 1 / 3))
    sharp = ranking_posterior(prior, scores, columns, values, noise=0.1)
    assert np.isclose(sharp.sum(), 1.0) and int(np.argmax(sharp)) == 1 and sharp[1] > 0.9, sharp
    vague = ranking_posterior(prior, scores, columns, values, noise=0.499)
    assert np.allclose(vague, 1 / 3, atol=0.02), vague
    assert np.allclose(ranking_posterior(prior, scores, columns[:1], values[:1], noise=0.1), 1 / 3)


def test_an_adaptive_prior_mean_runs_a_study_and_checks_its_noise(metadata):
    """``prior_noise`` re-weights the neighbours behind the prior mean from the study's orderings:
    it runs a study without repeating a pool configuration, the same seed gives the same trials,
    and a noise outside (0, 0.5) is a clear error."""
    from autometa.exceptions import DataError
    from autometa.metamodel import MetaModel
    from autometa.optuna import DeepKernelSampler, pretrained_kernel

    data, space, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio", guard_quantile=None).fit(data, space)
    kernel = pretrained_kernel(model, steps=200)
    pool = model.configs_.loc[model.method_.pool_scores.columns.astype(int)]
    held = data.datasets[0]
    values, scores = data.metafeatures.loc[held], data.scores.loc[held]
    runs = []
    for _ in range(2):
        sampler = DeepKernelSampler(
            metamodel=model,
            metafeatures=values,
            kernel=kernel,
            continuous=False,
            seed=0,
            steps=10,
            prior=1.0,
            prior_noise=0.2,
        )
        study = optuna.create_study(direction="maximize", sampler=sampler)
        columns = []
        for _ in range(8):
            trial = study.ask(model.space_.distributions())
            point = [float(trial.params[k]) for k in pool.columns]
            column = int(np.flatnonzero(np.isclose(pool.to_numpy(dtype=float), point).all(axis=1))[0])
            study.tell(trial, float(scores[pool.index[column]]))
            columns.append(column)
        assert len(set(columns)) == len(columns), columns
        runs.append(columns)
    assert runs[0] == runs[1]
    for noise in (0.0, 0.5, -1.0):
        with pytest.raises(DataError, match=r"prior_noise must be None \(fixed weights\) or in \(0, 0.5\)"):
            DeepKernelSampler(metamodel=model, metafeatures=values, kernel=kernel, prior=1.0, prior_noise=noise)
