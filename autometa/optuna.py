"""Optuna integration: seed a study with autometa's suggestions.

``warm_start(study, dataset, n=5)`` enqueues the suggestions as the study's next trials, mapped
onto the study's own search space:

- names: the space's own names, or the aliases that space declares (LightGBM's ``eta``,
  ``feature_fraction``, ``bagging_fraction``, ``lambda_l1``, ``min_data_in_leaf``...; each space
  owns its names, see :class:`autometa.spaces.SearchSpace`);
- values: clipped to the study's ranges and rounded for integer and stepped distributions;
  for a categorical distribution, the choice nearest the suggested value (numeric choices) or
  the suggested value itself when it is one of the choices;
- parameters the study does not have are dropped, so the sampler draws them as usual;
- a configuration already enqueued or run is skipped (``skip_if_exists``).

Works with any sampler. A study whose space shares no parameter with the suggestions is an
error, not a silent no-op.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from autometa.exceptions import DataError


def _fit_to(distribution: Any, value: Any) -> Any:
    """`value` moved into `distribution` (clipped, rounded, or the nearest categorical choice)."""
    import optuna

    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        if value in distribution.choices:
            return value
        numeric = [c for c in distribution.choices if isinstance(c, (int, float)) and not isinstance(c, bool)]
        if not numeric or not isinstance(value, (int, float)):
            return None
        return min(numeric, key=lambda c: abs(c - value))
    low, high = distribution.low, distribution.high
    clipped = min(high, max(low, float(value)))
    step = getattr(distribution, "step", None)
    if step:
        clipped = low + round((clipped - low) / step) * step
        clipped = min(high, max(low, clipped))
    if isinstance(distribution, optuna.distributions.IntDistribution):
        return int(round(clipped))
    return float(clipped)


def unit_point(space, params: dict[str, Any]) -> np.ndarray | None:
    """A trial's parameters (the space's names or aliases) on the space's unit scale, clipped to its
    ranges; NaN for the space's parameters the trial lacks; None when it has none of them."""
    own = {k: v for k, v in space.canonical(params).items() if isinstance(v, (int, float))}
    if not own:
        return None
    return np.array(
        [
            float(p.to_unit(min(p.high, max(p.low, float(own[k]))))) if k in own else np.nan
            for k, p in space.params.items()
        ]
    )


def map_params(params: dict[str, Any], distributions: dict[str, Any], space: Any = "lightgbm") -> dict[str, Any]:
    """The suggestion's parameters (in `space`'s names) expressed in the study's names and ranges;
    parameters the study does not have are dropped."""
    from autometa.spaces import get_space

    search_space = get_space(space)
    mapped = {}
    for name, value in params.items():
        names = search_space.names_of(name) if name in search_space.params else (name,)
        for alias in names:
            if alias in distributions and alias not in mapped:
                fitted = _fit_to(distributions[alias], value)
                if fitted is not None and not (isinstance(fitted, float) and math.isnan(fitted)):
                    mapped[alias] = fitted
                break
    return mapped


def study_distributions(study) -> dict[str, Any]:
    """The distributions the study's trials have used (union over its trials)."""
    distributions: dict[str, Any] = {}
    for trial in study.get_trials(deepcopy=False):
        distributions.update(trial.distributions)
    return distributions


def warm_start(
    study,
    dataset: Any,
    n: int = 5,
    *,
    distributions: dict[str, Any] | None = None,
    space: str = "lightgbm",
    metamodel: Any = "default",
    target: str | None = None,
    random_state: int | None = None,
    metric: str = "auto",
) -> list[dict[str, Any]]:
    """Enqueue `n` autometa suggestions for `dataset` in `study`; returns the enqueued parameters.

    Parameters
    ----------
    study : optuna.Study
    dataset : anything :func:`autometa.load_dataset` reads.
    distributions : the study's search space ``{name: BaseDistribution}``, the ranges the
        objective's ``trial.suggest_*`` calls use. Read from the study's trials when it has any;
        required for a study that has none (an error says so): enqueued values outside the
        objective's ranges would be run anyway, outside the space the user asked for. To take
        the learner's own ranges, pass ``get_space(space).distributions()`` and suggest those in
        the objective.
    metric : what the suggestions should be good at (see :func:`autometa.suggest`).
    """
    from autometa._suggest import suggest

    if distributions is None:
        distributions = study_distributions(study)
        if not distributions:
            raise DataError(
                "warm_start on a study with no trial yet needs distributions={name: optuna distribution}, "
                "the ranges your objective suggests (e.g. {'learning_rate': FloatDistribution(0.01, 0.3, "
                "log=True)}); otherwise suggestions outside them would be enqueued. "
                f"autometa.spaces.get_space({space!r}).distributions() gives the learner's own ranges."
            )
    suggestions = suggest(
        dataset, n=n, space=space, metamodel=metamodel, target=target, random_state=random_state, metric=metric
    )
    enqueued = []
    for suggestion in suggestions:
        params = map_params(suggestion.params, distributions, space)
        if not params:
            raise DataError(
                f"The study's search space ({sorted(distributions)}) shares no parameter with the {space!r} "
                f"suggestions ({sorted(suggestion.params)}). Name the study's parameters like the learner's "
                "(e.g. learning_rate, num_leaves) or pass distributions= explicitly."
            )
        if params in enqueued:
            continue
        study.enqueue_trial(params, user_attrs={"autometa": suggestion.because[:200]}, skip_if_exists=True)
        enqueued.append(params)
    return enqueued


