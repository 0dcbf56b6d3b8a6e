"""Collect the meta-dataset: every pool configuration of a search space, on every dataset.

Storage and resumption
----------------------
Each (search space, dataset) is one Optuna study, ``"<space>/<dataset>"``, in an Optuna RDB
storage (a SQLite file by default, any SQLAlchemy URL such as PostgreSQL to share the work).
The collector that creates a study enqueues the whole pool as WAITING trials, each tagged with
its ``config_id``; collectors then pop waiting trials, which the storage hands to exactly one
of them. Trials send heartbeats: the RUNNING trial of a killed collector goes stale after the
grace period, is marked FAIL, and is re-enqueued by Optuna's ``RetryHeartbeatStaleTrialCallback``, so a
re-run of the same command finishes the work with nothing lost. A collector killed before its
trial's first heartbeat leaves a RUNNING trial with no heartbeat at all; it is failed and
re-enqueued the same way once it is older than the grace period. A configuration counts as done
when a trial carries its ``config_id`` and a ``result`` (set by the objective, also for a fit
that failed); the export keeps exactly one such trial per configuration.

Parallelism
-----------
The unit of work is a dataset (``collect_dataset``). ``workers > 1`` runs units in a local
process pool, ``scheduler="tcp://..."`` on a Dask cluster; each worker process uses one thread
(LightGBM ``n_jobs=1``, ``OMP_NUM_THREADS=1``), since oversubscription is the largest
slowdown on small machines. Finished datasets are exported to ``out`` (see
:mod:`autometa.knowledge`) and are skipped by later runs, also from a fresh checkout.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from autometa.exceptions import DataError
from autometa.storage import GRACE_SECONDS, HEARTBEAT_SECONDS, open_storage

DEFAULT_STORAGE = "sqlite:///autometa-collect.db"
POOL_SEED = 0
# A configuration whose trials were interrupted this many times is recorded as a failure.
MAX_ATTEMPTS = 3
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to collect; plain data so it travels to worker processes and Dask workers.

    corpus : the corpus folder (``index.csv`` + files).
    space : the search space's name.
    storage : Optuna storage URL of the studies (SQLite file, PostgreSQL...).
    out : the knowledge-base folder finished datasets are exported to.
    n_configs : space-filling configurations besides the defaults (the pool has ``n_configs + 1``).
    folds, max_rows, seed : the :class:`~autometa.protocol.Protocol`.
    config_ids : only these configurations of the pool (ids keep their pool numbering); None: all.
        With another ``max_rows``, a second fidelity: a subset of the pool measured on more rows.
    """

    corpus: str
    space: str
    storage: str
    out: str
    n_configs: int = 256
    folds: int = 3
    max_rows: int = 2000
    seed: int = 0
    config_ids: tuple[int, ...] | None = None

    def __post_init__(self):
        if self.config_ids is not None:
            ids = tuple(sorted({int(i) for i in self.config_ids}))
            if not ids or ids[0] < 0 or ids[-1] > self.n_configs:
                raise DataError(
                    f"config_ids must be pool ids from 0 (the defaults) to {self.n_configs}, got "
                    f"{list(self.config_ids)[:10]}."
                )
            object.__setattr__(self, "config_ids", ids)

    def ids(self) -> list[int]:
        """The pool ids this plan evaluates."""
        return list(self.config_ids) if self.config_ids is not None else list(range(self.n_configs + 1))

    def protocol(self):
        from autometa.protocol import Protocol

        return Protocol(folds=self.folds, max_rows=self.max_rows, seed=self.seed)


def study_name(space: str, dataset: str) -> str:
    return f"{space}/{dataset}"


def _open_study(storage, plan: Plan, dataset, pool: list[dict]) -> Any:
    import optuna

    name = study_name(plan.space, dataset.name)
    try:
        study = optuna.create_study(storage=storage, study_name=name, direction="maximize")
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(storage=storage, study_name=name)
        _check_same_plan(study, plan)
        _repair_pool(study, pool)
        return study
    study.set_user_attr("pool_enqueue_started", time.time())
    for key, value in _study_attrs(plan, dataset, len(pool)).items():
        study.set_user_attr(key, value)
    for config_id in plan.ids():
        study.enqueue_trial(pool[config_id], user_attrs={"config_id": config_id})
    study.set_user_attr("pool_enqueued", True)
    return study


