"""Peers evaluated exactly: other systems' own configurations, under the knowledge base's protocol.

A peer's configuration is never snapped onto the pool. It is cross-validated as its authors run
it, on the same capped rows, folds and metric as every pool configuration of the dataset, and
stored beside the pool in ``<knowledge base>/<space>/peers.parquet``: one row per (dataset, peer,
rank) with the parameters (JSON), score, log-loss, fit time and error. Meta-models never learn
from it; the benchmark scores peers from it and measures regret against the best of pool and
peers.

Peers (:func:`peers_for` says which apply to a space):

- ``defaults``: the learner's own defaults for the dataset's task
  (:meth:`~autometa.spaces.SearchSpace.library_defaults`), for spaces where they differ by task
  or are no point of the space (a random forest classifier's ``max_features="sqrt"``); elsewhere
  the pool's first configuration is the defaults.
- ``flaml``: ``flaml.default``'s zero-shot configuration
  (``preprocess_and_suggest_hyperparams(task, X, y, estimator)``, with FLAML's estimator of the
  space: ``lgbm``, ``xgb_limitdepth``, ``rf``), chosen on the capped rows it is scored on, with
  every parameter it returns (``max_bin``, its seed included).
- ``autogluon`` (LightGBM): AutoGluon's zero-shot LightGBM portfolio (16 configurations,
  ``../shared/peers/autogluon_zeroshot_2023_gbm.json``), in the file's order, with AutoGluon's
  own settings: learning rate 0.05 where unset, up to 10,000 boosting rounds, early stopping on an
  inner validation split of each training fold (20%, stratified for classification, AutoGluon's
  holdout share below 2,500 rows) with AutoGluon's "simple" patience
  ``max(20, round(300 * min(1, 10000 / n_train)))``, on LightGBM's own objective loss.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autometa.exceptions import DataError, missing_dependency

PEERS = ("defaults", "flaml", "autogluon")
# FLAML's zero-shot estimator for each space: xgb_limitdepth is FLAML's depth-limited XGBoost,
# the shape of autometa's xgboost space.
FLAML_ESTIMATORS = {"lightgbm": "lgbm", "xgboost": "xgb_limitdepth", "random_forest": "rf"}
AUTOGLUON_LEARNING_RATE = 0.05
AUTOGLUON_ROUNDS = 10_000
AUTOGLUON_HOLDOUT = 0.2
_AUTOGLUON_ONLY = ("name_suffix", "priority")


def peers_for(space) -> tuple[str, ...]:
    """The peers that have configurations for `space` (a :class:`~autometa.spaces.SearchSpace`)."""
    return tuple(
        peer
        for peer, applies in (
            ("defaults", bool(space.task_defaults)),
            ("flaml", space.name in FLAML_ESTIMATORS),
            ("autogluon", space.name == "lightgbm"),
        )
        if applies
    )


def flaml_configuration(rows, space: str = "lightgbm") -> dict[str, Any]:
    """FLAML's zero-shot hyperparameters for these rows (a :class:`~autometa.Dataset`), for
    FLAML's estimator of `space`."""
    if space not in FLAML_ESTIMATORS:
        raise DataError(
            f"FLAML has no zero-shot configuration for space {space!r}; it has for {sorted(FLAML_ESTIMATORS)}."
        )
    try:
        from flaml.default import preprocess_and_suggest_hyperparams
    except ImportError as error:
        raise missing_dependency("flaml (with xgboost)", "peers", "the FLAML peer") from error
    task = "regression" if rows.task == "regression" else "classification"
    params = preprocess_and_suggest_hyperparams(task, rows.X, rows.y, FLAML_ESTIMATORS[space])[0]
    return {k: v for k, v in dict(params).items() if k not in ("verbose", "verbosity", "n_jobs")}


def autogluon_configurations(path: str | Path) -> list[dict[str, Any]]:
    """The portfolio of AutoGluon's file, in its order, as LightGBM keyword arguments."""
    try:
        document = json.loads(Path(path).read_text())
        configs = document["configs"]
    except (OSError, ValueError, KeyError) as error:
        raise DataError(
            f"Cannot read AutoGluon's portfolio at {str(path)!r} ({error}); expected the JSON of "
            "../shared/peers/autogluon_zeroshot_2023_gbm.json (pass its path with --autogluon)."
        ) from error
    out = []
    for config in configs:
        params = {k: v for k, v in config.items() if k not in _AUTOGLUON_ONLY}
        params.setdefault("learning_rate", AUTOGLUON_LEARNING_RATE)
        params["n_estimators"] = AUTOGLUON_ROUNDS
        out.append(params)
    return out


def autogluon_patience(n_train: int) -> int:
    """AutoGluon's "simple" early-stopping patience for `n_train` training rows."""
    return max(20, round(300 * min(1.0, 10_000 / max(n_train, 1))))