class ThreadLocked:
    """Mixin of a sampler whose state trials running in threads share (``study.optimize(n_jobs=...)``):
    it guards that state with ``self._lock`` (set in ``__init__``), and pickles without the lock (a
    Dask worker, a copied study), making a new one when unpickled."""

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()


class _WrapsBase(optuna.samplers.BaseSampler):
    """A sampler built around a base sampler (``self._base``): trial hooks and reseeding go to it."""

    def before_trial(self, study, trial):
        self._base.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self._base.after_trial(study, trial, state, values)

    def reseed_rng(self):
        self._base.reseed_rng()


class MetaSampler(_WrapsBase):
    """A sampler that keeps using the surrogate after the warm-start trials.

    Wraps a base sampler (multivariate TPE by default). Whenever the base sampler proposes a
    whole configuration (``sample_relative``), it is asked ``n_candidates`` times and the
    candidate the meta-model's surrogate predicts best for this dataset is kept; the base
    sampler's own candidates already maximize its acquisition, so this screens among good
    proposals. Parameters sampled independently (startup trials, parameters outside the relative
    space) come from the base sampler unchanged.

    Parameters
    ----------
    dataset : the dataset being tuned (anything :func:`autometa.load_dataset` reads); not
        needed when `metafeatures` is given.
    base_sampler : the sampler whose proposals are screened (default: ``TPESampler(multivariate=True, seed=seed)``).
    space : the search space the study tunes; study parameters are read under its names and aliases.
    metamodel : a meta-model with a surrogate (method ``surrogate`` or ``hybrid``): a MetaModel,
        a folder, or ``"default"``, the one shipped for the space (LightGBM: 4 members on the
        whole knowledge base, as benchmarked).
    target : the target column when `dataset` is a file or DataFrame.
    n_candidates : proposals asked of the base sampler per trial.
    seed : seed of the default base sampler.
    metafeatures : the dataset's metafeatures, as ``MetaModel.describe`` gives them, instead of
        `dataset` (then the task kind is not checked).
    metric : the metric the surrogate must have learned from (``"auto"``: the meta-model's own;
        ``"log_loss"`` loads the shipped log-loss one): what the study optimizes.

    Measured in the discrete benchmark (280 datasets x 5 seeds, leakage-free; see
    ``benchmarks/results/metasampler_ablation_lightgbm.md``): after the same 5 warm-start trials,
    its mean regret at 20 / 30 / 50 trials is 0.0115 / 0.0086 / 0.0058 against 0.0130 / 0.0099 /
    0.0069 for the same TPE without the screening (paired 95% intervals exclude 0), and 0.0239 /
    0.0162 / 0.0099 for cold TPE. It costs about 6x TPE's sampling time (8 candidates per trial).
    """

    def __init__(
        self,
        dataset: Any = None,
        *,
        base_sampler=None,
        space: str = "lightgbm",
        metamodel: Any = "default",
        target: str | None = None,
        n_candidates: int = 8,
        seed: int | None = None,
        metafeatures=None,
        metric: str = "auto",
    ):
        from autometa._suggest import load_metamodel
        from autometa.datasets import load_dataset

        self._base = base_sampler or optuna.samplers.TPESampler(multivariate=True, seed=seed)
        self._model = load_metamodel(metamodel, space, role="sampler", metric=metric)
        if self._model.surrogate_ is None:
            raise DataError(
                f"MetaSampler needs a meta-model fitted with method='surrogate', got {self._model.method!r}."
            )
        if metafeatures is None:
            data = load_dataset(dataset, target=target)
            self._model.check_task(data.task)
            metafeatures = self._model.describe(data)
        self._metafeatures = metafeatures
        self._space = self._model.space_
        self._defaults = self._model.configs_.loc[0].to_dict()
        self._n_candidates = n_candidates

    def configurations(self, candidates: list[dict[str, Any]]):
        """The candidates as the surrogate reads them: every parameter of the space, under its own
        name, clipped into its range; a parameter a candidate lacks takes the learner's default."""
        import pandas as pd

        rows = []
        for candidate in candidates:
            config = dict(self._defaults)
            for name, value in self._space.canonical(candidate).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    p = self._space.params[name]
                    config[name] = min(p.high, max(p.low, float(value)))
            rows.append(config)
        return pd.DataFrame(rows)

    def predict(self, candidates: list[dict[str, Any]]) -> np.ndarray:
        """The surrogate's expected normalized score of each candidate on this dataset."""
        return self._model.surrogate_.predict_members(self._metafeatures, self.configurations(candidates)).mean(axis=0)

    def infer_relative_search_space(self, study, trial):
        return self._base.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        first = self._base.sample_relative(study, trial, search_space)
        if not first or self._n_candidates <= 1:
            return first
        candidates = [first] + [
            self._base.sample_relative(study, trial, search_space) for _ in range(self._n_candidates - 1)
        ]
        return candidates[int(np.argmax(self.predict(candidates)))]

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._base.sample_independent(study, trial, param_name, param_distribution)