def _check_same_plan(study, plan: Plan) -> None:
    """A study found in the storage must have been made by the same protocol and pool subset:
    resuming it under another one would mix two measurements in one file."""
    recorded = study.user_attrs.get("protocol")
    wanted = plan.protocol().as_dict()
    recorded_ids = study_config_ids(study)
    # Attributes not yet written (another collector is creating the study) are not a mismatch.
    subset = study.user_attrs.get("config_ids") is not None
    if (recorded is not None and recorded != wanted) or (subset and recorded_ids != plan.ids()):
        differ = sorted(k for k in wanted if (recorded or {}).get(k) != wanted[k])
        then = ", ".join(f"{k}={(recorded or {}).get(k)}" for k in differ)
        now = ", ".join(f"{k}={wanted[k]}" for k in differ)
        raise DataError(
            f"The study {study.study_name!r} in this storage was collected with {then or 'the same protocol'} "
            f"on {len(recorded_ids)} configurations; this run asks for {now or 'the same protocol'} on "
            f"{len(plan.ids())}. Give this run its own --storage."
        )


def _study_attrs(plan: Plan, dataset, pool_size: int) -> dict[str, Any]:
    from autometa.spaces import get_space

    return {
        "dataset": dataset.name,
        "task": dataset.task,
        "openml_id": dataset.openml_id,
        "group": dataset.group,
        "space": plan.space,
        "space_fingerprint": get_space(plan.space).fingerprint(),
        "pool_size": pool_size,
        "pool_seed": POOL_SEED,
        "protocol": plan.protocol().as_dict(),
        **({"config_ids": plan.ids()} if plan.config_ids is not None else {}),
    }


def _repair_pool(study, pool: list[dict]) -> None:
    """Enqueue what a creator killed while enqueuing left out (only once it is surely dead)."""
    started = study.user_attrs.get("pool_enqueue_started", 0.0)
    while not study.user_attrs.get("pool_enqueued") and time.time() - started < GRACE_SECONDS:
        time.sleep(1.0)
    if not study.user_attrs.get("pool_enqueued"):
        _requeue_unfinished(study, pool)
        study.set_user_attr("pool_enqueued", True)


def _requeue_unfinished(study, pool: list[dict]) -> bool:
    """Enqueue configurations left without a result (a Ctrl-C'd trial, a stale one past Optuna's
    retries); one that has been tried ``MAX_ATTEMPTS`` times is left as a recorded failure."""
    retry = [i for i, attempts in unfinished_configs(study, len(pool)).items() if attempts < MAX_ATTEMPTS]
    for config_id in retry:
        study.enqueue_trial(pool[config_id], user_attrs={"config_id": config_id})
    return bool(retry)


def _fail_trials_that_never_beat(study, rdb_storage, running: list) -> None:
    """Fail and re-enqueue RUNNING trials that are older than the grace period and never sent a
    heartbeat: a collector killed between taking a trial and its first heartbeat leaves one.

    Optuna's ``fail_stale_trials`` only looks at trials that have a heartbeat row, so without
    this a re-run would wait for such a trial forever. A live collector sends its first heartbeat
    within milliseconds of taking a trial, so a trial without one after ``GRACE_SECONDS`` is dead
    (trial start times come from the clock of the collector that took the trial: collectors on
    several machines must have clocks that agree to well within the grace period).
    Another collector may fail the same trial first; only one of them re-enqueues it.
    """
    import datetime

    import optuna
    import sqlalchemy

    storage = study._storage  # Optuna's cache in front of `rdb_storage`: state changes go through it
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=GRACE_SECONDS)
    old = {t._trial_id for t in running if t.datetime_start is not None and t.datetime_start < cutoff}
    if not old:
        return
    query = sqlalchemy.text("SELECT trial_id FROM trial_heartbeats WHERE trial_id IN :ids").bindparams(
        sqlalchemy.bindparam("ids", expanding=True)
    )
    with rdb_storage.engine.connect() as connection:
        beating = {row[0] for row in connection.execute(query, {"ids": sorted(old)})}
    # The same callback that re-enqueues trials gone stale (RetryHeartbeatStaleTrialCallback).
    callback = storage.get_heartbeat_stale_trial_callback()
    for trial_id in sorted(old - beating):
        try:
            if storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.FAIL):
                callback(study, storage.get_trial(trial_id))
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # finished or failed by someone else meanwhile


