"""The collector on real corpus datasets: resumable after SIGKILL, shareable, scalable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autometa.collect import Plan, collect
from autometa.knowledge import KnowledgeBase
from autometa.storage import open_storage

NAMES = ["iris", "1027_ESL"]
CONFIGS = 24  # plus the defaults: 25 a dataset


def _collector(
    corpus: Path, storage: str, out: Path, extra_env: dict | None = None, extra_args: tuple[str, ...] = ()
) -> subprocess.Popen:
    env = {
        **os.environ,
        "AUTOMETA_HEARTBEAT_SECONDS": "1",
        "AUTOMETA_GRACE_SECONDS": "3",
        "OMP_NUM_THREADS": "1",
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "autometa.cli",
        "collect",
        "--corpus",
        str(corpus),
        "--names",
        *NAMES,
        "--configs",
        str(CONFIGS),
        "--storage",
        storage,
        "--out",
        str(out),
        "--quiet",
        "--no-metafeatures",
        *extra_args,
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _evaluated_trials(storage_url: str) -> Counter:
    """(dataset, config_id) -> number of trials that hold an evaluation."""
    import optuna

    storage = open_storage(storage_url)
    counts: Counter = Counter()
    for summary in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        for trial in study.get_trials(deepcopy=False):
            result = trial.user_attrs.get("result")
            # A trial killed between storing its result and its COMPLETE ends FAIL with an
            # error-free result: an interruption (retried), not an evaluation.
            counted = result is not None and (
                trial.state == optuna.trial.TrialState.COMPLETE or result.get("error") is not None
            )
            if counted:
                counts[(summary.study_name, trial.user_attrs["config_id"])] += 1
    return counts


def _assert_complete_once(storage_url: str, out: Path) -> None:
    counts = _evaluated_trials(storage_url)
    assert len(counts) == len(NAMES) * (CONFIGS + 1)
    assert set(counts.values()) == {1}, "an evaluation was duplicated"
    evaluations = KnowledgeBase(out).evaluations("lightgbm")
    assert len(evaluations) == len(NAMES) * (CONFIGS + 1)
    assert (
        evaluations.groupby("dataset")["config_id"].apply(sorted).map(lambda ids: ids == list(range(CONFIGS + 1))).all()
    )
    assert np.isfinite(evaluations["score"]).all()


@pytest.mark.slow
def test_sigkill_then_rerun_loses_and_duplicates_nothing(corpus_path, tmp_path):
    storage = f"sqlite:///{tmp_path / 'collect.db'}"
    out = tmp_path / "kb"
    process = _collector(corpus_path, storage, out)
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        time.sleep(0.5)
        if (tmp_path / "collect.db").exists() and sum(_evaluated_trials(storage).values()) >= 8:
            break
    assert process.poll() is None, f"collector ended before it could be killed: {process.communicate()}"
    process.send_signal(signal.SIGKILL)
    process.communicate()
    done_before = sum(_evaluated_trials(storage).values())
    assert 8 <= done_before < len(NAMES) * (CONFIGS + 1)

    rerun = _collector(corpus_path, storage, out)
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    assert "2 datasets exported" in stdout
    _assert_complete_once(storage, out)


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (Linux /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name.isdigit() and int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from Linux's /proc")
def test_workers_stop_when_their_collector_is_killed(corpus_path, tmp_path):
    storage = f"sqlite:///{tmp_path / 'collect.db'}"
    out = tmp_path / "kb"
    process = _collector(corpus_path, storage, out, extra_args=("--workers", "2"))
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        time.sleep(0.5)
        if (tmp_path / "collect.db").exists() and sum(_evaluated_trials(storage).values()) >= 4:
            break
    workers = _children(process.pid)
    assert process.poll() is None and workers, f"no workers to orphan: {process.communicate()}"
    process.send_signal(signal.SIGKILL)
    process.wait()  # not communicate(): an orphaned worker would hold its pipes open
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.5)
    orphans = [pid for pid in workers if _alive(pid)]
    for pid in orphans:
        os.kill(pid, signal.SIGKILL)
    process.communicate()
    assert not orphans, "a worker went on collecting without its collector"
    counts = _evaluated_trials(storage)
    done = sum(counts.values())
    time.sleep(2)
    assert sum(_evaluated_trials(storage).values()) == done
    assert done < len(NAMES) * (CONFIGS + 1)
    # A small dataset can finish (and be exported) before the kill; only finished ones may be.
    per_dataset = Counter(study.split("/", 1)[1] for study, _ in counts)
    exported = {path.stem for path in out.glob("lightgbm/*.parquet")}
    assert all(per_dataset[name] == CONFIGS + 1 for name in exported), (exported, per_dataset)

    rerun = _collector(corpus_path, storage, out)
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    _assert_complete_once(storage, out)


def _two_collectors(corpus_path: Path, storage: str, out: Path) -> None:
    first, second = _collector(corpus_path, storage, out), _collector(corpus_path, storage, out)
    for process in (first, second):
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    _assert_complete_once(storage, out)


@pytest.mark.slow
def test_two_collectors_share_a_sqlite_storage(corpus_path, tmp_path):
    _two_collectors(corpus_path, f"sqlite:///{tmp_path / 'shared.db'}", tmp_path / "kb")


@pytest.mark.slow
def test_two_collectors_share_a_postgresql_storage(corpus_path, tmp_path):
    url = os.environ.get("AUTOMETA_TEST_POSTGRES")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run this test: .ci/run starts PostgreSQL and sets AUTOMETA_TEST_POSTGRES")
        pytest.skip("set AUTOMETA_TEST_POSTGRES to a PostgreSQL URL (see .ci/start-postgres)")
    import sqlalchemy

    database = f"autometa_test_{os.getpid()}_{int(time.time())}"
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {database}"))
    try:
        _two_collectors(corpus_path, url.rsplit("/", 1)[0] + f"/{database}", tmp_path / "kb")
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"DROP DATABASE {database} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.slow
def test_dask_local_cluster_with_two_workers(corpus_path, tmp_path):
    distributed = pytest.importorskip("distributed")
    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 'dask.db'}",
        out=str(tmp_path / "kb"),
        n_configs=CONFIGS,
    )
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results = collect(plan, names=NAMES, scheduler=cluster.scheduler_address, progress=False)
    assert sorted(r["dataset"] for r in results) == sorted(NAMES)
    _assert_complete_once(plan.storage, tmp_path / "kb")


def test_exported_datasets_are_skipped_and_described(corpus_path, tmp_path, capsys):
    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=4,
    )
    first = collect(plan, names=["iris"], progress=False)
    assert first[0]["status"] == "exported" and first[0]["evaluated"] == 5
    fresh_storage = Plan(**{**plan.__dict__, "storage": f"sqlite:///{tmp_path / 'other.db'}"})
    assert collect(fresh_storage, names=["iris"], progress=False) == []  # nothing left to do
    info = KnowledgeBase(plan.out).info()["spaces"]["lightgbm"]
    assert info["datasets"] == 1 and info["configurations_per_dataset"] == 5
    assert info["datasets_by_task"] == {"multiclass": 1} and info["protocol"]["folds"] == 3
    seconds = pd.read_parquet(Path(plan.out) / "lightgbm" / "iris.parquet")["fit_seconds"].sum()
    assert info["cv_seconds"] > 0 and info["cv_seconds"] == pytest.approx(seconds, abs=0.06)

    from autometa.cli import main

    assert main(["kb", "info", "--location", plan.out, "--format", "json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["spaces"]["lightgbm"]["failed_fits"] == 0
    assert main(["kb", "info", "--location", plan.out]) == 0
    assert "core-hours of cross-validation" in capsys.readouterr().out

    # A manifest written before the time was recorded still describes, without a compute figure.
    manifest_path = Path(plan.out) / "lightgbm" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["datasets"]["iris"]["cv_seconds"]
    manifest_path.write_text(json.dumps(manifest))
    assert KnowledgeBase(plan.out).info()["spaces"]["lightgbm"]["cv_seconds"] is None
    assert main(["kb", "info", "--location", plan.out]) == 0
    out = capsys.readouterr().out
    assert "lightgbm: 1 datasets (1 multiclass); 5 configurations each" in out and "core-hours" not in out


def test_knowledge_base_files_are_self_describing(corpus_path, tmp_path):
    from autometa.knowledge import read_metadata

    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=2,
    )
    collect(plan, names=["credit_g"], progress=False)
    meta = read_metadata(tmp_path / "kb" / "lightgbm" / "credit_g.parquet")
    assert meta["openml_id"] == 31 and meta["task"] == "binary" and meta["schema_version"] == 1
    assert meta["protocol"]["metric"]["binary"] == "roc_auc" and "lightgbm" in meta["package_versions"]
    manifest = KnowledgeBase(plan.out).manifest("lightgbm")
    assert manifest["space"]["defaults"]["num_leaves"] == 31 and manifest["pool"]["size"] == 3
    (tmp_path / "kb" / "lightgbm" / "manifest.json").write_text('{"schema_version": 99}')
    from autometa import DataError

    with pytest.raises(DataError, match="schema version 99"):
        KnowledgeBase(plan.out).manifest("lightgbm")
    with pytest.raises(DataError, match="no results for space 'hist_gradient_boosting'"):
        KnowledgeBase(plan.out).manifest("hist_gradient_boosting")


def _study_with_interrupted_config(plan: Plan, interruptions: int):
    """Open the iris study and leave config 0 FAILed without a result, as Ctrl-C leaves a trial."""
    import optuna

    from autometa.collect import _open_study
    from autometa.datasets import load_corpus
    from autometa.spaces import get_space

    dataset = next(load_corpus(plan.corpus, names=["iris"]))
    pool = get_space("lightgbm").pool(plan.n_configs)
    study = _open_study(open_storage(plan.storage), plan, dataset, pool)
    with pytest.warns(UserWarning, match="Heartbeat"):
        trial = study.ask()  # the oldest waiting trial: config 0
    assert trial.user_attrs["config_id"] == 0
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    for _ in range(interruptions - 1):  # later attempts, failed the same way
        study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={"config_id": 0}))


def test_interrupted_configuration_is_retried(corpus_path, tmp_path):
    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=3,
    )
    _study_with_interrupted_config(plan, interruptions=1)
    collect(plan, names=["iris"], progress=False)
    table = KnowledgeBase(plan.out).evaluations("lightgbm")
    assert table["config_id"].tolist() == [0, 1, 2, 3] and table["error"].isna().all()


def test_configuration_interrupted_too_often_is_a_recorded_failure(corpus_path, tmp_path):
    from autometa.collect import MAX_ATTEMPTS

    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=3,
    )
    _study_with_interrupted_config(plan, interruptions=MAX_ATTEMPTS)
    collect(plan, names=["iris"], progress=False)
    table = KnowledgeBase(plan.out).evaluations("lightgbm").set_index("config_id")
    assert np.isnan(table.loc[0, "score"]) and "interrupted 3 times" in table.loc[0, "error"]
    assert table.loc[[1, 2, 3], "error"].isna().all()


def test_a_failing_dataset_is_listed_and_the_run_goes_on(corpus_path, tmp_path, monkeypatch):
    import autometa.collect as collect_module

    real = collect_module._collect_dataset

    def flaky(plan, name, progress):
        if name == "iris":
            raise ValueError("simulated failure")
        return real(plan, name, progress)

    monkeypatch.setattr(collect_module, "_collect_dataset", flaky)
    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=2,
    )
    results = {r["dataset"]: r for r in collect(plan, names=["iris", "1027_ESL"], progress=False)}
    assert results["iris"]["status"] == "failed" and results["1027_ESL"]["status"] == "exported"
    info = KnowledgeBase(plan.out).info()["spaces"]["lightgbm"]
    assert info["failed_datasets"] == {"iris": "ValueError: simulated failure"}
    monkeypatch.setattr(collect_module, "_collect_dataset", real)
    collect(plan, names=["iris"], progress=False)  # fixed: exported, and no longer listed as failed
    info = KnowledgeBase(plan.out).info()["spaces"]["lightgbm"]
    assert info["failed_datasets"] == {} and info["datasets"] == 2


def _iris_study(corpus_path, tmp_path):
    """(plan, the opened iris study) of a 3-configuration collection in a fresh sqlite storage."""
    from autometa.collect import _open_study
    from autometa.datasets import load_corpus
    from autometa.spaces import get_space

    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=3,
    )
    dataset = next(load_corpus(plan.corpus, names=["iris"]))
    return plan, _open_study(open_storage(plan.storage), plan, dataset, get_space("lightgbm").pool(plan.n_configs))


def test_a_trial_failed_as_stale_after_its_fit_finished_is_retried(corpus_path, tmp_path):
    """On a busy machine a trial's heartbeat can go stale while it still fits: another collector
    fails it, the fit then stores its result, and the trial stays FAIL. That is an interruption:
    the configuration is evaluated again and the retry's score exported, never a NaN."""
    import optuna

    plan, study = _iris_study(corpus_path, tmp_path)
    with pytest.warns(UserWarning, match="Heartbeat"):
        trial = study.ask()
    assert trial.user_attrs["config_id"] == 0
    trial.set_user_attr("result", {"fold_scores": [0.9] * 3, "fit_seconds": 0.1, "log_loss": 0.2, "error": None})
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    collect(plan, names=["iris"], progress=False)
    table = KnowledgeBase(plan.out).evaluations("lightgbm").set_index("config_id")
    assert np.isfinite(table["score"]).all() and table["error"].isna().all()
    assert table.loc[0, "trial_number"] != trial.number


