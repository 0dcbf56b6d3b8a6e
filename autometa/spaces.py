"""Search spaces: named sets of Optuna distributions for one learner, plus its defaults.

A :class:`SearchSpace` is the whole contract of a learner: its distributions, the learner's
own defaults expressed in them, the constant settings, and how to build an estimator from a
configuration. A new learner is one more instance in :data:`SPACES`.

The number of trees is tuned (log scale), not early-stopped: every configuration is a fixed,
reproducible model, and the pool can place configurations on the whole trees x learning-rate
trade-off. L1/L2 penalties start at 1e-8, which stands for the learners' 0 (a log scale cannot
hold 0; 1e-8 changes no split).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any

from autometa.exceptions import AutometaError

TASKS = ("binary", "multiclass", "regression")
# Fixed settings that change how fast a fit runs, not which model it fits.
RUNTIME_SETTINGS = frozenset({"n_jobs", "verbosity", "verbose"})


class UnknownSpaceError(AutometaError, KeyError):
    exit_code = 2

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class Param:
    """One hyperparameter: float or int, on a linear or log scale."""

    low: float
    high: float
    log: bool = False
    integer: bool = False

    def distribution(self):
        import optuna

        if self.integer:
            return optuna.distributions.IntDistribution(int(self.low), int(self.high), log=self.log)
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log)

    def from_unit(self, u: float) -> float | int:
        """The value at quantile `u` in [0, 1) of this parameter's (log-)uniform scale."""
        import math

        if self.log:
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        if self.integer:
            return int(min(self.high, max(self.low, round(value))))
        return float(min(self.high, max(self.low, value)))

    def clip(self, value: float) -> float | int:
        clipped = min(self.high, max(self.low, value))
        return int(round(clipped)) if self.integer else float(clipped)


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """A learner's tunable hyperparameters.

    name : registry key, e.g. ``"lightgbm"``.
    params : name -> :class:`Param`, in the learner's own keyword names.
    defaults : the learner's defaults as a configuration of this space.
    fixed : constant keyword arguments (threads, verbosity); the seed is added per fit.
    build : ``build(task, params, random_state) -> estimator`` (scikit-learn API).
    tasks : the task kinds it supports.
    """

    name: str
    params: dict[str, Param]
    defaults: dict[str, Any]
    fixed: dict[str, Any]
    build: Callable[[str, dict, int], Any]
    tasks: tuple[str, ...] = TASKS
    description: str = ""

    def distributions(self) -> dict:
        """Optuna distributions, by parameter name."""
        return {name: p.distribution() for name, p in self.params.items()}

    def suggest(self, trial) -> dict[str, Any]:
        """Draw (or, for an enqueued trial, read back) a configuration through an Optuna trial."""
        config = {}
        for name, p in self.params.items():
            if p.integer:
                config[name] = trial.suggest_int(name, int(p.low), int(p.high), log=p.log)
            else:
                config[name] = trial.suggest_float(name, p.low, p.high, log=p.log)
        return config

    def learner_params(self, config: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments that rebuild the evaluated model: the configuration plus the fixed
        settings that matter to the model (``subsample_freq``, ``early_stopping``...), without
        the runtime ones (threads, verbosity)."""
        fixed = {k: v for k, v in self.fixed.items() if k not in RUNTIME_SETTINGS}
        return {**fixed, **config}

    def estimator(self, task: str, params: dict[str, Any], random_state: int = 0):
        if task not in self.tasks:
            raise AutometaError(f"Search space {self.name!r} supports tasks {list(self.tasks)}, not {task!r}.")
        return self.build(task, {**self.fixed, **params}, random_state)

    def pool(self, n: int, seed: int = 0) -> list[dict[str, Any]]:
        """The defaults followed by `n` scrambled-Sobol points: the same list for the same (n, seed)."""
        import math

        import numpy as np
        from scipy.stats import qmc

        sobol = qmc.Sobol(d=len(self.params), scramble=True, seed=seed)
        # The first n points of the sequence; drawn as a power of two, which Sobol balances.
        points = sobol.random_base2(max(0, math.ceil(math.log2(n)))) if n > 0 else np.empty((0, len(self.params)))
        points = points[:n]
        configs = [dict(self.defaults)]
        for row in points:
            configs.append({name: p.from_unit(float(u)) for (name, p), u in zip(self.params.items(), row)})
        return configs

    def fingerprint(self) -> str:
        """Hash of the parameter ranges and defaults: pools of equal fingerprints are comparable."""
        text = json.dumps({"params": {k: dataclasses.asdict(v) for k, v in self.params.items()},
                           "defaults": self.defaults, "fixed": self.fixed}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _build_lightgbm(task: str, params: dict, random_state: int):
    import lightgbm

    learner = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    return learner(random_state=random_state, **params)


def _build_hist_gradient_boosting(task: str, params: dict, random_state: int):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    learner = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return learner(random_state=random_state, **params)


LIGHTGBM = SearchSpace(
    name="lightgbm",
    description="LightGBM gradient-boosted trees (LGBMClassifier / LGBMRegressor).",
    params={
        "n_estimators": Param(8, 1024, log=True, integer=True),
        "learning_rate": Param(0.005, 0.5, log=True),
        "num_leaves": Param(2, 512, log=True, integer=True),
        "min_child_samples": Param(1, 256, log=True, integer=True),
        "colsample_bytree": Param(0.2, 1.0),
        "subsample": Param(0.2, 1.0),
        "reg_alpha": Param(1e-8, 10.0, log=True),
        "reg_lambda": Param(1e-8, 10.0, log=True),
    },
    defaults={"n_estimators": 100, "learning_rate": 0.1, "num_leaves": 31, "min_child_samples": 20,
              "colsample_bytree": 1.0, "subsample": 1.0, "reg_alpha": 1e-8, "reg_lambda": 1e-8},
    # subsample only acts with subsample_freq > 0; one thread: parallelism is one process per core.
    fixed={"subsample_freq": 1, "n_jobs": 1, "verbosity": -1},
    build=_build_lightgbm,
)

HIST_GRADIENT_BOOSTING = SearchSpace(
    name="hist_gradient_boosting",
    description="scikit-learn HistGradientBoosting{Classifier,Regressor}, no early stopping.",
    params={
        "max_iter": Param(8, 512, log=True, integer=True),
        "learning_rate": Param(0.005, 0.5, log=True),
        "max_leaf_nodes": Param(2, 256, log=True, integer=True),
        "min_samples_leaf": Param(1, 256, log=True, integer=True),
        "max_features": Param(0.2, 1.0),
        "l2_regularization": Param(1e-8, 10.0, log=True),
    },
    defaults={"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20,
              "max_features": 1.0, "l2_regularization": 1e-8},
    fixed={"early_stopping": False, "categorical_features": "from_dtype"},
    build=_build_hist_gradient_boosting,
)

SPACES: dict[str, SearchSpace] = {s.name: s for s in (LIGHTGBM, HIST_GRADIENT_BOOSTING)}


def get_space(name: str | SearchSpace) -> SearchSpace:
    if isinstance(name, SearchSpace):
        return name
    try:
        return SPACES[name]
    except KeyError:
        raise UnknownSpaceError(
            f"Unknown search space {name!r}. Available: {sorted(SPACES)}. "
            "Register a new one by adding a SearchSpace to autometa.spaces.SPACES."
        ) from None
