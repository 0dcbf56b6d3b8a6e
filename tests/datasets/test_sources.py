import numpy as np
import pandas as pd
import pytest

from autometa import DataError, SourceNotFoundError, load_dataset


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "a": rng.normal(size=40),
            "b": rng.choice(["x", "y", "z"], size=40),
            "label": rng.choice(["pos", "neg"], size=40),
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet"])
def test_files_round_trip(tmp_path, frame, suffix):
    path = tmp_path / f"data{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, sep="\t" if ".tsv" in suffix else ",", index=False)
    d = load_dataset(path, target="label")
    assert d.name == "data" and d.source == "file" and d.task == "binary"
    assert d.n_rows == 40 and d.categorical == ["b"]
    assert np.allclose(d.X["a"], frame["a"])


def test_dataframe_needs_a_known_target(frame):
    assert load_dataset(frame, target="label").n_features == 2
    with pytest.raises(DataError, match="No target column given: name the column to predict with target="):
        load_dataset(frame)
    with pytest.raises(DataError, match="'nope' is not in the data.*'label'"):
        load_dataset(frame, target="nope")


def test_unknown_file_type_and_missing_file(tmp_path):
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(DataError, match="Unknown file type '.xlsx'"):
        load_dataset(tmp_path / "data.xlsx", target="y")
    with pytest.raises(SourceNotFoundError, match="No such file"):
        load_dataset(tmp_path / "absent.csv", target="y")


def test_unsupported_source_type():
    with pytest.raises(DataError, match="Cannot read a dataset from dict"):
        load_dataset({"a": 1})


def test_corpus_file_takes_task_openml_id_and_integer_categoricals(corpus_path):
    d = load_dataset(corpus_path / "credit_g.tsv.gz")
    assert d.source == "corpus" and d.task == "binary" and d.openml_id == 31
    assert len(d.categorical) > 5 and "duration" in d.numeric


def test_openml_dataset_and_task_from_cache(openml_cache):
    d = load_dataset("openml:2")
    assert (d.name, d.openml_id, d.task, d.n_rows) == ("anneal", 2, "multiclass", 898)
    assert len(d.categorical) > 20
    t = load_dataset("openml-task:1882")
    assert t.provenance["openml_task_id"] == 1882 and t.X.shape == d.X.shape
    assert load_dataset(2).openml_id == 2


def test_openml_miss_offline_is_a_clear_error(openml_cache):
    import openml

    openml.config.server = "http://127.0.0.1:9/api/v1/xml"  # closed port: fails at once, stays local
    with pytest.raises(SourceNotFoundError, match="OpenML dataset 40 is not in the OpenML cache"):
        load_dataset("openml:40")
    with pytest.raises(SourceNotFoundError, match="OpenML task 7 "):
        load_dataset("openml-task:7")
    with pytest.raises(DataError, match="positive"):
        load_dataset("openml:0")