def test_pool_left_half_enqueued_by_a_dead_creator_is_completed(corpus_path, tmp_path):
    import optuna

    from autometa.collect import _study_attrs, study_name
    from autometa.datasets import load_corpus
    from autometa.spaces import get_space

    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=4,
    )
    dataset = next(load_corpus(plan.corpus, names=["iris"]))
    pool = get_space("lightgbm").pool(plan.n_configs)
    study = optuna.create_study(
        storage=open_storage(plan.storage), study_name=study_name("lightgbm", "iris"), direction="maximize"
    )
    for key, value in _study_attrs(plan, dataset, len(pool)).items():
        study.set_user_attr(key, value)
    study.set_user_attr("pool_enqueue_started", time.time() - 3600)  # long dead
    for config_id in (0, 1):
        study.enqueue_trial(pool[config_id], user_attrs={"config_id": config_id})
    collect(plan, names=["iris"], progress=False)
    table = KnowledgeBase(plan.out).evaluations("lightgbm")
    assert table["config_id"].tolist() == [0, 1, 2, 3, 4] and np.isfinite(table["score"]).all()


def test_running_trial_that_never_sent_a_heartbeat_is_retried(corpus_path, tmp_path, monkeypatch):
    """A collector killed between taking a trial and its first heartbeat leaves a RUNNING trial
    with no heartbeat row, which Optuna's fail_stale_trials never fails: the rerun must not wait
    for it forever."""
    import optuna

    import autometa.collect as collect_module

    monkeypatch.setattr(collect_module, "GRACE_SECONDS", 1)
    monkeypatch.setattr(collect_module, "HEARTBEAT_SECONDS", 1)
    plan, study = _iris_study(corpus_path, tmp_path)
    with pytest.warns(UserWarning, match="Heartbeat"):
        orphan = study.ask()  # RUNNING, and no heartbeat is ever sent for it
    assert orphan.user_attrs["config_id"] == 0
    time.sleep(1.5)
    done = {}
    worker = __import__("threading").Thread(
        target=lambda: done.update(r=collect(plan, names=["iris"], progress=False)), daemon=True
    )
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the collector waits forever for a trial that never sent a heartbeat"
    assert done["r"][0]["status"] == "exported", done["r"]
    table = KnowledgeBase(plan.out).evaluations("lightgbm")
    assert table["config_id"].tolist() == [0, 1, 2, 3] and np.isfinite(table["score"]).all()
    states = [
        t.state
        for t in optuna.load_study(study_name=study.study_name, storage=plan.storage).trials
        if t.user_attrs.get("config_id") == 0
    ]
    assert states.count(optuna.trial.TrialState.FAIL) == 1 and states.count(optuna.trial.TrialState.COMPLETE) == 1


