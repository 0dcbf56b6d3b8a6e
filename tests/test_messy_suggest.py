"""Messy input through autometa.suggest and autometa.optuna.warm_start (issue 7).

Each generated table either gives valid suggestions (finite parameters, inside the space's
ranges) and enqueued trials, or raises one of our documented errors (DataError,
MetafeatureInputError) - never anything else.
"""

import math

import numpy as np
import optuna
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autometa
from autometa import DataError
from autometa.metamodel import MetaModel
from autometa.optuna import warm_start
from autometa.spaces import get_space
from metafeatures import MetafeatureInputError

DOCUMENTED = (DataError, MetafeatureInputError)
SPACE = get_space("lightgbm")


@pytest.fixture(scope="module")
def model(metadata):
    data, params, _ = metadata
    return MetaModel("lightgbm", "knn").fit(data, params)


@st.composite
def messy_tables(draw):
    n_rows = draw(st.integers(1, 60))
    n_cols = draw(st.integers(1, 6))
    columns, names = [], []
    for j in range(n_cols):
        kind = draw(st.sampled_from(["float", "int", "text", "mixed", "bool", "nan", "constant", "datetime", "inf"]))
        if kind == "float":
            values = draw(
                st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=n_rows, max_size=n_rows)
            )
        elif kind == "int":
            values = draw(st.lists(st.integers(-3, 3), min_size=n_rows, max_size=n_rows))
        elif kind == "text":
            values = draw(st.lists(st.sampled_from(["x", "y", "z", None]), min_size=n_rows, max_size=n_rows))
        elif kind == "mixed":
            values = pd.Series(
                draw(
                    st.lists(
                        st.one_of(st.floats(width=32), st.sampled_from(["a", "", None]), st.booleans()),
                        min_size=n_rows,
                        max_size=n_rows,
                    )
                ),
                dtype=object,
            )
        elif kind == "bool":
            values = draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows))
        elif kind == "nan":
            values = [np.nan] * n_rows
        elif kind == "inf":
            values = [np.inf] * n_rows
        elif kind == "datetime":
            values = pd.to_datetime(draw(st.lists(st.integers(0, 10**9), min_size=n_rows, max_size=n_rows)), unit="s")
        else:
            values = [1.0] * n_rows
        columns.append(pd.Series(values).reset_index(drop=True))
        # Duplicate column names happen in real files.
        names.append(draw(st.sampled_from([f"c{j}", "dup"])))
    X = pd.concat(columns, axis=1)
    X.columns = names
    target = draw(
        st.sampled_from(
            ["binary", "multiclass", "regression", "text", "one_class", "with_nan", "all_nan", "constant_float"]
        )
    )
    if target == "regression":
        y = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n_rows, max_size=n_rows))
    elif target == "text":
        y = draw(st.lists(st.sampled_from(["p", "q"]), min_size=n_rows, max_size=n_rows))
    elif target == "one_class":
        y = [1] * n_rows
    elif target == "with_nan":
        y = draw(st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=n_rows, max_size=n_rows))
    elif target == "all_nan":
        y = [np.nan] * n_rows
    elif target == "constant_float":
        y = [0.5] * n_rows
    else:
        y = draw(st.lists(st.integers(0, 1 if target == "binary" else 3), min_size=n_rows, max_size=n_rows))
    return X, pd.Series(y)


def check(suggestions) -> None:
    for s in suggestions:
        for name, value in s.params.items():
            assert isinstance(value, (int, float)) and math.isfinite(value), (name, value)
            if name in SPACE.params:
                p = SPACE.params[name]
                assert p.low - 1e-9 <= value <= p.high + 1e-9 or (value == 0 and p.low == 1e-8), (name, value)


def test_messy_tables_suggest_and_warm_start(model):
    """120 generated messy tables: each either gets suggestions that the learner accepts (and a
    warm start), or a documented error that says what is wrong; both outcomes occur, nothing else."""
    cases = {"ran": 0, "documented_error": 0}

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
    )
    @given(messy_tables())
    def one_table(table):
        X, y = table
        try:
            suggestions = autometa.suggest((X, y), n=3, metamodel=model)
        except DOCUMENTED as error:
            assert str(error)  # says what is wrong
            cases["documented_error"] += 1
            return
        cases["ran"] += 1
        assert 1 <= len(suggestions) <= 3
        check(suggestions)
        study = optuna.create_study(direction="maximize")
        enqueued = warm_start(study, (X, y), n=3, metamodel=model, distributions=SPACE.distributions())
        assert 1 <= len(enqueued) <= 3 and len(study.get_trials(deepcopy=False)) == len(enqueued)

    one_table()
    assert cases["ran"] > 10 and cases["documented_error"] > 10, cases


@pytest.mark.parametrize("case", ["10k_levels", "10k_columns", "single_row", "datetime_and_bool"])
def test_extreme_tables(model, case):
    rng = np.random.default_rng(0)
    if case == "10k_levels":
        X = pd.DataFrame({"id": [f"level{i}" for i in range(10_000)], "x": rng.normal(size=10_000)})
        y = pd.Series(rng.integers(0, 2, 10_000))
    elif case == "10k_columns":
        X = pd.DataFrame(rng.normal(size=(50, 10_000)).astype(np.float32))
        y = pd.Series(np.tile([0, 1], 25))
    elif case == "single_row":
        X, y = pd.DataFrame({"a": [1.0]}), pd.Series([1])
    else:
        X = pd.DataFrame({"when": pd.date_range("2020-01-01", periods=100, freq="D"), "flag": [True, False] * 50})
        y = pd.Series(rng.normal(size=100))
    try:
        suggestions = autometa.suggest((X, y), n=2, metamodel=model)
    except DOCUMENTED as error:
        assert case == "single_row", error
        assert "row" in str(error) or "class" in str(error)
        return
    check(suggestions)
