"""OpenML datasets and tasks, through the real `openml` client and its cache.

The client reads its cache before the server, so a user with network gets a dataset downloaded
once and cached; offline, a cached dataset loads with no network. Configure the client as usual
(``openml.config.set_root_cache_directory``, ``openml.config.server``, or the ``OPENML_CACHE_DIR``
environment variable). A miss that cannot reach the server raises :class:`SourceNotFoundError`
after a single attempt (the client's own default retries with growing sleeps).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from autometa.datasets._dataset import Dataset, build_dataset
from autometa.exceptions import DataError, SourceNotFoundError


@contextlib.contextmanager
def _single_attempt(openml: Any) -> Iterator[None]:
    policy, retries = openml.config.retry_policy, openml.config.connection_n_retries
    openml.config.set_retry_policy("robot", 1)
    try:
        yield
    finally:
        openml.config.set_retry_policy(policy, retries)


def _client() -> Any:
    import openml

    return openml


def _unavailable(kind: str, ident: int, error: Exception, openml: Any) -> SourceNotFoundError:
    return SourceNotFoundError(
        f"OpenML {kind} {ident} is not in the OpenML cache at {str(openml.config.get_cache_directory())!r} "
        f"and could not be fetched from {openml.config.server!r} ({type(error).__name__}: {error}). "
        "Connect to the network once to cache it, point openml.config.set_root_cache_directory "
        "(or OPENML_CACHE_DIR) at a cache that holds it, or load the data from a file."
    )


def load_openml_dataset(dataset_id: int, *, target: str | None = None, task: str | None = None) -> Dataset:
    """An OpenML dataset by id, with its default target unless `target` is given."""
    if dataset_id <= 0:
        raise DataError(f"OpenML dataset ids are positive integers, got {dataset_id}.")
    openml = _client()
    with _single_attempt(openml):
        try:
            remote = openml.datasets.get_dataset(
                dataset_id,
                download_data=True,
                download_qualities=False,
                download_features_meta_data=True,
            )
        except Exception as error:  # the client raises many unrelated types for a miss
            raise _unavailable("dataset", dataset_id, error, openml) from error
    return _from_openml(remote, target, task, provenance={})


def openml_suite_dataset_ids(suite_id: int | str) -> list[int]:
    """The dataset ids of an OpenML benchmark suite (e.g. 99, OpenML-CC18; or its alias)."""
    if isinstance(suite_id, int) and suite_id <= 0:
        raise DataError(f"OpenML suite ids are positive integers or aliases, got {suite_id}.")
    openml = _client()
    with _single_attempt(openml):
        try:
            suite = openml.study.get_suite(suite_id)
        except Exception as error:
            raise _unavailable("suite", suite_id, error, openml) from error
    return [int(i) for i in (suite.data or [])]


def load_openml_task(task_id: int, *, task: str | None = None) -> Dataset:
    """The dataset and target of an OpenML supervised task (its splits are in ``provenance``)."""
    if task_id <= 0:
        raise DataError(f"OpenML task ids are positive integers, got {task_id}.")
    openml = _client()
    with _single_attempt(openml):
        try:
            remote_task = openml.tasks.get_task(task_id, download_splits=True)
            remote = remote_task.get_dataset()
        except Exception as error:
            raise _unavailable("task", task_id, error, openml) from error
    target = getattr(remote_task, "target_name", None)
    if target is None:
        raise DataError(f"OpenML task {task_id} is not a supervised task (it has no target).")
    provenance = {"openml_task_id": task_id, "openml_task_type": str(remote_task.task_type)}
    return _from_openml(remote, target, task, provenance)


def _from_openml(remote: Any, target: str | None, task: str | None, provenance: dict) -> Dataset:
    target = target or remote.default_target_attribute
    if not target:
        raise DataError(f"OpenML dataset {remote.dataset_id} ({remote.name!r}) has no default target; pass target=.")
    if "," in target:
        raise DataError(f"OpenML dataset {remote.dataset_id} has several targets ({target}); pass one with target=.")
    X, y, categorical_indicator, names = remote.get_data(target=target)
    categorical = [n for n, is_cat in zip(names, categorical_indicator) if is_cat]
    return build_dataset(
        X,
        y,
        task=task,
        name=remote.name,
        source="openml",
        categorical=categorical,
        openml_id=int(remote.dataset_id),
        provenance={**provenance, "openml_version": remote.version, "target": target},
    )