def neighbour_prior(model: Any, metafeatures, prior_floor: float = 1e-3) -> tuple[list[Any], np.ndarray]:
    """(the known datasets with pool scores, nearest first; their prior weights, summing to 1): the
    meta-model's ``neighbours`` nearest datasets weigh 1, every other `prior_floor`; all weigh
    alike when the dataset is unfamiliar (farther than the meta-model's threshold from every known
    one, where it falls back to its static portfolio)."""
    scores = model.method_.pool_scores
    distances = model.distances(metafeatures)
    known = [d for d in distances.index if d in scores.index]
    prior = np.full(len(known), prior_floor)
    if model.method_.uses_metafeatures and distances.iloc[0] > model.threshold_:
        prior[:] = 1.0
    else:
        prior[: model.neighbours] = 1.0
    return known, prior / prior.sum()


def ranking_posterior(
    log_prior: np.ndarray,
    scores: np.ndarray,
    columns: list[int],
    values: np.ndarray,
    noise: float,
    min_gap: float = 0.0,
) -> np.ndarray:
    """Weights (sum 1) of known datasets given a study's observations: the prior (`log_prior`, one
    per row of `scores`) times, for each pair of observed trials, ``1 - noise`` where the dataset's
    pool scores (`scores`, datasets x pool configurations) order the pair as the study's `values`
    (higher = better) did and `noise` where they order it the other way (a tie in the dataset's
    scores counts half each). `columns` are the observed trials' pool configurations; a pair whose
    values differ by less than `min_gap` of their range is skipped."""
    log_w = np.array(log_prior, dtype=float)
    values = np.asarray(values, dtype=float)
    if len(values) >= 2:
        i, j = np.triu_indices(len(values), k=1)
        gap = values[i] - values[j]
        order = np.sign(gap)
        keep = (order != 0) & (np.abs(gap) >= min_gap * (values.max() - values.min()))
        i, j, order = i[keep], j[keep], order[keep]
        ours = np.sign(scores[:, np.asarray(columns)[i]] - scores[:, np.asarray(columns)[j]])
        agree = (ours == order).sum(axis=1) + 0.5 * (ours == 0).sum(axis=1)
        disagree = len(order) - agree
        log_w = log_w + agree * np.log(1 - noise) + disagree * np.log(noise)
    w = np.exp(log_w - log_w.max())
    return w / w.sum()


