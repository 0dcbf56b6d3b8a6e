"""Optuna storages with heartbeats: what makes collection and tuning resumable after a kill.

One place opens an Optuna RDB storage for every long job (``autometa collect``, ``autometa
tune``): heartbeats every ``HEARTBEAT_SECONDS``, a trial whose process died is marked failed
after ``GRACE_SECONDS`` without one and re-enqueued (at most 3 times).
"""

from __future__ import annotations

import os
import time
import warnings

HEARTBEAT_SECONDS = int(os.environ.get("AUTOMETA_HEARTBEAT_SECONDS", "10"))
GRACE_SECONDS = int(os.environ.get("AUTOMETA_GRACE_SECONDS", "40"))


def open_storage(url: str):
    """An Optuna RDB storage with heartbeats; stale trials are re-enqueued (at most 3 times).

    SQLite files use write-ahead logging with ``synchronous=NORMAL``: commits survive a killed
    process (not a power cut) and cost a fraction of a full fsync, and readers do not block the
    writer of another collector.
    """
    import optuna
    import sqlalchemy
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

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
            except sqlalchemy.exc.SQLAlchemyError:
                # Collectors starting together on a new database race to create its tables.
                if attempt == 4:
                    raise
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
