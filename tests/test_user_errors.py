"""Bad input meets a clear one-line error (exit code 2) before any long work; nothing is written
where nobody asked. Each test failed before its fix (issue: what a user touches)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from autometa.cli import main


@pytest.fixture
def diabetes(corpus_path):
    return str(corpus_path / "diabetes.tsv.gz")


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ("notaurl", "is not a storage URL"),
        ("sqlite:////nonexistent_dir/x.db", "does not exist"),
        ("nosuchdriver://host/db", "is not a storage URL"),
    ],
)
def test_tune_refuses_a_bad_storage_at_once(diabetes, storage, message, capsys, monkeypatch):
    import autometa.datasets

    # Before loading and describing the data.
    monkeypatch.setattr(autometa.datasets, "load_dataset", lambda *a, **k: pytest.fail("loaded the data first"))
    assert main(["tune", diabetes, "--trials", "2", "--quiet", "--storage", storage]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("option", "value"), [("--folds", "1"), ("--max-rows", "3")])
def test_tune_refuses_impossible_folds(diabetes, option, value, capsys):
    assert main(["tune", diabetes, "--trials", "2", "--quiet", option, value]) == 2
    assert "must" in capsys.readouterr().err


def test_tune_checks_out_before_tuning(diabetes, capsys, monkeypatch):
    import autometa._tune

    monkeypatch.setattr(autometa._tune, "tune", lambda *a, **k: pytest.fail("tuned before checking --out"))
    assert main(["tune", diabetes, "--trials", "2", "--quiet", "--out", "/nonexistent/x.json"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_tune_writes_nothing_unasked(diabetes, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["tune", diabetes, "--trials", "1", "--quiet", "--max-rows", "200", "--no-warm-start"]) == 0
    assert "best roc_auc" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_suggest_says_when_it_has_fewer_configurations(diabetes, capsys):
    assert main(["suggest", diabetes, "-n", "400", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "257 configurations, not 400" in captured.err
    assert "best-of-400" not in captured.out and "best-of-257" in captured.out
    assert len(json.loads(captured.out)["suggestions"]) == 257


def test_duplicate_column_names_are_named():
    import metafeatures
    from metafeatures import MetafeatureInputError

    frame = pd.DataFrame(np.arange(12).reshape(6, 2), columns=["a", "a"])
    with pytest.raises(MetafeatureInputError, match=r"more than once: \['a'\]"):
        metafeatures.extract(frame, [0, 1] * 3)


def test_single_class_message_shows_the_plain_label():
    import autometa

    with pytest.raises(autometa.DataError, match=r"single class \(1\)"):
        autometa.load_dataset((np.ones((5, 2)), np.ones(5, dtype=np.int64)), task="binary")


def test_a_csv_without_target_names_the_option(tmp_path, capsys):
    path = tmp_path / "data.csv"
    pd.DataFrame({"x": [1, 2, 3, 4], "label": [0, 1, 0, 1]}).to_csv(path, index=False)
    assert main(["suggest", str(path)]) == 2
    assert "--target" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["metamodel", "fit"], ["train-encoder", "--corpus", "x"]])
def test_commands_that_write_models_need_a_folder(command, capsys):
    """They used to default to the installed package's own data, overwriting the shipped defaults."""
    assert main(command) == 2
    assert "--out" in capsys.readouterr().err


def test_collect_exports_to_a_folder_of_its_own_by_default():
    from autometa.cli import build_parser

    args = build_parser().parse_args(["collect", "--corpus", "c"])
    assert args.out == "autometa-kb"


def test_an_interrupted_trial_is_run_again_and_not_counted(corpus_path, tmp_path, monkeypatch):
    import optuna

    import autometa.protocol
    from autometa import tune

    url = f"sqlite:///{tmp_path / 'tune.db'}"
    data = corpus_path / "diabetes.tsv.gz"
    real = autometa.protocol.evaluate
    calls = []

    def interrupt_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(autometa.protocol, "evaluate", interrupt_the_third)
    with pytest.raises(KeyboardInterrupt):
        tune(data, trials=6, storage=url, max_rows=200, progress=False)
    monkeypatch.setattr(autometa.protocol, "evaluate", real)
    study = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url)
    interrupted = study.trials[2]
    assert interrupted.state == optuna.trial.TrialState.FAIL
    result = tune(data, trials=6, storage=url, max_rows=200, progress=False)
    assert result["trials"] == 6  # the interrupted trial does not count
    study = optuna.load_study(study_name=study.study_name, storage=url)
    rerun = [t for t in study.trials if t.user_attrs.get("requeued_from") == interrupted.number]
    assert len(rerun) == 1 and rerun[0].params == interrupted.params and rerun[0].state.name == "COMPLETE"


def _schema_written(path) -> bool:
    """Whether a child has finished creating the SQLite storage: opening it with Optuna before
    then would race the child to write the schema's version row."""
    import sqlite3

    if not path.exists():
        return False
    try:
        with sqlite3.connect(path) as connection:
            versions = connection.execute("SELECT COUNT(*) FROM alembic_version").fetchone()[0]
            studies = connection.execute("SELECT COUNT(*) FROM studies").fetchone()[0]
    except sqlite3.OperationalError:  # a table not created yet, or the file locked
        return False
    return versions > 0 and studies > 0


def test_a_killed_trial_is_retried_at_once_by_the_next_run(corpus_path, tmp_path):
    """A plain kill leaves the trial RUNNING; a run started right after (well within the 40 s
    heartbeat grace) fails it because its process is gone, and evaluates its configuration again."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import optuna

    from autometa import tune

    url = f"sqlite:///{tmp_path / 'tune.db'}"
    data = corpus_path / "diabetes.tsv.gz"
    # The child's third trial hangs (as a long fit would) until it is killed.
    script = (
        "import time, autometa.protocol as p\n"
        "real, calls = p.evaluate, []\n"
        "def slow(*a, **k):\n"
        "    calls.append(1)\n"
        "    if len(calls) == 3: time.sleep(600)\n"
        "    return real(*a, **k)\n"
        "p.evaluate = slow\n"
        "from autometa import tune\n"
        f"tune({str(data)!r}, trials=6, storage={url!r}, max_rows=200, progress=False)\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 180
        running = []
        while not running and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.5)
            if _schema_written(tmp_path / "tune.db") and optuna.get_all_study_names(url):
                study = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url)
                # Only the hanging trial counts: the first two run briefly and may finish
                # between this poll and the kill.
                if len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) >= 2:
                    running = [
                        t
                        for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,))
                        if "owner" in t.user_attrs and t.params
                    ]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert running, "the child never reached its hanging trial"
    killed = running[0]
    start = time.monotonic()
    result = tune(data, trials=6, storage=url, max_rows=200, progress=False)
    assert result["trials"] == 6 and time.monotonic() - start < 30
    study = optuna.load_study(study_name=study.study_name, storage=url)
    assert study.trials[killed.number].state == optuna.trial.TrialState.FAIL
    rerun = [t for t in study.trials if t.user_attrs.get("requeued_from") == killed.number]
    assert len(rerun) == 1 and rerun[0].params == killed.params and rerun[0].state.name == "COMPLETE"