def _objective(space, dataset, protocol, folds) -> Callable:
    import optuna

    from autometa.protocol import evaluate

    def objective(trial) -> float:
        if "config_id" not in trial.user_attrs:
            # Another collector took the last waiting trial between our check and ask().
            trial.set_user_attr("no_work", True)
            raise optuna.TrialPruned("no waiting configuration left")
        params = space.suggest(trial)
        result = evaluate(space, params, dataset, protocol, folds)
        trial.set_user_attr(
            "result",
            {  # one attribute, one commit
                "fold_scores": [float(s) for s in result.fold_scores],
                "fit_seconds": result.fit_seconds,
                "log_loss": None if result.log_loss != result.log_loss else result.log_loss,
                "error": result.error,
            },
        )
        return result.score  # NaN marks the trial FAIL; the reason is in user_attrs["error"]

    return objective


def collect_dataset(plan: Plan, name: str, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Evaluate the whole pool on one dataset (resuming), export it, and return a summary."""
    from threadpoolctl import threadpool_limits

    from autometa.knowledge import is_exported

    if is_exported(plan.out, plan.space, name):
        return {"dataset": name, "status": "already exported", "evaluated": 0}
    with threadpool_limits(limits=1):  # one thread a process: see the module docstring
        try:
            return _collect_dataset(plan, name, progress)
        except Exception as error:  # one dataset's failure is a result to list, not the end of the run
            return {
                "dataset": name,
                "status": "failed",
                "evaluated": 0,
                "reason": f"{type(error).__name__}: {error}"[:500],
            }


def _collect_dataset(plan: Plan, name: str, progress: Callable[[int], None] | None) -> dict[str, Any]:
    import optuna
    from optuna.trial import TrialState

    from autometa.datasets import load_corpus
    from autometa.protocol import fold_indices, prepare_rows
    from autometa.spaces import get_space

    space = get_space(plan.space)
    dataset = next(load_corpus(plan.corpus, names=[name]))
    if dataset.task not in space.tasks:
        return {"dataset": name, "status": f"skipped: {space.name} does not support {dataset.task}", "evaluated": 0}
    protocol = plan.protocol()
    rows = prepare_rows(dataset, protocol)
    folds = fold_indices(rows, protocol)
    storage = open_storage(plan.storage)
    pool = space.pool(plan.n_configs, seed=POOL_SEED)
    study = _open_study(storage, plan, dataset, pool)
    objective = _objective(space, rows, protocol, folds)
    evaluated = 0
    while True:
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        if not waiting:
            running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if not running:
                if not _requeue_unfinished(study, pool):
                    break
                continue
            # Trials of another collector, or of a killed one: wait until they finish or go stale.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
            _fail_trials_that_never_beat(study, storage, running)
            time.sleep(min(5.0, HEARTBEAT_SECONDS))
            continue
        study.optimize(objective, n_trials=1, gc_after_trial=False)
        evaluated += 1
        if progress is not None:
            progress(1)
    summary = export_study(study, plan, dataset)
    return {"dataset": name, "status": "exported", "evaluated": evaluated, **summary}


def _holds_result(trial) -> bool:
    """Whether a finished trial's evaluation counts: COMPLETE, or FAIL with the fit's own error. A
    trial failed as stale while its fit was still running (a starved heartbeat on a busy machine)
    can store its result and still end FAIL; it counts as an interruption, and the configuration's
    retry is what is exported."""
    from optuna.trial import TrialState

    result = trial.user_attrs.get("result")
    if result is None:
        return False
    return trial.state == TrialState.COMPLETE or (trial.state == TrialState.FAIL and result.get("error") is not None)


def study_config_ids(study, pool_size: int | None = None) -> list[int]:
    """The pool ids a collection study evaluates: the subset it was made with, else the whole pool
    (`pool_size` configurations, default the study's own record)."""
    ids = study.user_attrs.get("config_ids")
    if ids is not None:
        return list(ids)
    return list(range(int(study.user_attrs.get("pool_size", 0)) if pool_size is None else pool_size))


def unfinished_configs(study, pool_size: int | None = None) -> dict[int, int]:
    """config_id -> attempts, for every configuration of the study (the pool, or the subset it
    was made with) with no result and no trial in flight."""
    from optuna.trial import TrialState

    attempts: dict[int, int] = {}
    done, in_flight = set(), set()
    for trial in study.get_trials(deepcopy=False):
        config_id = trial.user_attrs.get("config_id")
        if config_id is None:
            continue
        if _holds_result(trial):
            done.add(config_id)
        elif trial.state in (TrialState.WAITING, TrialState.RUNNING):
            in_flight.add(config_id)
        else:
            attempts[config_id] = attempts.get(config_id, 0) + 1
    return {i: attempts.get(i, 0) for i in study_config_ids(study, pool_size) if i not in done and i not in in_flight}


def export_study(study, plan, dataset) -> dict[str, Any]:
    """Write one finished study to the knowledge base as ``<space>/<dataset>.parquet`` (exactly one
    row per configuration of the study: the pool, or its subset); returns counts."""
    from optuna.trial import TrialState

    from autometa.knowledge import write_dataset
    from autometa.spaces import get_space

    space = get_space(plan.space)
    rows: dict[int, dict[str, Any]] = {}
    duplicates = 0
    for trial in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        if not _holds_result(trial):
            continue
        result = trial.user_attrs["result"]
        config_id = int(trial.user_attrs["config_id"])
        if config_id in rows:
            duplicates += 1
            continue
        params = {name: trial.params.get(name) for name in space.params}
        rows[config_id] = {
            "config_id": config_id,
            **params,
            "score": trial.value if trial.state == TrialState.COMPLETE else float("nan"),
            "log_loss": result["log_loss"],
            "fit_seconds": result["fit_seconds"],
            "fold_scores": result["fold_scores"],
            "error": result["error"],
            "trial_number": trial.number,
        }
    pool_size = int(study.user_attrs["pool_size"])
    pool = space.pool(pool_size - 1, seed=int(study.user_attrs["pool_seed"]))
    for config_id, attempts in unfinished_configs(study).items():
        if attempts == 0:
            raise DataError(f"Study {study.study_name!r} is not finished: configuration {config_id} has no result.")
        rows[config_id] = {
            "config_id": config_id,
            **pool[config_id],
            "score": float("nan"),
            "log_loss": None,
            "fit_seconds": None,
            "fold_scores": None,
            "trial_number": None,
            "error": f"interrupted {attempts} times without a result (killed by memory or time?)",
        }
    table = pd.DataFrame([rows[i] for i in study_config_ids(study, pool_size)])
    table["log_loss"] = table["log_loss"].astype(float)
    failures = int(table["error"].notna().sum())
    provenance = {
        **study.user_attrs,
        "n_failed": failures,
        "duplicates_dropped": duplicates,
        "fingerprint": dataset.fingerprint,
        "n_rows": dataset.n_rows,
        "n_features": dataset.n_features,
        "n_classes": dataset.n_classes,
        "provenance": dataset.provenance,
    }
    write_dataset(plan.out, plan.space, dataset.name, table, provenance)
    return {"failed_fits": failures, "duplicates_dropped": duplicates}


def _one_thread_per_process() -> None:
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = "1"


def exit_with_parent(parent: int, every: float = 2.0) -> None:
    """A worker process's initializer: end this process once `parent` (the collector that started
    it) is gone, killed or stopped with Ctrl-C, instead of collecting on without anyone recording
    what it exports. Its unfinished trial is left RUNNING in the storage and retried by the next
    run once its heartbeat is stale; nothing exported is lost."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="autometa-exit-with-parent", daemon=True).start()


def _dataset_names(plan: Plan, names: Iterable[str] | None, task: str | None, min_rows: int = 0) -> list[str]:
    from autometa.datasets import read_corpus_index
    from autometa.spaces import get_space

    space = get_space(plan.space)
    entries = read_corpus_index(plan.corpus)
    wanted = set(names) if names is not None else None
    if wanted is not None:
        unknown = wanted - {e.name for e in entries}
        if unknown:
            raise DataError(f"Not in the corpus at {plan.corpus!r}: {sorted(unknown)[:10]}.")
    kinds = {"classification": {"binary", "multiclass"}}.get(task or "", {task} if task else set(space.tasks))
    chosen = [
        e
        for e in entries
        if (wanted is None or e.name in wanted) and e.task in kinds and e.task in space.tasks and e.n_rows > min_rows
    ]
    # Cheapest first: results start flowing early and an ETA settles quickly.
    return [e.name for e in sorted(chosen, key=lambda e: dataset_cost(e, plan.max_rows))]


def dataset_cost(entry, max_rows: int) -> int:
    """Relative cost of one dataset: rows after the cap x features x trees per boosting round (one
    per class for multiclass, one for binary and regression). On the LightGBM knowledge base its
    Spearman correlation with the measured cross-validation time is 0.91 (uncapped rows and every
    class counted: 0.87)."""
    classes = entry.n_classes or 0
    return min(entry.n_rows, max_rows) * entry.n_features * (classes if classes > 2 else 1)


def collect(
    plan: Plan,
    *,
    names: Iterable[str] | None = None,
    task: str | None = None,
    min_rows: int = 0,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    on_result: Callable[[dict], None] | None = None,
) -> list[dict[str, Any]]:
    """Collect `plan` over the corpus (or `names`; only datasets of more than `min_rows` rows);
    returns one summary per dataset."""
    from tqdm.auto import tqdm

    from autometa.knowledge import is_exported, record_failure, write_manifest

    todo = _dataset_names(plan, names, task, min_rows)
    remaining = [n for n in todo if not is_exported(plan.out, plan.space, n)]
    bar = tqdm(
        total=len(remaining) * len(plan.ids()),
        unit="fit",
        desc=f"collect {plan.space}",
        disable=not progress,
        smoothing=0.05,
    )
    results: list[dict[str, Any]] = []

    def finished(result: dict) -> None:
        results.append(result)
        record_failure(plan.out, plan.space, result["dataset"], result.get("reason"))
        write_manifest(plan.out, plan.space)
        bar.set_postfix_str(f"{result['dataset'][:24]}: {result['status']}")
        if on_result is not None:
            on_result(result)

    if scheduler is None and workers <= 1:
        for name in remaining:
            finished(collect_dataset(plan, name, progress=bar.update))
    else:
        _one_thread_per_process()
        from concurrent.futures import as_completed

        client = None
        if scheduler is not None:
            client = _dask_client(scheduler)
            executor = client.get_executor(pure=False)
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            executor = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=exit_with_parent,
                initargs=(os.getpid(),),
            )
        with executor:
            futures = {executor.submit(collect_dataset, plan, name): name for name in remaining}
            for future in as_completed(futures):
                result = future.result()
                bar.update(result["evaluated"])
                finished(result)
        if client is not None:
            client.close()
    bar.close()
    write_manifest(plan.out, plan.space)
    return results


def _dask_client(address: str):
    try:
        from distributed import Client
    except ImportError:
        from autometa.exceptions import missing_dependency

        raise missing_dependency("dask.distributed", "dask", "collect --scheduler") from None
    return Client(address)
