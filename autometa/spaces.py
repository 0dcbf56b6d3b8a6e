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

    def to_unit(self, value):
        """The quantile of `value` on this parameter's (log-)uniform scale: the inverse of
        :meth:`from_unit` (before its rounding). Works on floats and numpy arrays alike."""
        import numpy as np

        if self.log:
            return (np.log(value) - np.log(self.low)) / (np.log(self.high) - np.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def clip(self, value: float) -> float | int:
        """`value` moved into the range (and rounded for an integer parameter)."""
        clipped = min(self.high, max(self.low, value))
        return int(round(clipped)) if self.integer else float(clipped)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """A learner's tunable hyperparameters.

    name : registry key, e.g. ``"lightgbm"``.
    params : name -> :class:`Param`, in the learner's own keyword names.
    defaults : the learner's defaults as a configuration of this space.
    fixed : constant keyword arguments (threads, verbosity); the seed is added per fit.
    build : ``build(task, params, random_state) -> estimator`` (scikit-learn API); a seed in
        `params` (a peer's own) takes the place of `random_state`.
    tasks : the task kinds it supports.
    aliases : own name -> other names the same hyperparameter goes by in user studies
        (LightGBM's ``eta``, ``num_leaves``' ``num_leaf``...). Each space owns its names: the
        names of another learner are not aliases, even where they mean something similar.
    task_defaults : task -> the learner's own defaults where they differ by task or are no point
        of the space (a random forest classifier's ``max_features="sqrt"``). They override
        `defaults` in :meth:`library_defaults`, which the ``defaults`` peer evaluates exactly;
        the pool's first configuration stays `defaults`, the same on every dataset.
    """

    name: str
    params: dict[str, Param]
    defaults: dict[str, Any]
    fixed: dict[str, Any]
    build: Callable[[str, dict, int], Any]
    tasks: tuple[str, ...] = TASKS
    description: str = ""
    aliases: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    task_defaults: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def library_defaults(self, task: str) -> dict[str, Any]:
        """The learner's own defaults for `task`, as keyword arguments of the estimator."""
        return {**self.defaults, **self.task_defaults.get(task, {})}

    def own_name(self, name: str) -> str | None:
        """The space's name of a study parameter (itself, or the name it is an alias of), or None."""
        if name in self.params:
            return name
        return next((own for own, others in self.aliases.items() if name in others), None)

    def canonical(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` under the space's own names; parameters of no known name are dropped."""
        out: dict[str, Any] = {}
        for name, value in params.items():
            own = self.own_name(name)
            if own is not None and own not in out:
                out[own] = value
        return out

    def names_of(self, name: str) -> tuple[str, ...]:
        """Every name a parameter of this space may carry in a study, its own first."""
        return (name, *self.aliases.get(name, ()))

    def clip(self, config: dict[str, Any]) -> dict[str, Any]:
        """A configuration with every known parameter clipped (and rounded) into its range."""
        return {k: self.params[k].clip(v) if k in self.params else v for k, v in config.items()}

    def to_unit(self, configs):
        """Configurations (a DataFrame with a column per parameter) on the unit scale of each
        parameter: the inverse of :meth:`pool`'s mapping. Values outside a range map outside [0, 1]."""
        import pandas as pd

        return pd.DataFrame(
            {name: p.to_unit(configs[name].astype(float)) for name, p in self.params.items()}, index=configs.index
        )

    def with_ranges(self, params: dict[str, dict[str, Any]]) -> SearchSpace:
        """This space with the parameter ranges recorded in a knowledge-base manifest or a saved
        meta-model (``{name: {"low", "high", "log", "integer"}}``): configurations are read on
        the ranges they were collected with, which may differ from the installed ones.

        The parameters keep the recorded order (manifests record them by name): a surrogate's
        columns and the order in which a sampler sees the distributions follow it, so a model
        saved with one order is read with the same one."""
        if set(params) != set(self.params):
            raise AutometaError(
                f"The recorded parameters {sorted(params)} are not those of search space {self.name!r} "
                f"({sorted(self.params)}); the file was written for another version of the space."
            )
        ranges = {name: Param(**{k: params[name][k] for k in ("low", "high", "log", "integer")}) for name in params}
        same = ranges == self.params and list(ranges) == list(self.params)
        return self if same else dataclasses.replace(self, params=ranges)

    def param_dicts(self) -> dict[str, dict[str, Any]]:
        """The ranges as plain data, as manifests and saved meta-models record them."""
        return {name: p.as_dict() for name, p in self.params.items()}

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
        text = json.dumps(
            {
                "params": {k: dataclasses.asdict(v) for k, v in self.params.items()},
                "defaults": self.defaults,
                "fixed": self.fixed,
                **({"task_defaults": self.task_defaults} if self.task_defaults else {}),
            },
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _build_lightgbm(task: str, params: dict, random_state: int):
    import lightgbm

    learner = lightgbm.LGBMRegressor if task == "regression" else lightgbm.LGBMClassifier
    return learner(**{"random_state": random_state, **params})


def _build_hist_gradient_boosting(task: str, params: dict, random_state: int):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    learner = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return learner(**{"random_state": random_state, **params})


def _build_xgboost(task: str, params: dict, random_state: int):
    try:
        import xgboost
    except ImportError as error:
        from autometa.exceptions import MissingDependencyError

        raise MissingDependencyError(
            "The xgboost search space needs XGBoost: pip install 'autometa[xgboost]'."
        ) from error
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    learner = xgboost.XGBRegressor if task == "regression" else xgboost.XGBClassifier
    # XGBoost 3 reads a category column whose categories are (nullable) integers as text and
    # fails; the same categories written as strings are split natively.
    return make_pipeline(FunctionTransformer(_string_categories), learner(**{"random_state": random_state, **params}))


def _build_random_forest(task: str, params: dict, random_state: int):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    params = dict(params)
    if params.get("max_leaf_nodes") is not None and params["max_leaf_nodes"] >= UNLIMITED_LEAVES:
        params["max_leaf_nodes"] = None  # the top of the range stands for scikit-learn's unlimited
    learner = RandomForestRegressor if task == "regression" else RandomForestClassifier
    # A peer's own seed (FLAML's) is part of its configuration; pool configurations use the protocol's.
    return make_pipeline(FunctionTransformer(_category_codes), learner(**{"random_state": random_state, **params}))


def _category_codes(X):
    """Category columns as their codes (missing as NaN, which the forest routes natively): the
    categories are fixed when the data is read, so the same category gets the same code in
    every fold."""
    import numpy as np
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        return X
    columns = {
        c: X[c].cat.codes.astype(float).replace(-1.0, np.nan)
        for c in X.columns
        if isinstance(X[c].dtype, pd.CategoricalDtype)
    }
    return X.assign(**columns) if columns else X


def _string_categories(X):
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        return X
    columns = {c: X[c].cat.rename_categories(str) for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)}
    return X.assign(**columns) if columns else X


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
    defaults={
        "n_estimators": 100,
        "learning_rate": 0.1,
        "num_leaves": 31,
        "min_child_samples": 20,
        "colsample_bytree": 1.0,
        "subsample": 1.0,
        "reg_alpha": 1e-8,
        "reg_lambda": 1e-8,
    },
    # subsample only acts with subsample_freq > 0; one thread: parallelism is one process per core.
    fixed={"subsample_freq": 1, "n_jobs": 1, "verbosity": -1},
    build=_build_lightgbm,
    # LightGBM's own parameter aliases (lightgbm 4.x, ``LGBM_DumpParamAliases``), so that studies
    # written in any of them map; ``max_iter`` or ``min_samples_leaf`` are LightGBM aliases too.
    aliases={
        "n_estimators": (
            "num_iterations",
            "n_iter",
            "nrounds",
            "max_iter",
            "num_tree",
            "num_round",
            "num_trees",
            "num_rounds",
            "num_iteration",
            "num_boost_round",
        ),
        "learning_rate": ("eta", "shrinkage_rate"),
        "num_leaves": ("max_leaf", "num_leaf", "max_leaves", "max_leaf_nodes"),
        "min_child_samples": ("min_data_in_leaf", "min_data", "min_samples_leaf", "min_data_per_leaf"),
        "colsample_bytree": ("feature_fraction", "sub_feature"),
        "subsample": ("bagging_fraction", "bagging", "sub_row"),
        "reg_alpha": ("lambda_l1", "l1_regularization"),
        "reg_lambda": ("lambda_l2", "lambda", "l2_regularization"),
    },
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
    defaults={
        "max_iter": 100,
        "learning_rate": 0.1,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 20,
        "max_features": 1.0,
        "l2_regularization": 1e-8,
    },
    fixed={"early_stopping": False, "categorical_features": "from_dtype"},
    build=_build_hist_gradient_boosting,
    aliases={},  # scikit-learn has no parameter aliases
)

XGBOOST = SearchSpace(
    name="xgboost",
    description="XGBoost gradient-boosted trees (XGBClassifier / XGBRegressor), hist tree method.",
    # Ranges: XGBoost's documented defaults sit inside each; the bounds follow FLAML's XGBoost
    # space and the tunability study of Probst, Boulesteix and Bischl (JMLR 2019): depth 1-15,
    # min_child_weight on a log scale over 1e-3..128, row and column fractions from 0.2, and the
    # same trees x learning-rate box as the other boosters, so their pools are comparable.
    params={
        "n_estimators": Param(8, 1024, log=True, integer=True),
        "learning_rate": Param(0.005, 0.5, log=True),
        "max_depth": Param(1, 15, integer=True),
        "min_child_weight": Param(1e-3, 128.0, log=True),
        "subsample": Param(0.2, 1.0),
        "colsample_bytree": Param(0.2, 1.0),
        "reg_alpha": Param(1e-8, 10.0, log=True),
        "reg_lambda": Param(1e-8, 100.0, log=True),
    },
    defaults={
        "n_estimators": 100,
        "learning_rate": 0.3,
        "max_depth": 6,
        "min_child_weight": 1.0,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "reg_alpha": 1e-8,
        "reg_lambda": 1.0,
    },
    # Categorical columns (pandas category dtype) are split natively by the hist method.
    fixed={"tree_method": "hist", "enable_categorical": True, "n_jobs": 1, "verbosity": 0},
    build=_build_xgboost,
    # XGBoost's own names for the same parameters (its native API and the scikit-learn wrapper).
    aliases={
        "n_estimators": ("num_boost_round", "num_round"),
        "learning_rate": ("eta",),
        "min_child_weight": (),
        "reg_alpha": ("alpha",),
        "reg_lambda": ("lambda",),
    },
)

UNLIMITED_LEAVES = 32768

RANDOM_FOREST = SearchSpace(
    name="random_forest",
    description="scikit-learn RandomForest{Classifier,Regressor}, bootstrap on.",
    # Ranges follow the tunability study of Probst, Boulesteix and Bischl (JMLR 2019; mtry,
    # sample.fraction and min.node.size are the parameters worth tuning, the split rule is among
    # the least: it keeps scikit-learn's gini / squared error) and FLAML's forest space:
    # - max_features, a fraction of the columns, from 0.05 (covers sqrt(p) for up to 400 columns);
    # - max_samples, the bootstrap sample's share of the rows, from 0.1;
    # - min_samples_leaf 1-64 and max_leaf_nodes 4-32768 (the top stands for unlimited),
    #   both on a log scale, size the trees;
    # - n_estimators 8-512 on a log scale: more trees rarely hurt, but they cost.
    params={
        "n_estimators": Param(8, 512, log=True, integer=True),
        "max_features": Param(0.05, 1.0, log=True),
        "min_samples_leaf": Param(1, 64, log=True, integer=True),
        "max_leaf_nodes": Param(4, UNLIMITED_LEAVES, log=True, integer=True),
        "max_samples": Param(0.1, 1.0),
    },
    # scikit-learn's defaults (max_samples 1.0 draws n rows, as None does); max_features=1.0 is
    # the regressor's, the classifier's is "sqrt" (task_defaults).
    defaults={
        "n_estimators": 100,
        "max_features": 1.0,
        "min_samples_leaf": 1,
        "max_leaf_nodes": UNLIMITED_LEAVES,
        "max_samples": 1.0,
    },
    task_defaults={"binary": {"max_features": "sqrt"}, "multiclass": {"max_features": "sqrt"}},
    fixed={"bootstrap": True, "n_jobs": 1},
    build=_build_random_forest,
    aliases={},  # scikit-learn has no parameter aliases
)

SPACES: dict[str, SearchSpace] = {s.name: s for s in (LIGHTGBM, HIST_GRADIENT_BOOSTING, XGBOOST, RANDOM_FOREST)}


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