class TransferSampler(ThreadLocked, _WrapsBase):
    """A sampler that learns, from the trials it sees, which known datasets the study resembles.

    Every knowledge-base dataset was evaluated on the same pool of configurations, so its
    normalized pool scores say how it ranks any pool configuration. The sampler keeps a weight per
    known dataset: a prior from the metafeatures (the meta-model's ``neighbours`` nearest datasets
    first, every other dataset a little), times the likelihood of the orderings the study has
    observed: each pair of finished trials that the dataset orders the same way counts
    ``1 - noise``, each pair it orders the other way ``noise`` (the ranking view of RGPE and
    TST-R, on the pool). A pair whose observed values differ by less than ``min_gap`` of the
    observed range says nothing (a tie within the study's noise) and is skipped. An observed configuration that is not a pool configuration is read as
    its nearest pool configuration on the unit scale.

    The next configuration is the pool configuration of highest expected improvement under that
    weighted mixture: ``sum_d w_d * max(0, s_d(c) - best_d)``, with ``best_d`` the best of the
    study's configurations on dataset ``d``. Before anything is observed this is the meta-model's
    ``knn_portfolio`` order (the warm start), up to the small prior weight (``prior_floor``) of
    the datasets beyond the nearest ones, which can break a near tie; it never draws at random. After
    ``max_pool_trials`` pool proposals (or sooner, when no pool configuration is expected to
    improve by more than ``handover``, in normalized score), it hands over to `base_sampler`
    (multivariate TPE by default), which refines around the incumbent with every finished trial
    as history.

    The defaults were chosen on data that is never reported. Noise 0.2 and no expected-improvement
    handover: on selection fold seeds 100-101 of the discrete benchmark
    (``benchmarks/results/transfer_selection_lightgbm_handover.md``; stopping at an expected
    improvement of 0.005 handed over to TPE's random start-up within the first 10 trials on many
    datasets). 10 pool trials: live, on 20 datasets of family groups apart from the reported live
    run's (``benchmarks/results/transfer_selection_live_lightgbm.md``), 10 and 15 pool trials
    were ahead of warm start + TPE at every budget, and 10 had the lower mean regret at 20 trials
    (0.026 against 0.033) and the better rank at 30; 20 or 30 pool trials fell behind at 20-30
    trials, where TPE's continuous refinement finds what the pool's points cannot.

    Works on any study whose parameters map onto the space by name or alias; parameters outside
    the space (and categorical ones without a numeric match) come from `base_sampler`. It reads
    its state from the study's trials, so a resumed study continues where it stopped.

    Parameters
    ----------
    dataset : the dataset being tuned (anything :func:`autometa.load_dataset` reads); not
        needed when `metafeatures` is given.
    space : the search space the study tunes.
    metamodel : a ``knn_portfolio`` meta-model (it carries the pool scores): ``"default"``
        (shipped), a folder or a MetaModel.
    base_sampler : the sampler after the handover (default ``TPESampler(multivariate=True, seed=seed)``).
    noise : the chance that a similar dataset orders two configurations the other way.
    prior_floor : the prior weight of a known dataset outside the nearest ``neighbours`` (they
        weigh 1).
    min_gap : pairs of trials closer than this fraction of the observed range are not compared.
    cost_exponent : 0 ranks pool configurations by expected improvement per trial; 1 by expected
        improvement per unit of expected fit time (the known datasets' recorded fit times,
        relative to each one's typical configuration, weighted like the scores); in between
        trades the two. Use it when a time budget, not a trial count, ends the study.
    handover : expected improvement (normalized score) below which the pool stops paying off
        (default 0: only ``max_pool_trials`` ends the pool phase).
    max_pool_trials : at most this many proposals from the pool.
    target, seed, metafeatures, metric : as for :class:`MetaSampler`; the study's direction says
        whether its values are to be maximized (ROC-AUC) or minimized (log-loss).
    """

    def __init__(
        self,
        dataset: Any = None,
        *,
        space: str = "lightgbm",
        metamodel: Any = "default",
        base_sampler=None,
        noise: float = 0.2,
        prior_floor: float = 1e-3,
        min_gap: float = 0.0,
        cost_exponent: float = 0.0,
        handover: float = 0.0,
        max_pool_trials: int = 10,
        target: str | None = None,
        seed: int | None = None,
        metafeatures=None,
        metric: str = "auto",
    ):
        from autometa._suggest import load_metamodel
        from autometa.datasets import load_dataset

        if not 0 < noise < 0.5:
            raise DataError(f"noise must be in (0, 0.5), got {noise!r}.")
        model = load_metamodel(metamodel, space, metric=metric)
        scores = getattr(model.method_, "pool_scores", None)
        if scores is None:
            raise DataError(
                f"TransferSampler needs a meta-model with pool scores (method 'knn_portfolio' or 'hybrid'), "
                f"got {model.method!r}."
            )
        if metafeatures is None:
            data = load_dataset(dataset, target=target)
            model.check_task(data.task)
            metafeatures = model.describe(data)
        known, prior = neighbour_prior(model, metafeatures, prior_floor)
        self._base = base_sampler or optuna.samplers.TPESampler(multivariate=True, seed=seed)
        self._space = model.space_
        self._scores = scores.loc[known].to_numpy(dtype=float)  # datasets x pool configurations
        self._ids = [int(c) for c in scores.columns]
        self._cost_exponent = float(cost_exponent)
        self._log_costs = None  # datasets x pool configurations: log(fit time / the dataset's median)
        if self._cost_exponent:
            costs = getattr(model.method_, "pool_costs", None)
            if costs is None:
                raise DataError(
                    "cost_exponent needs a meta-model that kept the pool's fit times; refit it with this "
                    "version: autometa metamodel fit --space SPACE --out FOLDER"
                )
            self._log_costs = costs.loc[known, scores.columns].to_numpy(dtype=float)
        configs = model.configs_.loc[self._ids]
        self._configs = [{k: v for k, v in row.items()} for row in configs.to_dict(orient="records")]
        self._units = self._space.to_unit(configs).to_numpy(dtype=float)
        self._log_prior = np.log(prior)
        # With a robust first-pick rule (MetaModel(first_share=...)), the first proposal is the
        # meta-model's own first pick; otherwise the expected improvement's (the neighbours' best mean).
        first = model.rank_pool(metafeatures, 1)[0] if model.first_share is not None else []
        self._first = self._ids.index(first[0]) if first and first[0] in self._ids else None
        self._noise = noise
        self._min_gap = min_gap
        self._handover = handover
        self._max_pool_trials = max_pool_trials
        # trial number -> (proposal, its pool column), for trials not finished yet
        self._proposals: dict[int, tuple[dict[str, Any] | None, int | None]] = {}
        self._lock = threading.Lock()
        self._columns: dict[int, tuple[int, bool]] = {}  # trial number -> (nearest pool column, exactly it)
        self._study_name: str | None = None
        self.weights_ = np.exp(self._log_prior)

    # -- what the study has seen -------------------------------------------------------------
    def _observed(self, study) -> tuple[list[int], np.ndarray, int]:
        """(pool column of each completed trial, its value with higher = better, how many distinct
        pool configurations finished trials evaluated exactly). Distinct: a configuration met twice
        (a proposal recorded apart from its evaluation, as the discrete benchmark does) is one
        pool trial."""
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
        if study.study_name != self._study_name:  # a trial number names a trial within one study
            self._columns, self._study_name = {}, study.study_name
        trials = study.get_trials(deepcopy=False)
        self._map([t for t in trials if t.state.is_finished() and t.number not in self._columns])
        columns, values, exactly = [], [], set()
        for trial in trials:
            if trial.number not in self._columns:
                continue
            column, exact = self._columns[trial.number]
            if exact:
                exactly.add(column)
            if trial.state == optuna.trial.TrialState.COMPLETE:
                columns.append(column)
                values.append(sign * float(trial.value))
        return columns, np.asarray(values, dtype=float), len(exactly)

    def _map(self, trials) -> None:
        """Remember the nearest pool configuration (unit scale, over the parameters a trial has) of
        each finished trial whose parameters map onto the space (a trial's parameters never change)."""
        for trial in trials:
            point = unit_point(self._space, trial.params)
            if point is None:
                continue
            use = ~np.isnan(point)
            distance = np.square(self._units[:, use] - point[use]).sum(axis=1)
            column = int(np.argmin(distance))
            self._columns[trial.number] = (column, bool(distance[column] < 1e-9))

    def posterior(self, columns: list[int], values: np.ndarray) -> np.ndarray:
        """Weights of the known datasets given the observed orderings (sum 1)."""
        return ranking_posterior(self._log_prior, self._scores, columns, values, self._noise, self._min_gap)

    def expected_improvement(self, columns: list[int], values: np.ndarray) -> np.ndarray:
        """Expected improvement of every pool configuration under the weighted known datasets."""
        self.weights_ = self.posterior(columns, values)
        best = self._scores[:, columns].max(axis=1) if columns else np.zeros(len(self._scores))
        gain = np.maximum(self._scores - best[:, None], 0.0)
        improvement = self.weights_ @ gain
        improvement[columns] = -np.inf
        return improvement

    def expected_cost(self) -> np.ndarray:
        """Expected fit time of every pool configuration, relative to a typical one (1), under the
        current weights (a weighted geometric mean over the known datasets)."""
        if self._log_costs is None:
            raise DataError("This TransferSampler has no cost model (cost_exponent=0).")
        return np.exp(self.weights_ @ self._log_costs)

    def _proposal(self, study, trial) -> dict[str, Any] | None:
        """The pool configuration this trial evaluates (space names), or None after the handover.
        Trials running in parallel (``study.optimize(n_jobs=...)``) get different ones; a pool
        configuration already tried (also one whose fit failed) is not proposed again."""
        with self._lock:
            if trial.number in self._proposals:
                return self._proposals[trial.number][0]
            columns, values, on_pool = self._observed(study)
            finished = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
            self._proposals = {n: p for n, p in self._proposals.items() if n not in finished}
            running = [column for _, column in self._proposals.values() if column is not None]
            tried = [column for column, exact in self._columns.values() if exact]
            proposal, column = None, None
            if on_pool + len(running) < self._max_pool_trials:
                improvement = self.expected_improvement(columns, values)
                improvement[tried + running] = -np.inf
                rank = (
                    improvement
                    if self._log_costs is None
                    else improvement / self.expected_cost() ** self._cost_exponent
                )
                best = int(np.argmax(rank))
                if self._first is not None and not columns and not tried and not running:
                    best = self._first
                if np.isfinite(improvement[best]) and (not columns or improvement[best] > self._handover):
                    proposal, column = self._configs[best], best
            self._proposals[trial.number] = (proposal, column)
            return proposal

    # -- the sampler protocol ----------------------------------------------------------------
    def infer_relative_search_space(self, study, trial):
        if self._proposal(study, trial) is not None:
            return {}
        return self._base.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        if self._proposal(study, trial) is not None or not search_space:
            return {}
        return self._base.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        proposal = self._proposal(study, trial)
        own = self._space.own_name(param_name)
        if proposal is not None and own is not None:
            value = _fit_to(param_distribution, proposal[own])
            if value is not None:
                return value
        return self._base.sample_independent(study, trial, param_name, param_distribution)