def early_stopping_fit(seed: int) -> Callable:
    """``fit(model, X, y)`` for :func:`autometa.protocol.evaluate`: hold out an inner validation
    split of the training fold and stop when its loss has not improved for the patience. As
    AutoGluon's holdout, it keeps every class in training: a class with a single row in the
    training fold stays in the inner training part, the others are split stratified (a split that
    put such a row in the validation part alone gave the model a label it never trained on)."""

    def fit(model, X: pd.DataFrame, y: np.ndarray):
        import lightgbm
        from sklearn.model_selection import train_test_split

        rows = np.arange(len(y))
        if hasattr(model, "predict_proba"):
            single = np.bincount(y)[y] < 2
            inner, valid = train_test_split(
                rows[~single], test_size=AUTOGLUON_HOLDOUT, random_state=seed, stratify=y[~single]
            )
            inner = np.concatenate([inner, rows[single]])
        else:
            inner, valid = train_test_split(rows, test_size=AUTOGLUON_HOLDOUT, random_state=seed)
        callbacks = [lightgbm.early_stopping(autogluon_patience(len(inner)), verbose=False)]
        return model.fit(X.iloc[inner], y[inner], eval_set=[(X.iloc[valid], y[valid])], callbacks=callbacks)

    return fit


def evaluate_peers(
    location: str | Path,
    corpus: str | Path,
    space: str = "lightgbm",
    *,
    peers: Iterable[str] | None = None,
    names: Iterable[str] | None = None,
    autogluon: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Evaluate `peers` (default: every peer of the space, :func:`peers_for`) on every dataset of
    the knowledge base at `location` for `space` (or `names`), with the knowledge base's own
    protocol; resumable: a (dataset, peer) already in ``peers.parquet`` is skipped, and the file is
    rewritten after every dataset."""
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    from autometa.datasets import load_corpus
    from autometa.knowledge import PEERS_FILE, KnowledgeBase, write_table
    from autometa.protocol import Protocol, evaluate, fold_indices, prepare_rows
    from autometa.spaces import get_space

    peers = list(peers_for(get_space(space)) if peers is None else peers)
    unknown = sorted(set(peers) - set(PEERS))
    if unknown:
        raise DataError(f"Unknown peers {unknown}; expected some of {list(PEERS)}.")
    applicable = peers_for(get_space(space))
    if set(peers) - set(applicable):
        raise DataError(
            f"The peers {sorted(set(peers) - set(applicable))} have no configuration for space {space!r}; "
            f"its peers are {list(applicable)} (choose them with --peers)."
        )
    if "autogluon" in peers and autogluon is None:
        raise DataError("The AutoGluon peer needs its portfolio: pass autogluon= (--autogluon FILE).")
    portfolio = autogluon_configurations(autogluon) if "autogluon" in peers else []
    kb = KnowledgeBase(location)
    manifest = kb.manifest(space)
    search_space = kb.space(space)
    protocol = Protocol(**{k: manifest["protocol"][k] for k in ("folds", "max_rows", "seed")})
    wanted = list(names) if names is not None else sorted(manifest["datasets"])
    done = kb.peers(space)
    finished = set(zip(done["dataset"], done["peer"]))
    from autometa.collect import dataset_cost
    from autometa.datasets import read_corpus_index

    entries = {e.name: e for e in read_corpus_index(corpus)}
    missing = sorted(set(wanted) - set(entries))
    if missing:
        raise DataError(f"Not in the corpus at {str(corpus)!r}: {missing[:10]}.")
    # Cheapest first, as the collector: results start flowing early.
    todo = sorted(
        (d for d in wanted if any((d, p) not in finished for p in peers)),
        key=lambda d: dataset_cost(entries[d], protocol.max_rows),
    )
    rows_out = [done] if len(done) else []
    with threadpool_limits(1):
        for name in tqdm(todo, desc="peers", disable=not progress):
            dataset = next(load_corpus(corpus, names=[name]))
            rows = prepare_rows(dataset, protocol)
            folds = fold_indices(rows, protocol)
            new = []
            for peer in peers:
                if (dataset.name, peer) in finished:
                    continue
                if peer == "defaults":
                    configs, fit = [search_space.library_defaults(rows.task)], None
                elif peer == "flaml":
                    start = time.perf_counter()
                    try:
                        configs, fit = [flaml_configuration(rows, space)], None
                    except Exception as error:  # a peer's failure is a result to report, not a crash
                        new.append(
                            _row(
                                dataset.name,
                                peer,
                                0,
                                {},
                                None,
                                f"flaml failed: {type(error).__name__}: {error}",
                                time.perf_counter() - start,
                            )
                        )
                        continue
                else:
                    configs, fit = portfolio, early_stopping_fit(protocol.seed)
                for rank, params in enumerate(configs):
                    result = evaluate(search_space, params, rows, protocol, folds, fit=fit)
                    new.append(_row(dataset.name, peer, rank, params, result, result.error, result.fit_seconds))
            rows_out.append(pd.DataFrame(new))
            table = pd.concat(rows_out, ignore_index=True)
            write_table(location, space, PEERS_FILE, table)
    return kb.peers(space)


def _row(dataset, peer, rank, params, result, error, seconds) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "peer": peer,
        "rank": rank,
        "params": json.dumps(params, sort_keys=True, default=str),
        "score": float("nan") if result is None else result.score,
        "log_loss": float("nan") if result is None else result.log_loss,
        "fit_seconds": float(seconds),
        "error": error,
    }
