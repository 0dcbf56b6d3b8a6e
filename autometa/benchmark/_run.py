"""One entry point for a whole benchmark run: what ``autometa benchmark`` and the scripts call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from autometa.exceptions import DataError


def shipped_settings(space: str) -> dict[str, Any]:
    """What ``autometa`` stands for in a benchmark: the method, neighbours, guard quantile and, where
    one is set, the first pick's robustness share of the meta-model shipped for `space`
    (MetaModel's defaults where none ships)."""
    from autometa.metamodel import MetaModel, shipped_metamodel_path

    folder = shipped_metamodel_path(space, "suggest")
    model = MetaModel.load(folder) if (folder / "metamodel.json").is_file() else MetaModel(space)
    settings = {"method": model.method, "neighbours": model.neighbours, "guard_quantile": model.guard_quantile}
    return settings if model.first_share is None else {**settings, "first_share": model.first_share}


def digest(table: pd.DataFrame) -> str:
    """A short content hash of a table (its rows, in a sorted order), for a run's context."""
    import hashlib

    if table.empty:
        return "none"
    table = table.sort_values(list(table.columns)).reset_index(drop=True)
    return hashlib.sha256(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes()).hexdigest()[:12]


def run_context(
    settings: dict[str, Any],
    knowledge: pd.DataFrame,
    peers: pd.DataFrame | None,
    bounds: dict[str, list[float]] | None = None,
) -> dict[str, Any]:
    """What a benchmark's runs depend on besides the method itself: the meta-model settings
    behind ``autometa``, the knowledge base's scores the folds learn from and the exact peer
    evaluations regret is measured against (discrete mode: with each dataset's ``[best, worst]``
    regret reference, `bounds`). ``--merge`` adds runs only to runs made in the same context, so a
    report never mixes meta-model settings or regret references; runs whose context differs only
    in the peers are renormalized to the new reference when their bounds were recorded."""
    context = {
        # first_share only where set: runs made before it existed keep their context
        "metamodel": {
            k: settings[k] for k in ("method", "neighbours", "guard_quantile", "first_share") if k in settings
        },
        "knowledge_base": digest(knowledge),
        "peers": "none" if peers is None else digest(peers),
    }
    if bounds is not None:
        context["bounds"] = {d: [float(b[0]), float(b[1])] for d, b in sorted(bounds.items())}
    return context


PEER_METHODS = ("flaml", "autogluon")  # their runs are the peer evaluations themselves


def merge_plan(old: dict[str, Any] | None, new: dict[str, Any], old_methods: set[str], methods: set[str]) -> bool:
    """Whether runs made in context `old` can join runs made in `new`: False when they need no
    change, True when their regret must first be renormalized (only the peer evaluations changed
    and `old` recorded its bounds); otherwise a DataError that says what to re-run."""

    def without(context: dict[str, Any] | None, *keys: str) -> dict[str, Any]:
        return {k: v for k, v in (context or {}).items() if k not in keys}

    if without(new, "bounds") == without(old, "bounds"):
        return False
    if (
        old is not None
        and "bounds" in old
        and "bounds" in new
        and without(new, "bounds", "peers") == without(old, "bounds", "peers")
    ):
        stale = sorted((old_methods & set(PEER_METHODS)) - methods)
        if stale:
            raise DataError(
                f"The peer evaluations changed since these runs; their rows of {stale} are those evaluations. "
                f"Add {' '.join(stale)} to --methods of this --merge run, which renormalizes the other runs."
            )
        return True
    raise DataError(
        f"they were made in another context ({without(old, 'bounds') or 'not recorded'}; these: "
        f"{without(new, 'bounds')}). The meta-model settings, the knowledge "
        "base or the peer evaluations changed since; re-run every method of the report without --merge."
    )


def shipped_method(space: str) -> str:
    """The method of the meta-model shipped for `space`."""
    return shipped_settings(space)["method"]


def _fold_embeddings_or_none(
    metadata, corpus: str | None, folds: int, cache: str | Path, log: Callable[[str], None] | None
):
    """Per-fold Dataset2Vec embeddings (trained here, or reused from `cache`), or None when the
    corpus or torch is missing (the Dataset2Vec methods are then reported unavailable)."""
    from autometa.encoder import cached_fold_embeddings

    if not corpus:
        return None
    try:
        return cached_fold_embeddings(metadata, corpus, folds, cache, log=log)[0]
    except DataError as error:  # torch missing: reported per method by the benchmark
        if log is not None:
            log(f"autometa: Dataset2Vec methods unavailable: {error}")
        return None


def benchmark(
    mode: str,
    *,
    space: str = "lightgbm",
    methods: Sequence[str] | None = None,
    data: Sequence[Any] = (),
    target: str | None = None,
    budget: int = 50,
    seeds: int = 5,
    folds: int = 10,
    members: int = 4,
    workers: int = 1,
    autometa_method: str | None = None,
    corpus: str | None = None,
    limit: int | None = None,
    task: str | None = None,
    grouping: str = "family",
    fold_seeds: Sequence[int] = (0,),
    location: str | None = None,
    out: str | Path = "benchmark-results",
    prefix: str | None = None,
    merge: bool = False,
    command: str = "",
    quiet: bool = True,
    log: Callable[[str], None] | None = None,
) -> list[Path]:
    """Run a benchmark and write its report (CSV of every run, markdown summary, PNG figures).

    mode : ``"discrete"`` (over the knowledge base: :func:`run_discrete`) or ``"live"`` (real
        studies on `data`: :func:`run_live`).
    autometa_method : the meta-model method behind ``autometa`` (default: the shipped one's).
    corpus : the corpus folder: the per-fold Dataset2Vec encoders of discrete mode need the
        datasets themselves (peers are read from the knowledge base: ``autometa kb peers``).
    grouping : what is held out together: ``"family"`` (name families, same targets and
        near-duplicates) or ``"near-duplicate"`` (the content rule alone).
    fold_seeds : which groups share a fold (discrete mode): every method runs once per fold seed,
        and the report gives the mean ± sd over them.
    task : discrete mode: only the knowledge base's datasets of this task kind (``binary``,
        ``multiclass``, ``regression``) or family (``classification``); the meta-models learn
        from those datasets only.
    merge : add these methods to the runs already in `out` (same datasets, folds, seeds, budget).
    command : the command line the report records.
    Returns the paths written.
    """
    from tqdm.auto import tqdm

    from autometa.benchmark._discrete import METHODS, dataset_bounds, run_discrete
    from autometa.benchmark._live import LIVE_METHODS, run_live
    from autometa.benchmark._metrics import renormalize
    from autometa.benchmark._report import merge_curves, read_context, read_report, write_report
    from autometa.knowledge import KnowledgeBase
    from autometa.metamodel import MetaData

    if mode not in ("discrete", "live"):
        raise DataError(f"mode must be 'discrete' or 'live', got {mode!r}.")
    kb = KnowledgeBase(location)
    prefix = prefix or f"benchmark_{mode}_{space}"

    methods = list(methods or (METHODS if mode == "discrete" else LIVE_METHODS))
    old_report = read_report(out, prefix) if merge else None
    old_context = read_context(out, prefix) if merge else None

    def renormalizes(context: dict[str, Any]) -> bool:
        """Before any run: a merge only adds to runs made in the same context (or renormalizes
        them, when only the peer evaluations changed: :func:`merge_plan`)."""
        if not merge:
            return False
        try:
            return merge_plan(old_context, context, set(old_report[0]["method"]), set(methods))
        except DataError as error:
            raise DataError(f"Cannot merge with the runs in {Path(out) / prefix}: {error}") from None

    shipped = shipped_settings(space)
    autometa_method = autometa_method or shipped["method"]
    settings = {k: shipped[k] for k in ("neighbours", "guard_quantile", "first_share") if k in shipped}
    if mode == "discrete":
        metadata = MetaData.from_knowledge_base(kb, space, grouping)
        if task:
            kinds = {"classification": ("binary", "multiclass")}.get(task, (task,))
            metadata = metadata.subset([d for d in metadata.datasets if metadata.tasks.loc[d] in kinds])
            if not metadata.datasets:
                raise DataError(f"The {space} knowledge base has no {task} datasets.")
        if limit:
            metadata = metadata.subset(metadata.datasets[:limit])
        peers = kb.peers(space) if {"flaml", "autogluon"} & set(methods) or len(kb.peers(space)) else None
        context = run_context(
            {"method": autometa_method, **settings},
            metadata.scores.reset_index(names="dataset"),
            None
            if peers is None
            else peers[peers["dataset"].isin(metadata.datasets)][["dataset", "peer", "rank", "score", "fit_seconds"]],
            dataset_bounds(metadata, peers),
        )
        renormalize_old = renormalizes(context)
        fold_features = None
        if any(m.startswith(("autometa-d2v", "autometa-both")) for m in methods) and list(fold_seeds) == [0]:
            # Per-fold encoders are cached for fold seed 0 (the validation and the benchmark share them).
            fold_features = _fold_embeddings_or_none(metadata, corpus, folds, out, log)
        every_curves, every_errors = [], []
        total = len(metadata.datasets) * len(fold_seeds)
        with tqdm(total=total, desc="benchmark (discrete)", unit="dataset", disable=quiet) as bar:
            for fold_seed in fold_seeds:
                curves, errors = run_discrete(
                    metadata,
                    kb.space(space),
                    methods=methods,
                    budget=budget,
                    seeds=seeds,
                    folds=folds,
                    members=members,
                    autometa_method=autometa_method,
                    peers=peers,
                    workers=workers,
                    fold_features=fold_features,
                    fold_seed=fold_seed,
                    metamodel_settings=settings,
                    progress=lambda name: bar.update(1),
                )
                every_curves.append(curves)
                every_errors.append(errors.drop_duplicates())
        curves = pd.concat(every_curves, ignore_index=True)
        errors = pd.concat(every_errors, ignore_index=True).drop_duplicates(ignore_index=True)
        notes = (
            f"Discrete mode (HPO-B style): {folds} folds of whole {grouping} groups (fold seeds "
            f"{', '.join(map(str, fold_seeds))}; "
            f"{metadata.groups.nunique()} groups over {len(metadata.datasets)} datasets); {len(metadata.configs)} "
            f"pool configurations per dataset; autometa = the {autometa_method} meta-model "
            f"({settings['neighbours']} neighbours, guard quantile {settings['guard_quantile']}"
            + (
                f", first pick beating the defaults on {settings['first_share']:g} of them"
                if "first_share" in settings
                else ""
            )
            + ", as shipped); warm starts "
            "enqueue its first 5 suggestions. See autometa/benchmark/_discrete.py for the protocol."
        )
    else:
        if not data:
            raise DataError("Live mode needs datasets: autometa benchmark --mode live DATA [DATA ...]")
        context = run_context(
            {"method": autometa_method, **settings}, kb.evaluations(space)[["dataset", "config_id", "score"]], None
        )
        renormalize_old = renormalizes(context)
        with tqdm(total=len(data), desc="benchmark (live)", unit="dataset", disable=quiet) as bar:
            curves, errors = run_live(
                data,
                methods=methods,
                budget=budget,
                seeds=seeds,
                space=space,
                knowledge_base=kb,
                members=members,
                autometa_method=autometa_method,
                metamodel_settings=settings,
                target=target,
                progress=lambda name: bar.update(1),
                workers=workers,
            )
        notes = (
            "Live mode: real Optuna studies of 3-fold cross-validated fits (at most 2,000 rows); regret "
            "normalized per dataset over every trial of the run. See autometa/benchmark/_live.py."
        )
    commands = [command]
    if merge:
        old_curves, old_errors, old_commands = old_report
        if renormalize_old:  # only the peers changed: the earlier runs' regret against the new reference
            old_curves = renormalize(old_curves, old_context["bounds"], context["bounds"])
            notes += (
                " Runs merged from before the peer evaluations last changed were renormalized to the current "
                "regret reference (their best-so-far scores recovered from the recorded regret and bounds)."
            )
        curves, errors = merge_curves(old_curves, curves, old_errors, errors)
        commands = old_commands + [c for c in commands if c not in old_commands]  # a re-run is listed once
    return write_report(
        curves,
        errors,
        out,
        prefix,
        title=f"autometa benchmark: {mode}, {space}",
        command=commands,
        notes=notes,
        context=context,
    )
