"""RGPE, the ranking-weighted Gaussian process ensemble (Feurer, Letham and Bakshy, 2018): a
transfer-learning peer of the benchmark, written from the paper.

- One Gaussian process per known dataset, on its pool scores (standardized per dataset), and
  one on the study's own observations (standardized).
- Weights: the chance that each model ranks the study's observations best. The ranking loss of
  a model is the number of pairs of observations it orders the other way. The study's own model
  is judged on leave-one-out draws (it may not see the point it predicts); a known dataset's
  model on its posterior mean. Over ``draws`` draws of the study's model, the model with the
  lowest loss gets the draw (ties share it). A known dataset whose loss exceeds the 95th
  percentile of the study model's losses gets no weight (the paper's weight-dilution guard).
- The ensemble's prediction is ``sum_i w_i f_i(x)`` (mean ``sum w_i mu_i``, variance
  ``sum w_i^2 sigma_i^2``); the next configuration maximizes its expected improvement over the
  best ensemble mean at an observed configuration, among candidates: the pool, random points of
  the unit cube, and perturbations of the incumbent.

What differs from the paper, and why:

- Kernels: isotropic Matern 5/2 on the unit scale of the space; the length scale of each model
  is chosen by marginal likelihood on a grid of 4 values instead of gradient-based ARD
  fitting: every known dataset shares the pool's inputs, so the 280 base models need 4 Cholesky
  factorizations in all, which keeps the peer as cheap to run as the others.
- No metafeatures, as in the paper: before any observation every model weighs the same, and
  the first proposals maximize expected improvement under the average of the known datasets.
"""

from __future__ import annotations

import threading

import numpy as np
import optuna

from autometa.optuna import ThreadLocked

LENGTH_SCALES = (0.1, 0.2, 0.4, 0.8)
NOISE = 1e-3  # jitter of standardized scores
_SQRT5 = np.sqrt(5.0)


def _matern52(a: np.ndarray, b: np.ndarray, length: float) -> np.ndarray:
    d = np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0.0)) / length
    return (1.0 + _SQRT5 * d + 5.0 / 3.0 * d**2) * np.exp(-_SQRT5 * d)


def _standardize(y: np.ndarray) -> np.ndarray:
    sd = y.std()
    return (y - y.mean()) / (sd if sd > 0 else 1.0)


