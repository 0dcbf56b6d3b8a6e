"""Optuna storages with heartbeats: what makes collection and tuning resumable after a kill.

One place opens an Optuna RDB storage for every long job (``autometa collect``, ``autometa
tune``): heartbeats every ``HEARTBEAT_SECONDS``, a trial whose process died is marked failed
after ``GRACE_SECONDS`` without one and re-enqueued (at most 3 times). A trial whose owner
(:func:`owner`, recorded by the process that runs it) was a process of this machine that no
longer exists is failed at once by :func:`fail_orphans`, without waiting for the grace period.
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from pathlib import Path

from autometa.exceptions import DataError

HEARTBEAT_SECONDS = int(os.environ.get("AUTOMETA_HEARTBEAT_SECONDS", "10"))
GRACE_SECONDS = int(os.environ.get("AUTOMETA_GRACE_SECONDS", "40"))


def check_storage_url(url: str) -> None:
    """Refuse a storage URL that cannot work, before any long job starts: not a SQLAlchemy URL,
    an unknown driver, or a SQLite file in a folder that does not exist."""
    import sqlalchemy

    try:
        parsed = sqlalchemy.engine.make_url(url)
        parsed.get_dialect()
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError, ValueError) as error:
        raise DataError(
            f"{url!r} is not a storage URL ({error}). Expected a SQLAlchemy URL such as "
            "sqlite:///study.db (a file in the current folder) or postgresql://user@host/db."
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise DataError(
                f"The SQLite storage {url!r} lies in {str(folder)!r}, which does not exist. "
                "Create the folder first, or name a file in an existing one (sqlite:///study.db)."
            )


def open_storage(url: str):
    """An Optuna RDB storage with heartbeats; stale trials are re-enqueued (at most 3 times).

    SQLite files use write-ahead logging with ``synchronous=NORMAL``: commits survive a killed
    process (not a power cut) and cost a fraction of a full fsync, and readers do not block the
    writer of another collector.
    """
    import optuna
    import sqlalchemy
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    check_storage_url(url)
    sqlite = url.startswith("sqlite")
    engine_kwargs = {"connect_args": {"timeout": 120}} if sqlite else {"pool_pre_ping": True}
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    with warnings.catch_warnings():
        # Heartbeat retries are marked experimental in Optuna; we pin the behaviour with tests.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for attempt in range(5):
            try:
                storage = RDBStorage(
                    url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=HEARTBEAT_SECONDS,
                    grace_period=GRACE_SECONDS,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3),
                )
                break
            except sqlalchemy.exc.SQLAlchemyError as error:
                # Collectors starting together on a new database race to create its tables.
                if attempt == 4:
                    raise DataError(
                        f"Cannot open the Optuna storage {url!r}: {type(error).__name__}: {str(error).splitlines()[0]}"
                    ) from error
                time.sleep(0.5 + attempt)
    if sqlite:

        def pragmas(connection, _record) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        sqlalchemy.event.listen(storage.engine, "connect", pragmas)
        storage.engine.dispose()  # connections opened before the listener get replaced
    return storage


OWNER_ATTR = "owner"


def owner() -> str:
    """``host:pid`` of this process: recorded on a trial (user attribute ``owner``) when it starts."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def fail_orphans(storage, study) -> list[int]:
    """Mark FAIL the RUNNING trials of `study` whose owner ran on this machine and is gone (killed),
    and return their numbers. Trials of live processes, of other machines, or without an owner are
    left to the heartbeats. A reused pid only makes it wait for the heartbeat, as before."""
    import optuna

    host = socket.gethostname()
    study_id = storage.get_study_id_from_name(study.study_name)
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        trial_host, _, pid = str(trial.user_attrs.get(OWNER_ATTR, "")).rpartition(":")
        if trial_host != host or not pid.isdigit() or int(pid) == os.getpid() or _process_exists(int(pid)):
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        if storage.set_trial_state_values(trial_id, optuna.trial.TrialState.FAIL):
            failed.append(trial.number)
    return failed