KERNEL_FILE = "deepkernel.npz"  # next to a shipped meta-model: its pretrained deep kernel


def _kernel_inputs(model: Any, steps: int, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(units, scores, fingerprint) a deep kernel pretrains on: the meta-model's pool scores."""
    from autometa.deepkernel import pretraining_fingerprint

    scores = getattr(model.method_, "pool_scores", None)
    if scores is None:
        raise DataError(f"A deep kernel pretrains on pool scores (method 'knn_portfolio'), got {model.method!r}.")
    units = model.space_.to_unit(model.configs_.loc[[int(c) for c in scores.columns]]).to_numpy(dtype=float)
    values = scores.to_numpy(dtype=float)
    return units, values, pretraining_fingerprint(units, values, steps=steps, seed=seed)


def pretrained_kernel(
    metamodel: Any = "default", *, space: str = "lightgbm", steps: int = 10000, seed: int = 0, device="cpu"
):
    """A :class:`autometa.deepkernel.DeepKernel` pretrained on a ``knn_portfolio`` meta-model's
    pool scores (every dataset it was fitted on is a task). A few seconds on one CPU thread; none
    when the space's shipped kernel (:func:`save_pretrained_kernel`) was pretrained on exactly
    these scores with these settings."""
    from autometa._suggest import load_metamodel
    from autometa.deepkernel import DeepKernel
    from autometa.metamodel import shipped_metamodel_path

    model = load_metamodel(metamodel, space)
    units, scores, fingerprint = _kernel_inputs(model, steps, seed)
    shipped = shipped_metamodel_path(space) / KERNEL_FILE
    if shipped.is_file():
        kernel, saved = DeepKernel.load(shipped, device=device)
        if saved == fingerprint:
            return kernel
    kernel = DeepKernel(units.shape[1], seed=seed, device=device)
    return kernel.pretrain(units, scores, steps=steps)


def save_pretrained_kernel(
    metamodel: Any, folder, *, space: str = "lightgbm", steps: int = 10000, seed: int = 0
) -> Path:
    """Pretrains the deep kernel on `metamodel`'s pool scores and writes it to
    ``folder/deepkernel.npz`` with their fingerprint; in the shipped meta-model's folder,
    :func:`pretrained_kernel` then loads it instead of pretraining."""
    from autometa._suggest import load_metamodel
    from autometa.deepkernel import DeepKernel

    model = load_metamodel(metamodel, space)
    units, scores, fingerprint = _kernel_inputs(model, steps, seed)
    kernel = DeepKernel(units.shape[1], seed=seed, device="cpu").pretrain(units, scores, steps=steps)
    path = Path(folder) / KERNEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    kernel.save(path, fingerprint=fingerprint)
    return path


class DeepKernelSampler(ThreadLocked, _WrapsBase):
    """The FSBO-style variant: a Gaussian process with a deep kernel pretrained on the knowledge
    base (:mod:`autometa.deepkernel`), fine-tuned on the study's own trials, proposing by expected
    improvement.

    The first ``warm_start`` trials are the meta-model's ``knn_portfolio`` picks for the dataset
    (the metafeature neighbours). After them, every trial fine-tunes a copy of the pretrained
    kernel on the completed trials (``steps`` Adam steps; values standardized) and proposes the
    candidate of highest expected improvement. Candidates: the pool configurations not yet tried,
    and with ``continuous=True`` also ``n_candidates`` uniform points and as many Gaussian
    perturbations (sd 0.05 on the unit scale) of the three best trials, so it refines around the
    incumbent without a handover. It never draws a trial at random.

    Parameters
    ----------
    dataset, space, metamodel, target, metafeatures, metric : as for :class:`TransferSampler`.
    kernel : a pretrained :class:`~autometa.deepkernel.DeepKernel` (:func:`pretrained_kernel`);
        default: pretrained now on the meta-model's pool scores.
    warm_start : trials taken from the meta-model's picks before the GP proposes.
    steps : fine-tuning steps per trial.
    continuous : propose off-pool points too (live studies); ``False`` keeps to the pool.
    n_candidates : uniform and perturbed candidates each, when `continuous`.
    base_sampler : draws parameters outside the space (default: TPE with `seed`).
    seed : seed of the candidates' draws.
    device : where the kernel runs (``"cpu"``, ``"cuda"``, ``"auto"``).
    prior : weight of the neighbours' knowledge in the GP's prior mean; 0 (default) is FSBO's zero
        mean. Otherwise the prior mean of a configuration is ``beta * z``, with ``z`` the metafeature
        neighbours' mean normalized score of it (of its nearest pool configuration, off the pool),
        standardized over the pool, and ``beta`` a ridge fit of the study's standardized values on
        ``z``, shrunk towards `prior` (one pseudo-observation), never below 0. So a zero-mean GP's
        early exploration of configurations that did badly on similar datasets is discounted, and
        the study's own values decide how much the neighbours are trusted as it goes on. The GP
        models what the prior mean leaves.
    prior_noise : ``None`` (default) keeps the prior mean's neighbour weights fixed. A value in
        (0, 0.5) lets them learn from the study, as the :class:`TransferSampler`'s do: before each
        proposal, every known dataset's weight is multiplied by ``1 - prior_noise`` for each pair
        of observed trials its pool scores order the same way and by `prior_noise` for each pair
        they order the other way (:func:`ranking_posterior`; observed trials read as their nearest
        pool configurations), and ``z`` is recomputed from the new weights.
    """

    def __init__(
        self,
        dataset: Any = None,
        *,
        space: str = "lightgbm",
        metamodel: Any = "default",
        kernel=None,
        warm_start: int = 1,
        steps: int = 50,
        continuous: bool = True,
        n_candidates: int = 256,
        base_sampler=None,
        target: str | None = None,
        seed: int | None = None,
        metafeatures=None,
        metric: str = "auto",
        device: str = "cpu",
        prior: float = 0.0,
        prior_noise: float | None = None,
    ):
        from autometa._suggest import load_metamodel
        from autometa.datasets import load_dataset

        model = load_metamodel(metamodel, space, metric=metric)
        scores = getattr(model.method_, "pool_scores", None)
        if scores is None:
            raise DataError(
                f"DeepKernelSampler needs a meta-model with pool scores ('knn_portfolio'), got {model.method!r}."
            )
        if metafeatures is None:
            data = load_dataset(dataset, target=target)
            model.check_task(data.task)
            metafeatures = model.describe(data)
        self._space = model.space_
        ids = [int(c) for c in scores.columns]
        configs = model.configs_.loc[ids]
        self._configs = [{k: v for k, v in row.items()} for row in configs.to_dict(orient="records")]
        self._units = self._space.to_unit(configs).to_numpy(dtype=float)
        column_of = {config_id: i for i, config_id in enumerate(ids)}
        self._start = [column_of[c] for c in model.rank_pool(metafeatures, warm_start)[0] if c in column_of]
        if not prior >= 0:
            raise DataError(f"prior must be a non-negative weight (0: FSBO's zero mean), got {prior!r}.")
        self._prior = float(prior)
        if prior_noise is not None and not 0 < prior_noise < 0.5:
            raise DataError(f"prior_noise must be None (fixed weights) or in (0, 0.5), got {prior_noise!r}.")
        self._prior_noise = prior_noise
        known, weights = neighbour_prior(model, metafeatures)
        self._pool_scores = scores.loc[known].to_numpy(dtype=float)  # known datasets x pool configurations
        self._log_weights = np.log(weights)
        self._z = self._standardized(weights @ self._pool_scores)
        self._kernel = kernel if kernel is not None else pretrained_kernel(model, space=space, device=device)
        self._steps, self._continuous, self._n_candidates = int(steps), bool(continuous), int(n_candidates)
        self._seed = 0 if seed is None else int(seed)
        self._base = base_sampler or optuna.samplers.TPESampler(multivariate=True, seed=seed)
        self._proposals: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _unit(self, params: dict[str, Any]) -> np.ndarray | None:
        """A trial's configuration on the unit scale (parameters it lacks at 0.5), or None."""
        point = unit_point(self._space, params)
        return None if point is None else np.where(np.isnan(point), 0.5, point)

    def _proposal(self, study, trial) -> dict[str, Any]:
        with self._lock:
            if trial.number in self._proposals:
                return self._proposals[trial.number]
            sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
            seen, x, y = [], [], []
            for other in study.get_trials(deepcopy=False):
                if other.number == trial.number:
                    continue
                unit = self._unit(other.params) if other.state.is_finished() else None
                if other.number in self._proposals and not other.state.is_finished():
                    unit = self._unit(self._proposals[other.number])
                if unit is None:
                    continue
                seen.append(unit)
                if other.state == optuna.trial.TrialState.COMPLETE:
                    x.append(unit)
                    y.append(sign * float(other.value))
            tried = np.zeros(len(self._units), dtype=bool)
            for unit in seen:
                tried |= np.square(self._units - unit).sum(axis=1) < 1e-9
            start = [c for c in self._start if not tried[c]]
            if start and len(x) < len(self._start):
                proposal = dict(self._configs[start[0]])
            elif len(x) < 2:  # nothing to fit yet: the pool configuration the prior ranks next
                proposal = dict(self._configs[int(np.flatnonzero(~tried)[0])])
            else:
                proposal = self._propose(np.array(x), np.array(y), tried, trial.number)
            self._proposals[trial.number] = proposal
            return proposal

    def _propose(self, x: np.ndarray, y: np.ndarray, tried: np.ndarray, number: int) -> dict[str, Any]:
        from autometa.deepkernel import expected_improvement

        pool = np.flatnonzero(~tried)
        candidates = [self._units[pool]]
        if self._continuous:
            rng = np.random.default_rng([self._seed, number])
            top = x[np.argsort(-y)[:3]]
            local = top[rng.integers(len(top), size=self._n_candidates)]
            local = local + rng.normal(0.0, 0.05, size=local.shape)
            candidates += [rng.uniform(size=(self._n_candidates, x.shape[1])), np.clip(local, 0.0, 1.0 - 1e-9)]
        candidates = np.vstack(candidates)
        ys = (y - y.mean()) / (y.std() + 1e-9)
        if self._prior > 0:
            mean, sd = self._predict_with_prior(x, ys, candidates)
        else:
            tuned = self._kernel.fine_tuned(x, ys, steps=self._steps)
            mean, sd = tuned.predict(x, ys, candidates)
        choice = int(np.argmax(expected_improvement(mean, sd, float(ys.max()))))
        if choice < len(pool):
            return dict(self._configs[int(pool[choice])])
        return {k: p.from_unit(float(candidates[choice, i])) for i, (k, p) in enumerate(self._space.params.items())}

    @staticmethod
    def _standardized(expected: np.ndarray) -> np.ndarray:
        return (expected - expected.mean()) / (expected.std() + 1e-12)

    def _nearest(self, points: np.ndarray) -> np.ndarray:
        """The nearest pool configuration (column) of each point, on the unit scale."""
        # |p - u|^2 = |p|^2 + |u|^2 - 2 p.u: one matrix product instead of a points x pool x dims array
        squared = np.square(points).sum(axis=1)[:, None] + np.square(self._units).sum(axis=1)[None, :]
        return np.argmin(squared - 2.0 * points @ self._units.T, axis=1)

    def _predict_with_prior(self, x: np.ndarray, ys: np.ndarray, candidates: np.ndarray):
        """Posterior (mean, sd) in the units of `ys` with the prior mean ``beta * z`` (see the class)."""
        observed = self._nearest(x)
        prior_z = self._z
        if self._prior_noise is not None:
            weights = ranking_posterior(self._log_weights, self._pool_scores, list(observed), ys, self._prior_noise)
            prior_z = self._standardized(weights @ self._pool_scores)
        z, zc = prior_z[observed], prior_z[self._nearest(candidates)]
        centre = z.mean()
        dz = z - centre
        beta = max(0.0, (dz @ (ys - ys.mean()) + self._prior) / (dz @ dz + 1.0))
        rest = ys - beta * dz
        scale = max(float(rest.std()), 0.25)  # a prior that explains everything still leaves doubt
        level = float(rest.mean())
        tuned = self._kernel.fine_tuned(x, rest, steps=self._steps)
        mean, sd = tuned.predict(x, rest, candidates)
        return mean * scale + level + beta * (zc - centre), sd * scale

    # -- the sampler protocol ----------------------------------------------------------------
    def infer_relative_search_space(self, study, trial):
        return {}

    def sample_relative(self, study, trial, search_space):
        return {}

    def sample_independent(self, study, trial, param_name, param_distribution):
        proposal = self._proposal(study, trial)
        own = self._space.own_name(param_name)
        if own is not None and own in proposal:
            value = _fit_to(param_distribution, proposal[own])
            if value is not None:
                return value
        return self._base.sample_independent(study, trial, param_name, param_distribution)
