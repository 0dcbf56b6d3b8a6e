import numpy as np
import pandas as pd
import pytest

from autometa import DataError, load_dataset
from autometa.datasets import build_dataset


def test_arrays_are_typed_and_task_inferred():
    X = np.array([[1.0, np.inf], [2.0, 3.0], [np.nan, 4.0], [5.0, 6.0]])
    d = load_dataset((X, [0, 1, 0, 1]))
    assert d.task == "binary" and d.n_classes == 2
    assert list(d.X.columns) == ["x0", "x1"]
    assert d.X["x1"].isna().tolist() == [True, False, False, False]  # inf became missing
    assert d.numeric == ["x0", "x1"] and d.categorical == []


def test_strings_bools_and_mixed_objects_become_categorical():
    X = pd.DataFrame(
        {
            "num": [1.5, 2.5, 3.5, 4.5],
            "text": ["a", "b", None, "a"],
            "flag": [True, False, True, True],
            "mixed": [1, "x", 2.0, "x"],
            "when": pd.to_datetime(["2020-01-01", "2021-01-01", None, "2022-01-01"]),
        }
    )
    d = load_dataset((X, ["u", "v", "w", "u"]))
    assert d.task == "multiclass" and d.n_classes == 3
    assert set(d.categorical) == {"text", "flag", "mixed"}
    assert d.X["text"].isna().sum() == 1
    assert d.X["mixed"].cat.categories.tolist() == ["1", "2.0", "x"]
    assert d.X["when"].dtype == np.float64 and np.isnan(d.X["when"].iloc[2])


@pytest.mark.parametrize(
    ("y", "task"),
    [
        ([0.5, 1.25, 2.0, 3.5], "regression"),
        (list(range(30)) * 2, "regression"),
        ([1, 2, 3, 1], "multiclass"),
        (["yes", "no", "no", "yes"], "binary"),
    ],
)
def test_task_inference(y, task):
    X = np.arange(len(y) * 2, dtype=float).reshape(len(y), 2)
    assert load_dataset((X, y)).task == task


def test_task_override_and_binary_check():
    X = np.zeros((4, 1)) + np.arange(4)[:, None]
    assert load_dataset((X, [1, 2, 3, 4]), task="regression").task == "regression"
    assert load_dataset((X, [1, 2, 3, 4]), task="classification").task == "multiclass"
    with pytest.raises(DataError, match="exactly 2 classes"):
        load_dataset((X, [1, 2, 3, 4]), task="binary")
    with pytest.raises(DataError, match="Unknown task 'ranking'"):
        load_dataset((X, [1, 2, 1, 2]), task="ranking")


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.empty((0, 3)), [], "Expected at least 2 rows"),
        (np.ones((4, 2)), [0, 1, 0], "same number of rows"),
        (np.ones((4, 2)), [1, 1, 1, 1], "single class"),
        (np.ones((4, 2)), [np.nan] * 4, "all 4 are missing"),
        (np.ones(4), [0, 1, 0, 1], "Expected 2D array"),
        (np.ones((4, 0)), [0, 1, 0, 1], "at least one feature"),
        (np.ones((4, 2)), [0.5, 0.5, 0.5, 0.5], "is constant"),
        (np.ones((3, 2)), np.ones((3, 2)), "Expected a 1D target"),
    ],
)
def test_bad_input_is_a_clear_error(X, y, message):
    with pytest.raises(DataError, match=message):
        load_dataset((X, y))


def test_constant_regression_target_and_inf_target():
    X = np.arange(8, dtype=float).reshape(4, 2)
    with pytest.raises(DataError, match="constant"):
        build_dataset(X, [2.5] * 4, task="regression")
    with pytest.raises(DataError, match="inf"):
        build_dataset(X, [1.5, np.inf, 2.5, 3.5], task="regression")


def test_rows_with_missing_target_are_dropped_and_recorded():
    d = load_dataset((np.arange(10, dtype=float).reshape(5, 2), [0, 1, np.nan, 1, 0]))
    assert d.n_rows == 4 and d.provenance["dropped_rows_missing_target"] == 1


def test_duplicate_columns_are_refused():
    frame = pd.DataFrame([[1, 2, 0], [3, 4, 1], [5, 6, 0]], columns=["a", "a", "t"])
    with pytest.raises(DataError, match="more than once"):
        load_dataset(frame, target="t")


def test_subsample_is_stratified_and_seeded():
    y = np.array([0] * 900 + [1] * 90 + [2] * 10)
    d = load_dataset((np.arange(1000, dtype=float)[:, None], y))
    a, b = d.subsample(100, random_state=3), d.subsample(100, random_state=3)
    assert a.n_rows == 100 and a.X.equals(b.X)
    counts = a.y.value_counts().sort_index().tolist()
    assert counts == [90, 9, 1]
    assert d.subsample(100, random_state=4).X["x0"].tolist() != a.X["x0"].tolist()
    assert d.subsample(None) is d
