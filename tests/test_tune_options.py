"""tune's --n-jobs, --timeout and --task (issue: what a user touches, CLI conventions)."""

from __future__ import annotations

import time

import optuna
import pytest

from autometa import DataError, tune
from autometa.cli import main


def test_parallel_trials_get_different_pool_configurations(corpus_path, tmp_path):
    """Two trials at a time with the TransferSampler: each its own pool configuration, none twice."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    result = tune(
        corpus_path / "diabetes.tsv.gz",
        trials=6,
        n_jobs=2,
        sampler="transfer",
        max_rows=300,
        storage=url,
        progress=False,
    )
    assert result["trials"] == 6 and result["stopped"] == "trials"
    study = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url)
    params = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(study.trials) == 6 and len(set(params)) == 6


def test_parallel_transfer_proposals_are_distinct(corpus_path):
    from autometa.optuna import TransferSampler

    sampler = TransferSampler(corpus_path / "diabetes.tsv.gz", seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    first, second = study.ask(), study.ask()  # both running, nothing finished
    a = {k: first.suggest_float(k, 1e-3, 1.0, log=True) for k in ["learning_rate"]}
    b = {k: second.suggest_float(k, 1e-3, 1.0, log=True) for k in ["learning_rate"]}
    leaves = first.suggest_int("num_leaves", 2, 4096, log=True), second.suggest_int("num_leaves", 2, 4096, log=True)
    assert (a, leaves[0]) != (b, leaves[1])


def test_timeout_stops_starting_trials(corpus_path):
    start = time.monotonic()
    result = tune(corpus_path / "diabetes.tsv.gz", trials=10_000, timeout=3, warm_start=False, progress=False)
    assert result["stopped"] == "timeout" and 0 < result["trials"] < 10_000
    assert time.monotonic() - start < 60


@pytest.mark.parametrize(("option", "value"), [("--n-jobs", "0"), ("--timeout", "-1")])
def test_bad_parallelism_or_timeout_is_a_one_line_error(corpus_path, option, value, capsys):
    assert main(["tune", str(corpus_path / "diabetes.tsv.gz"), "--quiet", option, value]) == 2
    assert option in capsys.readouterr().err


def test_task_overrides_what_the_target_suggests(corpus_path):
    """An integer target with few values reads as classes; task="regression" tunes a regressor."""
    import numpy as np

    import autometa

    rows = autometa.load_dataset(corpus_path / "diabetes.tsv.gz")
    X = rows.X.select_dtypes("number")
    y = np.round(X.iloc[:, 0].to_numpy()).astype(int) % 6  # integers 0-5
    assert autometa.load_dataset((X, y)).task == "multiclass"
    with pytest.raises(DataError):
        tune((X, y), trials=1, task="nonsense", progress=False)
    result = tune((X.iloc[:, 1:], y), trials=2, task="regression", warm_start=False, progress=False)
    assert result["task"] == "regression" and result["metric"] == "r2"


def test_tune_says_what_it_subsampled(corpus_path, capsys):
    """--max-rows below the dataset's rows: tune says so on stderr, in its result, and in the CLI
    summary (issue: advice at full size: tune on 10^6 rows says what it subsampled)."""
    result = tune(corpus_path / "diabetes.tsv.gz", trials=1, max_rows=300, progress=True)
    assert (result["rows"], result["dataset_rows"]) == (300, 768)
    assert "subsample of 300 of the 768 rows (--max-rows 300, seed 0, stratified)" in capsys.readouterr().err
    assert main(["tune", str(corpus_path / "diabetes.tsv.gz"), "--trials", "1", "--max-rows", "300", "--quiet"]) == 0
    assert "cross-validated on 300 of 768 rows (--max-rows)" in capsys.readouterr().out
    whole = tune(corpus_path / "diabetes.tsv.gz", trials=1, progress=True)
    assert whole["rows"] == whole["dataset_rows"] == 768 and "subsample" not in capsys.readouterr().err
