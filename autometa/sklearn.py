"""Drop-in scikit-learn estimators whose hyperparameters autometa chooses for the data they are fit on.

    >>> from autometa.sklearn import LGBMClassifier
    >>> model = LGBMClassifier().fit(X_train, y_train)      # asks autometa, then fits LightGBM
    >>> model.config_, model.reason_                         # what was chosen, and why
    >>> model.predict(X_test)

Learners: LightGBM (``LGBMClassifier``, ``LGBMRegressor``), scikit-learn's HistGradientBoosting
(``HistGradientBoostingClassifier``, ``HistGradientBoostingRegressor``), scikit-learn's random
forests (``RandomForestClassifier``, ``RandomForestRegressor``) and XGBoost (``XGBClassifier``,
``XGBRegressor``; the ``xgboost`` extra).

In ``fit``, the estimator asks the shipped meta-model of its learner for ``n_suggestions``
configurations for the data it is given. With one, it fits the learner with the first. With
several, it scores each on a quick internal validation split (``validation_fraction`` of the rows,
stratified for classification; ROC-AUC or R^2, as the knowledge base scores them) and keeps the
best, then refits it on all the rows. The fitted learner is ``estimator_``. They work in pipelines,
``cross_val_score`` and grid searches (over ``n_suggestions``, say), and pass scikit-learn's
estimator checks where those apply (see ``tests/test_sklearn.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from autometa.exceptions import DataError


class _Autometa(BaseEstimator):
    """Shared machinery; subclasses set ``_space`` and ``_classification``."""

    _space = "lightgbm"
    _classification = True

    def __init__(
        self,
        n_suggestions: int = 1,
        validation_fraction: float = 0.25,
        metamodel: Any = "default",
        random_state: int | None = 0,
    ):
        self.n_suggestions = n_suggestions
        self.validation_fraction = validation_fraction
        self.metamodel = metamodel
        self.random_state = random_state

    def _check_params(self) -> None:
        if not isinstance(self.n_suggestions, (int, np.integer)) or self.n_suggestions < 1:
            raise DataError(f"n_suggestions must be a positive integer, got {self.n_suggestions!r}.")
        if not 0 < self.validation_fraction < 1:
            raise DataError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}.")

    def fit(self, X, y):
        """Ask autometa for configurations for (X, y), choose one, fit the learner with it."""
        import pandas as pd

        from autometa._suggest import suggest
        from autometa.datasets import build_dataset
        from autometa.spaces import get_space

        self._check_params()
        frame = X if isinstance(X, pd.DataFrame) else None
        X_checked, y_checked = validate_data(
            self, X, y, ensure_all_finite="allow-nan", dtype=None if frame is not None else "numeric"
        )
        data = frame if frame is not None else X_checked
        if len(y_checked) < 2:
            raise DataError(f"{type(self).__name__} needs at least 2 samples to fit, got n_samples = {len(y_checked)}.")
        if self._classification:
            from sklearn.utils.multiclass import check_classification_targets

            check_classification_targets(y_checked)
            self.classes_, codes = np.unique(y_checked, return_inverse=True)
            if self.classes_.size < 2:
                raise DataError(f"{type(self).__name__} needs at least 2 classes in y, got 1 class.")
            target, task = codes, ("binary" if self.classes_.size == 2 else "multiclass")
        else:
            target, task = np.asarray(y_checked, dtype=float), "regression"
        dataset = build_dataset(data, pd.Series(target), task=task, name=type(self).__name__)
        space = get_space(self._space)
        suggestions = suggest(
            dataset,
            n=int(self.n_suggestions),
            space=self._space,
            metamodel=self.metamodel,
            random_state=self.random_state,
        )
        self.suggestions_ = suggestions
        chosen = 0
        if len(suggestions) > 1:
            self.validation_scores_ = self._validate(space, dataset, suggestions)
            chosen = int(np.nanargmax(self.validation_scores_))
        self.config_ = dict(suggestions[chosen].params)
        self.reason_ = suggestions[chosen].because + (
            f"; chosen among {len(suggestions)} by a {self.validation_fraction:.0%} validation split"
            if len(suggestions) > 1
            else ""
        )
        self.estimator_ = space.estimator(task, self.config_, random_state=self.random_state or 0)
        self.estimator_.fit(dataset.X, target)
        self._columns = list(dataset.X.columns)
        self._categories = {
            c: dataset.X[c].cat.categories
            for c in dataset.X.columns
            if isinstance(dataset.X[c].dtype, pd.CategoricalDtype)
        }
        return self

    def _validate(self, space, dataset, suggestions) -> np.ndarray:
        from sklearn.model_selection import train_test_split

        from autometa.protocol import Protocol, evaluate

        y = dataset.y.cat.codes.to_numpy() if dataset.is_classification else dataset.y.to_numpy()
        stratify = y if dataset.is_classification and np.bincount(y).min() >= 2 else None
        train, valid = train_test_split(
            np.arange(dataset.n_rows),
            test_size=self.validation_fraction,
            random_state=self.random_state,
            stratify=stratify,
        )
        protocol = Protocol(folds=2, max_rows=dataset.n_rows, seed=self.random_state or 0)
        return np.array(
            [evaluate(space, s.params, dataset, protocol, folds=[(train, valid)]).score for s in suggestions]
        )

    def _frame(self, X):
        import pandas as pd

        check_is_fitted(self, "estimator_")
        frame = X if isinstance(X, pd.DataFrame) else None
        X_checked = validate_data(
            self, X, reset=False, ensure_all_finite="allow-nan", dtype=None if frame is not None else "numeric"
        )
        table = frame.copy() if frame is not None else pd.DataFrame(X_checked)
        table.columns = self._columns
        for column, categories in self._categories.items():
            values = table[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(object)
            # A level the training rows never had is missing, as the learner saw no such level.
            table[column] = pd.Categorical(values.where(values.isin(categories)), categories=categories)
        return table

    def predict(self, X):
        frame = self._frame(X)  # checks that the estimator is fitted first
        predicted = self.estimator_.predict(frame)
        return self.classes_[np.asarray(predicted, dtype=int)] if self._classification else predicted

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class _Classifier(ClassifierMixin, _Autometa):
    def predict_proba(self, X):
        frame = self._frame(X)
        return self.estimator_.predict_proba(frame)


class _Regressor(RegressorMixin, _Autometa):
    _classification = False


class LGBMClassifier(_Classifier):
    """``lightgbm.LGBMClassifier`` with the configuration autometa suggests for the training data.

    Parameters
    ----------
    n_suggestions : configurations to ask for; more than one are compared on a validation split.
    validation_fraction : share of the rows that validation split holds out (``n_suggestions > 1``).
    metamodel : ``"default"`` (shipped), a folder written by ``MetaModel.save``, or a MetaModel.
    random_state : seed of the learner and of the validation split.

    Attributes: ``config_`` (the learner's keyword arguments), ``reason_`` (why),
    ``suggestions_``, ``validation_scores_`` (with several suggestions), ``estimator_``, ``classes_``.
    """

    _space = "lightgbm"


class LGBMRegressor(_Regressor):
    """``lightgbm.LGBMRegressor`` with the configuration autometa suggests for the training data
    (parameters and attributes as :class:`LGBMClassifier`)."""

    _space = "lightgbm"


class HistGradientBoostingClassifier(_Classifier):
    """scikit-learn's ``HistGradientBoostingClassifier`` with the configuration autometa suggests
    (parameters and attributes as :class:`LGBMClassifier`)."""

    _space = "hist_gradient_boosting"


class HistGradientBoostingRegressor(_Regressor):
    """scikit-learn's ``HistGradientBoostingRegressor`` with the configuration autometa suggests
    (parameters and attributes as :class:`LGBMClassifier`)."""

    _space = "hist_gradient_boosting"


class RandomForestClassifier(_Classifier):
    """scikit-learn's ``RandomForestClassifier`` with the configuration autometa suggests
    (parameters and attributes as :class:`LGBMClassifier`)."""

    _space = "random_forest"


class RandomForestRegressor(_Regressor):
    """scikit-learn's ``RandomForestRegressor`` with the configuration autometa suggests
    (parameters and attributes as :class:`LGBMClassifier`)."""

    _space = "random_forest"


class XGBClassifier(_Classifier):
    """``xgboost.XGBClassifier`` (hist trees, native categorical splits) with the configuration
    autometa suggests (parameters and attributes as :class:`LGBMClassifier`). Needs the
    ``xgboost`` extra: ``pip install 'autometa[xgboost]'``."""

    _space = "xgboost"


class XGBRegressor(_Regressor):
    """``xgboost.XGBRegressor`` with the configuration autometa suggests (as :class:`XGBClassifier`)."""

    _space = "xgboost"


__all__ = [
    "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor",
    "LGBMClassifier",
    "LGBMRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "XGBClassifier",
    "XGBRegressor",
]
