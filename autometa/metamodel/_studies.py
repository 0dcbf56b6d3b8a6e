"""A user's own finished Optuna studies as extra meta-data.

Each study is named by its storage URL, its study name, and the dataset it was run on (anything
:func:`autometa.load_dataset` reads). Its completed trials become that dataset's row of a sparse
:class:`MetaData`: configurations outside the pool, normalized among the study's own trials.
A trial parameter is matched by the space's own name, or by one of the space's aliases (LightGBM's
``eta``, ``feature_fraction``...); a parameter the study did not tune takes the space's default. Failed
and pruned trials are left out (their cause is the study's, not the configuration's).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd

from autometa.exceptions import DataError
from autometa.metamodel._data import MetaData

# Ids of study configurations start here, far above any pool id.
FIRST_STUDY_CONFIG_ID = 1_000_000
MIN_TRIALS = 5


@dataclasses.dataclass(frozen=True)
class StudySource:
    """Where a finished study lives and which dataset it tuned."""

    storage: str
    study_name: str
    dataset: Any
    target: str | None = None


def _as_source(item: Any) -> StudySource:
    if isinstance(item, StudySource):
        return item
    if isinstance(item, Sequence) and not isinstance(item, str) and len(item) in (3, 4):
        return StudySource(*item)
    raise DataError(f"A study is given as (storage URL, study name, dataset[, target]); got {item!r}.")


def study_rows(source: StudySource, space) -> tuple[pd.DataFrame, pd.Series]:
    """(configurations x parameters, scores with higher = better) of one study's completed trials."""
    import optuna
    from optuna.trial import TrialState

    try:
        study = optuna.load_study(study_name=source.study_name, storage=source.storage)
    except KeyError as error:
        raise DataError(f"No study named {source.study_name!r} in {source.storage!r}.") from error
    if len(study.directions) != 1:
        raise DataError(
            f"Study {source.study_name!r} has {len(study.directions)} objectives; "
            "autometa learns from single-objective studies only."
        )
    sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
    configs, scores = [], []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        config = dict(space.defaults)
        matched = 0
        for name, value in trial.params.items():
            ours = space.own_name(name)
            if ours is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
                config[ours] = space.params[ours].clip(value)
                matched += 1
        if matched == 0:
            raise DataError(
                f"Study {source.study_name!r} tunes {sorted(trial.params)}, none of which is a parameter of "
                f"space {space.name!r} ({sorted(space.params)}) or one of its aliases."
            )
        configs.append(config)
        scores.append(sign * float(trial.value))
    if len(configs) < MIN_TRIALS:
        raise DataError(
            f"Study {source.study_name!r} has {len(configs)} completed trials; "
            f"at least {MIN_TRIALS} are needed to learn from it."
        )
    return pd.DataFrame(configs), pd.Series(scores)


def metadata_from_studies(studies: Sequence[Any], space: str, first_id: int = FIRST_STUDY_CONFIG_ID) -> MetaData:
    """Sparse meta-data of finished Optuna studies, one dataset per study (named ``study:<name>``)."""
    import metafeatures
    from autometa.datasets import load_dataset
    from autometa.spaces import get_space

    search_space = get_space(space)
    config_frames, score_rows, mf_rows, names, tasks = [], [], [], [], []
    next_id = first_id
    for item in studies:
        source = _as_source(item)
        configs, scores = study_rows(source, search_space)
        data = load_dataset(source.dataset, target=source.target)
        if data.task not in search_space.tasks:
            raise DataError(
                f"Study {source.study_name!r} ran on a {data.task} dataset; space {space!r} "
                f"supports {list(search_space.tasks)}."
            )
        ids = list(range(next_id, next_id + len(configs)))
        next_id += len(configs)
        config_frames.append(configs.set_axis(ids))
        name = f"study:{source.study_name}"
        if name in names:
            raise DataError(f"Study {source.study_name!r} is given twice.")
        names.append(name)
        score_rows.append(pd.Series(scores.to_numpy(), index=ids, name=name))
        mf_rows.append(metafeatures.extract(data, random_state=0).rename(name))
        tasks.append(data.task)
    if not names:
        raise DataError("No studies given.")
    configs = pd.concat(config_frames)[list(search_space.params)]
    scores = pd.DataFrame(score_rows).reindex(columns=configs.index)
    evaluated = scores.notna()
    mf = pd.DataFrame(mf_rows).apply(pd.to_numeric, errors="coerce")
    return MetaData(space, scores, configs, mf, pd.Series(names, index=names), pd.Series(tasks, index=names), evaluated)
