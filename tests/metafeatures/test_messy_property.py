"""Generated messy tables: extraction gives finite values or NaN with a reason, or a documented error."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metafeatures
from autometa import DataError, load_dataset
from metafeatures import MetafeatureInputError

CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.integers(-5, 5),
    st.sampled_from(["a", "b", "c", "", None]),
    st.booleans(),
)


@st.composite
def messy_tables(draw):
    n_rows = draw(st.integers(1, 40))
    n_cols = draw(st.integers(1, 6))
    columns = {}
    for j in range(n_cols):
        kind = draw(st.sampled_from(["float", "int", "text", "mixed", "bool", "nan", "constant"]))
        if kind == "float":
            values = draw(
                st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=n_rows, max_size=n_rows)
            )
        elif kind == "int":
            values = draw(st.lists(st.integers(-3, 3), min_size=n_rows, max_size=n_rows))
        elif kind == "text":
            values = draw(st.lists(st.sampled_from(["x", "y", "z", None]), min_size=n_rows, max_size=n_rows))
        elif kind == "mixed":
            values = draw(st.lists(CELLS, min_size=n_rows, max_size=n_rows))
        elif kind == "bool":
            values = draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows))
        elif kind == "nan":
            values = [np.nan] * n_rows
        else:
            values = [1.0] * n_rows
        columns[f"c{j}"] = pd.Series(values, dtype=object if kind == "mixed" else None)
    target_kind = draw(st.sampled_from(["binary", "multiclass", "regression", "text", "one_class", "with_nan"]))
    if target_kind == "regression":
        y = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n_rows, max_size=n_rows))
    elif target_kind == "text":
        y = draw(st.lists(st.sampled_from(["p", "q"]), min_size=n_rows, max_size=n_rows))
    elif target_kind == "one_class":
        y = [1] * n_rows
    elif target_kind == "with_nan":
        y = draw(st.lists(st.sampled_from([0.0, 1.0, np.nan]), min_size=n_rows, max_size=n_rows))
    else:
        y = draw(st.lists(st.integers(0, 1 if target_kind == "binary" else 3), min_size=n_rows, max_size=n_rows))
    return pd.DataFrame(columns), pd.Series(y)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(messy_tables())
def test_messy_tables_never_crash(table):
    X, y = table
    try:
        dataset = load_dataset((X, y))
    except DataError:
        return  # documented: one class, all-missing target, too few rows...
    try:
        result = metafeatures.extract_all(dataset)
    except MetafeatureInputError:
        return
    values = result.values
    assert list(values.index) == metafeatures.list_metafeatures()
    assert np.isfinite(values.dropna()).all()
    assert set(values.index[values.isna()]) == set(result.failures)