class SharedInputGPs:
    """Gaussian processes on the same inputs (the pool), one per output column: for each length
    scale one factorization; each column takes the length scale of highest marginal likelihood."""

    def __init__(self, x: np.ndarray, ys: np.ndarray):
        self.x = x
        n, m = ys.shape
        self.factors = []
        evidence = np.empty((len(LENGTH_SCALES), m))
        self.alphas = []
        for k, length in enumerate(LENGTH_SCALES):
            kernel = _matern52(x, x, length) + NOISE * np.eye(n)
            factor = np.linalg.cholesky(kernel)
            alpha = np.linalg.solve(factor.T, np.linalg.solve(factor, ys))
            evidence[k] = -0.5 * (ys * alpha).sum(0) - np.log(np.diag(factor)).sum()
            self.factors.append(factor)
            self.alphas.append(alpha)
        self.choice = evidence.argmax(0)  # per column: which length scale

    def predict(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, variance), each points x columns."""
        mean = np.empty((len(points), len(self.choice)))
        var = np.empty_like(mean)
        for k, length in enumerate(LENGTH_SCALES):
            columns = np.flatnonzero(self.choice == k)
            if not columns.size:
                continue
            cross = _matern52(points, self.x, length)
            mean[:, columns] = cross @ self.alphas[k][:, columns]
            v = np.linalg.solve(self.factors[k], cross.T)
            var[:, columns] = np.maximum(1.0 + NOISE - (v**2).sum(0), 1e-12)[:, None]
        return mean, var


class TargetGP:
    """The study's own model, with closed-form leave-one-out predictions."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.x, self.y = x, y
        best = None
        for length in LENGTH_SCALES:
            kernel = _matern52(x, x, length) + NOISE * np.eye(len(x))
            factor = np.linalg.cholesky(kernel)
            alpha = np.linalg.solve(factor.T, np.linalg.solve(factor, y))
            evidence = -0.5 * y @ alpha - np.log(np.diag(factor)).sum()
            if best is None or evidence > best[0]:
                best = (evidence, length, factor, alpha)
        _, self.length, self.factor, self.alpha = best

    def predict(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cross = _matern52(points, self.x, self.length)
        v = np.linalg.solve(self.factor, cross.T)
        return cross @ self.alpha, np.maximum(1.0 + NOISE - (v**2).sum(0), 1e-12)

    def leave_one_out(self) -> tuple[np.ndarray, np.ndarray]:
        inverse = np.linalg.inv(self.factor)
        inverse = inverse.T @ inverse
        diagonal = np.diag(inverse)
        return self.y - self.alpha / diagonal, 1.0 / diagonal


def _ranking_losses(predictions: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Misordered pairs of each row of `predictions` (models or draws x observations) against `y`."""
    i, j = np.triu_indices(len(y), k=1)
    observed = y[i] < y[j]
    return ((predictions[:, i] < predictions[:, j]) != observed).sum(1)


def rgpe_weights(base_at_observed: np.ndarray, target: TargetGP | None, y: np.ndarray, rng, draws: int = 256):
    """Weights of the base models (rows of `base_at_observed`, their means at the observed
    points) and, last, of the study's own model."""
    n_base = len(base_at_observed)
    if target is None or len(y) < 2:
        return np.full(n_base + 1, 1.0 / (n_base + 1))
    base_loss = _ranking_losses(base_at_observed, y)
    mean, var = target.leave_one_out()
    samples = mean + np.sqrt(var) * rng.standard_normal((draws, len(y)))
    target_loss = _ranking_losses(samples, y)
    keep = base_loss <= np.percentile(target_loss, 95)
    losses = np.concatenate([np.broadcast_to(base_loss, (draws, n_base)), target_loss[:, None]], axis=1)
    losses = np.where(np.concatenate([keep, [True]])[None, :], losses, np.iinfo(np.int64).max)
    winners = losses == losses.min(axis=1, keepdims=True)
    weights = (winners / winners.sum(axis=1, keepdims=True)).mean(axis=0)
    return weights


class RGPESampler(ThreadLocked, optuna.samplers.BaseSampler):
    """RGPE on a knn_portfolio meta-model's pool scores (the known datasets), for the benchmark.

    Proposes every parameter of `space` jointly; parameters outside it come from a random
    sampler. Reads its state from the study's trials (the direction says what is better).
    """

    def __init__(self, metamodel, *, seed: int | None = None, candidates: int = 256, draws: int = 256):
        scores = metamodel.method_.pool_scores
        self._space = metamodel.space_
        configs = metamodel.configs_.loc[[int(c) for c in scores.columns]]
        self._pool = self._space.to_unit(configs).to_numpy(dtype=float).clip(0.0, 1.0)
        standardized = np.apply_along_axis(_standardize, 1, scores.to_numpy(dtype=float))
        self._base = SharedInputGPs(self._pool, standardized.T)
        self._rng = np.random.default_rng(seed)
        self._random = optuna.samplers.RandomSampler(seed=seed)
        self._candidates = candidates
        self._draws = draws
        self._proposals: dict[tuple[str, int], dict[str, float]] = {}
        self._lock = threading.Lock()
        self.weights_: np.ndarray | None = None

    def predict_known(self, points: np.ndarray) -> np.ndarray:
        """Each known dataset's model's mean at `points` (unit scale): points x datasets."""
        return self._base.predict(np.asarray(points, dtype=float))[0]

    def _observed(self, study) -> tuple[np.ndarray, np.ndarray]:
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
        names = list(self._space.params)
        points, values = [], []
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            own = self._space.canonical(trial.params)
            if not all(k in own for k in names):
                continue
            points.append([float(self._space.params[k].to_unit(self._space.params[k].clip(own[k]))) for k in names])
            values.append(sign * float(trial.value))
        return np.asarray(points, dtype=float).reshape(-1, len(names)), np.asarray(values, dtype=float)

    def propose(self, study) -> np.ndarray:
        """The next point on the unit scale of the space."""
        x, y = self._observed(study)
        target = TargetGP(x, _standardize(y)) if len(y) >= 2 else None
        base_at_observed = self._base.predict(x)[0].T if len(y) else np.zeros((len(self._base.choice), 0))
        self.weights_ = rgpe_weights(base_at_observed, target, _standardize(y) if len(y) else y, self._rng, self._draws)
        base_w, target_w = self.weights_[:-1], self.weights_[-1]
        candidates = [self._pool, self._rng.random((self._candidates, self._pool.shape[1]))]
        if len(y):
            incumbent = x[int(np.argmax(y))]
            local = incumbent + 0.05 * self._rng.standard_normal((self._candidates // 4, len(incumbent)))
            candidates.append(local.clip(0.0, 1.0))
        points = np.concatenate(candidates)
        active = np.flatnonzero(base_w > 0)
        mean_b, var_b = self._base.predict(points)
        mean = mean_b[:, active] @ base_w[active]
        var = var_b[:, active] @ base_w[active] ** 2
        at_observed = base_at_observed[active].T @ base_w[active] if len(y) else np.zeros(0)
        if target is not None and target_w > 0:
            mean_t, var_t = target.predict(points)
            mean, var = mean + target_w * mean_t, var + target_w**2 * var_t
            at_observed = at_observed + target_w * target.predict(x)[0]
        incumbent_value = at_observed.max() if len(y) else -np.inf
        sd = np.sqrt(np.maximum(var, 1e-12))
        z = (mean - incumbent_value) / sd
        from scipy.stats import norm

        improvement = (mean - incumbent_value) * norm.cdf(z) + sd * norm.pdf(z) if len(y) else mean
        if len(x):  # not an observed point again
            seen = ((points[:, None, :] - x[None, :, :]) ** 2).sum(-1).min(1) < 1e-12
            improvement[seen] = -np.inf
        return points[int(np.argmax(improvement))]

    def _proposal(self, study, trial) -> dict[str, float]:
        key = (study.study_name, trial.number)
        with self._lock:
            if key not in self._proposals:
                point = self.propose(study)
                self._proposals[key] = {
                    k: p.from_unit(float(min(u, 1.0 - 1e-9))) for (k, p), u in zip(self._space.params.items(), point)
                }
            return self._proposals[key]

    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        own = self._space.own_name(param_name)
        if own is None:
            return self._random.sample_independent(study, trial, param_name, param_distribution)
        value = self._proposal(study, trial)[own]
        if isinstance(param_distribution, optuna.distributions.CategoricalDistribution):
            return self._random.sample_independent(study, trial, param_name, param_distribution)
        low, high = param_distribution.low, param_distribution.high
        value = min(high, max(low, value))
        if isinstance(param_distribution, optuna.distributions.IntDistribution):
            return int(round(value))
        return float(value)