def test_datasets_are_collected_cheapest_first_by_their_capped_size(corpus_path, tmp_path):
    from autometa.collect import _dataset_names, dataset_cost
    from autometa.datasets import read_corpus_index

    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=4,
    )
    names = _dataset_names(plan, None, "classification")
    assert len(names) == 163 and names[0] != names[-1]
    # sleep (105,908 rows, 13 features, 5 classes) is evaluated on 2,000 rows: cheaper than
    # mfeat_factors (2,000 rows, 216 features, 10 classes), though larger on disk.
    assert names.index("sleep") < names.index("mfeat_factors")
    # A binary target needs one tree a round, like regression; k classes need k.
    entries = {e.name: e for e in read_corpus_index(corpus_path)}
    assert dataset_cost(entries["adult"], 2000) == 2000 * 14 and dataset_cost(entries["1027_ESL"], 2000) == 488 * 4
    assert dataset_cost(entries["iris"], 100) == 100 * 4 * 3


def test_a_second_fidelity_collects_a_pool_subset_on_more_rows(corpus_path, tmp_path, capsys):
    """``--max-rows N --config-ids ...`` into ``<kb>/rows-N``: the chosen pool ids only, with their
    pool numbering and parameters, on datasets of more than ``--min-rows`` rows; the main knowledge
    base lists it as a second fidelity, and a storage holding another protocol's study is refused."""
    from autometa import DataError
    from autometa.cli import main

    kb = tmp_path / "kb"
    main_plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 'main.db'}",
        out=str(kb),
        n_configs=8,
    )
    collect(main_plan, names=["iris", "phoneme"], progress=False)
    args = ["collect", "--corpus", str(corpus_path), "--space", "lightgbm", "--configs", "8", "--quiet"]
    args += ["--max-rows", "3000", "--config-ids", "0", "5", "3", "--min-rows", "2000", "--names", "iris", "phoneme"]
    args += ["--storage", f"sqlite:///{tmp_path / 'fid.db'}", "--out", str(kb / "rows-3000"), "--no-metafeatures"]
    assert main(args) == 0
    folder = kb / "rows-3000" / "lightgbm"
    assert sorted(p.name for p in folder.glob("*.parquet")) == ["phoneme.parquet"]  # iris has 150 rows
    table = pd.read_parquet(folder / "phoneme.parquet")
    pool = pd.read_parquet(kb / "lightgbm" / "phoneme.parquet").set_index("config_id")
    assert table["config_id"].tolist() == [0, 3, 5]
    params = [c for c in pool.columns if c in table.columns and c not in ("score", "log_loss", "fit_seconds")]
    params = [c for c in params if c not in ("fold_scores", "error", "trial_number")]
    assert np.allclose(table.set_index("config_id")[params].astype(float), pool.loc[[0, 3, 5], params].astype(float))
    assert table["score"].notna().all()
    # More rows than the main knowledge base's 2,000: other scores for the same configurations.
    assert not np.allclose(table["score"], pool.loc[[0, 3, 5], "score"])

    base = KnowledgeBase(kb)
    assert base.spaces() == ["lightgbm"] and list(base.fidelities("lightgbm")) == [3000]
    second = base.fidelities("lightgbm")[3000]
    assert second.manifest("lightgbm")["protocol"]["max_rows"] == 3000
    assert second.manifest("lightgbm")["pool"]["config_ids"] == [0, 3, 5]
    info = base.info()["spaces"]["lightgbm"]["fidelities"][3000]
    assert info["datasets"] == 1 and info["configurations_per_dataset"] == 3
    capsys.readouterr()
    assert main(["kb", "info", "--location", str(kb)]) == 0
    assert "second fidelity: at most 3000 rows, 1 datasets x 3 configurations" in capsys.readouterr().out

    (folder / "phoneme.parquet").unlink()  # re-collect into the same storage with another row cap
    other = Plan(**{**main_plan.__dict__, "storage": f"sqlite:///{tmp_path / 'fid.db'}", "out": str(kb / "x")})
    other = Plan(**{**other.__dict__, "max_rows": 2500, "config_ids": (0, 3, 5)})
    result = collect(other, names=["phoneme"], progress=False)
    assert result[0]["status"] == "failed" and "Give this run its own --storage" in result[0]["reason"]
    with pytest.raises(DataError, match="config_ids must be pool ids from 0"):
        Plan(**{**main_plan.__dict__, "config_ids": (0, 9)})


def test_manifests_and_metafeatures_skip_the_peers_table(corpus_path, tmp_path):
    """peers.parquet sits beside the datasets' files but is not one: collecting more datasets into
    a knowledge base that has peer evaluations rebuilds its manifest and lists no dataset 'peers'."""
    from autometa.knowledge import PEER_COLUMNS, PEERS_FILE, exported_datasets, write_manifest, write_table

    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=2,
    )
    collect(plan, names=["iris"], progress=False)
    write_table(plan.out, "lightgbm", PEERS_FILE, pd.DataFrame(columns=PEER_COLUMNS))
    assert write_manifest(plan.out, "lightgbm")["datasets"].keys() == {"iris"}
    assert exported_datasets(plan.out) == ["iris"]
