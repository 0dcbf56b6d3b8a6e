"""The `autometa` command line. Entry point: :func:`main` (tested in-process)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from autometa._version import __version__
from autometa.exceptions import AutometaError, DataError

CORPUS_ENV = "AUTOMETA_CORPUS"


def _corpus_path(value: str | None) -> Path:
    path = value or os.environ.get(CORPUS_ENV)
    if not path:
        raise DataError(f"No corpus given: pass --corpus PATH (a folder with index.csv) or set {CORPUS_ENV}.")
    return Path(path)


def _write_table(table, out: str | None, fmt: str) -> None:
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            table.to_parquet(path)
        elif path.suffix == ".csv":
            table.to_csv(path)
        else:
            raise DataError(f"--out must end in .csv or .parquet, got {str(path)!r}.")
        print(f"wrote {len(table)} rows to {path}")
    elif fmt == "json":
        print(table.to_json(orient="index", indent=2))
    else:
        print(table.to_string())


def _cmd_metafeatures(args: argparse.Namespace) -> int:
    import metafeatures
    from autometa.datasets import load_dataset

    dataset = load_dataset(args.data, target=args.target, task=args.task)
    result = metafeatures.extract_all(
        dataset, groups=args.groups, max_rows=args.max_rows, random_state=args.random_state
    )
    if args.format == "json":
        payload = {
            "dataset": {
                "name": dataset.name,
                "task": dataset.task,
                "rows": dataset.n_rows,
                "features": dataset.n_features,
                "openml_id": dataset.openml_id,
            },
            "metafeatures": {k: (None if v != v else v) for k, v in result.values.items()},
            "failures": result.failures,
            "seconds": result.seconds,
        }
        print(json.dumps(payload, indent=2))
    else:
        print(
            f"# {dataset!r}: {result.values.notna().sum()} of {result.values.size} metafeatures "
            f"in {sum(result.seconds.values()):.2f} s"
        )
        width = max(map(len, result.values.index))
        for name, value in result.values.items():
            reason = f"  ({result.failures[name]})" if name in result.failures else ""
            print(f"{name:<{width}}  {value:.6g}{reason}")
    return 0


def _cmd_corpus_groups(args: argparse.Namespace) -> int:
    from autometa.corpus import groups_table

    table = groups_table(_corpus_path(args.corpus), args.rules)
    shared = table[table.group_size > 1]
    if args.format == "json":
        print(json.dumps({g: dict(zip(t["name"], t["reasons"])) for g, t in shared.groupby("group")}, indent=2))
    else:
        print(
            f"# {table.group.nunique()} groups over {len(table)} datasets (rules: {', '.join(args.rules)}); "
            f"{shared.group.nunique()} groups hold more than one dataset, each held out as a whole:"
        )
        for group, members in shared.groupby("group", sort=False):
            print(f"{group} ({len(members)} datasets)")
            for name, reasons in zip(members["name"], members["reasons"]):
                print(f"    {name}: {reasons}")
    return 0


def _cmd_kb_peers(args: argparse.Namespace) -> int:
    from autometa.knowledge import default_location
    from autometa.peers import evaluate_peers, peers_for
    from autometa.spaces import get_space

    location = args.location or default_location()
    table = evaluate_peers(
        location,
        _corpus_path(args.corpus),
        args.space,
        peers=args.peers or peers_for(get_space(args.space)),
        names=args.names,
        autogluon=args.autogluon,
        progress=not args.quiet,
    )
    counts = table.groupby("peer")["dataset"].nunique().to_dict()
    print(
        f"peer evaluations in {location}/{args.space}/peers.parquet: "
        + ", ".join(f"{peer} on {n} datasets" for peer, n in sorted(counts.items()))
    )
    return 0


def _cmd_kb_groups(args: argparse.Namespace) -> int:
    from autometa.knowledge import default_location, write_groups

    location = args.location or default_location()
    document = write_groups(location, _corpus_path(args.corpus))
    groups = {d["group"] for d in document["datasets"].values()}
    print(f"groups of {len(document['datasets'])} datasets ({len(groups)} groups) written to {location}/groups.json")
    return 0


def _cmd_corpus_metafeatures(args: argparse.Namespace) -> int:
    from autometa.corpus import metafeature_table

    table = metafeature_table(_corpus_path(args.corpus), task=args.task, groups=args.groups, progress=not args.quiet)
    print(
        f"# {len(table)} datasets, {table['seconds'].sum():.1f} s of extraction, "
        f"{int((table['n_failed'] == 0).sum())} without a NaN feature",
        file=sys.stderr,
    )
    _write_table(table, args.out, args.format)
    return 0


def _add_sources(args: argparse.Namespace, corpus: Path) -> list[str] | None:
    """Write the datasets of --openml, --openml-suite and --datasets into the corpus folder;
    their corpus names, or None when no source option was given."""
    from autometa.datasets import add_to_corpus, load_dataset, openml_suite_dataset_ids

    ids = list(args.openml or [])
    files = [Path(f) for f in args.datasets or []]
    if not ids and not files and args.openml_suite is None:
        return None
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise DataError(f"--datasets: no such file {missing[0]!r}.")
    if files and not args.target:
        raise DataError("--datasets needs --target COL, the column to predict in those files.")
    if args.openml_suite is not None:
        suite = int(args.openml_suite) if args.openml_suite.isdigit() else args.openml_suite
        ids += [i for i in openml_suite_dataset_ids(suite) if i not in ids]
    datasets = [load_dataset(f"openml:{i}") for i in ids] + [load_dataset(f, target=args.target) for f in files]
    entries = add_to_corpus(corpus, datasets)
    print(f"{len(entries)} datasets in the corpus at {corpus}: {', '.join(e.name for e in entries[:10])}")
    return [e.name for e in entries]


def _cmd_corpus_add(args: argparse.Namespace) -> int:
    corpus = _corpus_path(args.corpus)
    if _add_sources(args, corpus) is None:
        raise DataError("Nothing to add: give --openml ID ..., --openml-suite ID or --datasets FILE ... --target COL.")
    return 0


def _cmd_collect(args: argparse.Namespace) -> int:
    from autometa.collect import Plan, collect
    from autometa.knowledge import build_metafeature_table
    from autometa.spaces import get_space

    get_space(args.space)  # an unknown space is an error before any work starts
    if args.workers < 1:
        raise DataError(f"--workers must be at least 1, got {args.workers}.")
    added = _add_sources(args, _corpus_path(args.corpus))
    if added is not None:
        args.names = sorted(set(added) | set(args.names or []))
    plan = Plan(
        corpus=str(_corpus_path(args.corpus)),
        space=args.space,
        storage=args.storage,
        out=str(args.out),
        n_configs=args.configs,
        folds=args.folds,
        max_rows=args.max_rows,
        config_ids=tuple(args.config_ids) if args.config_ids else None,
    )
    results = collect(
        plan,
        names=args.names,
        task=args.task,
        min_rows=args.min_rows,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    exported = sum(r["status"] == "exported" for r in results)
    print(
        f"{exported} datasets exported to {plan.out}/{plan.space}; "
        f"{sum(r['evaluated'] for r in results)} evaluations in this run"
    )
    for result in results:
        if result["status"] == "failed":
            print(f"  failed: {result['dataset']}: {result['reason']}")
    if not args.no_metafeatures:
        build_metafeature_table(plan.out, plan.corpus, progress=not args.quiet)
    return 0


def _cmd_kb_info(args: argparse.Namespace) -> int:
    from autometa.knowledge import KnowledgeBase

    info = KnowledgeBase(args.location).info()
    if args.format == "json":
        print(json.dumps(info, indent=2))
        return 0
    print(f"knowledge base: {info['location']}")
    if not info["spaces"]:
        print("  (empty: run autometa collect)")
    for space, facts in info["spaces"].items():
        tasks = ", ".join(f"{n} {t}" for t, n in sorted(facts["datasets_by_task"].items()))
        protocol = facts["protocol"]
        print(
            f"  {space}: {facts['datasets']} datasets ({tasks}); {facts['configurations_per_dataset']} "
            f"configurations each; {facts['failed_fits']} failed fits"
        )
        if facts["cv_seconds"] is not None:
            print(
                f"    compute: {facts['cv_seconds'] / 3600:.1f} core-hours of cross-validation recorded (the summed "
                "wall time of every evaluation, one thread each; time lost to a busy machine included)"
            )
        for name, reason in facts["failed_datasets"].items():
            print(f"    failed dataset {name}: {reason}")
        print(
            f"    protocol: {protocol['folds']}-fold CV, at most {protocol['max_rows']} rows, seed "
            f"{protocol['seed']}, metric {protocol['metric']}"
        )
        if facts.get("peers"):
            print(
                "    exact peer evaluations (kb peers; never learned from): "
                + "; ".join(
                    f"{peer} ({p['configurations']} configuration{'s' if p['configurations'] > 1 else ''}) on "
                    f"{p['datasets']} datasets"
                    + (f", failed fits on {p['datasets_with_failed_fits']}" if p["datasets_with_failed_fits"] else "")
                    for peer, p in facts["peers"].items()
                )
            )
        for rows, fidelity in facts.get("fidelities", {}).items():
            hours = "" if fidelity["cv_seconds"] is None else f", {fidelity['cv_seconds'] / 3600:.1f} core-hours"
            print(
                f"    second fidelity: at most {rows} rows, {fidelity['datasets']} datasets x "
                f"{fidelity['configurations_per_dataset']} configurations{hours}"
            )
        if args.location is None:
            print(f"    {_shipped_metamodel_line(space)}")
            for line in (
                _shipped_metamodel_line(space, role="sampler"),
                _shipped_metamodel_line(space, metric="log_loss"),
            ):
                if line:
                    print(f"    {line}")
    return 0


def _shipped_metamodel_line(space: str, role: str = "suggest", metric: str = "score") -> str:
    """What `suggest --space SPACE` (role "suggest"; with --metric log_loss: `metric`) or the
    MetaSampler (role "sampler") uses by default: the shipped meta-model, its method and data
    ("" for no shipped sampler or log-loss meta-model)."""
    from autometa.metamodel import MetaModel, shipped_metamodel_path

    folder = shipped_metamodel_path(space, role, metric)
    if not (folder / "metamodel.json").is_file():
        return (
            ""
            if role == "sampler" or metric != "score"
            else f"no shipped meta-model (fit one: autometa metamodel fit --space {space} --out FOLDER)"
        )
    model = MetaModel.load(folder)
    tasks = ", ".join(f"{n} {t}" for t, n in sorted(model.datasets_by_task.items()))
    what = "shipped meta-model" if role == "suggest" else f"shipped MetaSampler surrogate ({model.members} members)"
    what = what if metric == "score" else f"shipped {metric} meta-model (--metric {metric})"
    return (
        f"{what}: {model.method} on {model.features} metafeatures, fitted on "
        f"{model.provenance_['datasets']} datasets ({tasks})"
    )


def _cmd_kb_metafeatures(args: argparse.Namespace) -> int:
    from autometa.knowledge import build_metafeature_table, default_location

    table = build_metafeature_table(
        args.location or default_location(), _corpus_path(args.corpus), progress=not args.quiet
    )
    print(f"metafeatures of {len(table)} datasets in {args.location or default_location()}")
    return 0


def _cmd_kb_embeddings(args: argparse.Namespace) -> int:
    from autometa.encoder import build_embedding_table
    from autometa.knowledge import default_location

    location = args.location or default_location()
    table = build_embedding_table(location, _corpus_path(args.corpus), args.encoder, progress=not args.quiet)
    print(f"Dataset2Vec embeddings of {len(table)} datasets in {location}")
    return 0


def _cmd_train_encoder(args: argparse.Namespace) -> int:
    from autometa.encoder import corpus_tables, make_encoder, require_torch

    require_torch()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    tables, groups = corpus_tables(_corpus_path(args.corpus), progress=not args.quiet)
    encoder = make_encoder(epochs=args.epochs, steps=args.steps, device=args.device, random_state=args.seed)
    encoder.fit(tables, groups, progress=not args.quiet)
    folder = encoder.save(args.out)
    facts = encoder.provenance_
    print(
        f"Dataset2Vec trained on {len(facts['training_datasets'])} datasets ({len(facts['validation_datasets'])} "
        f"held out for early stopping) on {facts['device']}: {facts['epochs']} epochs, {facts['seconds']:.0f} s, "
        f"best validation AUC {facts['best_validation_auc']:.3f}; saved to {folder}"
    )
    return 0


def _cmd_suggest(args: argparse.Namespace) -> int:
    from autometa._suggest import explain

    report = explain(
        args.data,
        n=args.n,
        space=args.space,
        metamodel=args.metamodel or "default",
        target=args.target,
        task=args.task,
        random_state=args.random_state,
        metric=args.metric,
    )
    suggestions = report["suggestions"]
    if len(suggestions) < args.n:
        print(
            f"autometa: {len(suggestions)} configurations, not {args.n}: that is every configuration this "
            "meta-model can choose from.",
            file=sys.stderr,
        )
    if args.format == "json":
        payload = {k: v for k, v in report.items() if k != "suggestions"}
        payload["suggestions"] = [
            {"rank": i, "params": s.params, "expected_normalized_score": s.predicted, "because": s.because}
            for i, s in enumerate(suggestions, 1)
        ]
        print(json.dumps(payload, indent=2))
        return 0
    nearest = report["neighbours"]
    print(
        f"# {report['learner']} ({report['space']}) for {report['dataset']} ({report['task']}): "
        f"{len(suggestions)} configurations to try in this order; meta-model {report['metamodel']['method']}, "
        f"learned from {report['metamodel']['metric']}"
        + (
            f" measured on up to {report['metamodel']['max_rows']:,} rows"
            if report["metamodel"].get("max_rows")
            else ""
        )
    )
    print(
        "# nearest known datasets (distance = mean absolute difference of min-max-scaled metafeatures; 0 = "
        f"identical; 95% of known datasets have a neighbour within {report['typical_nearest_distance']:.3f}): "
        + ", ".join(f"{n['dataset']} {n['distance']:.3f}" for n in nearest)
    )
    if nearest and nearest[0]["distance"] < 1e-9:
        print(
            f"# {nearest[0]['dataset']} in the knowledge base has the same metafeatures: this dataset (or a "
            "copy) was learned from, so these suggestions are not a held-out estimate"
        )
    if any(s.predicted is not None for s in suggestions):
        print(
            "# expected = mean normalized score over the nearest datasets (1 = the best configuration of the "
            "pool there, 0 = the worst); each next configuration adds most to the best of those before it"
        )
    for rank, s in enumerate(suggestions, 1):
        expected = "" if s.predicted is None else f"  expected {s.predicted:.3f}"
        print(f"#{rank}{expected}  ({s.because})")
        print("    " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in s.params.items()))
    return 0


def _cmd_tune(args: argparse.Namespace) -> int:
    from autometa._tune import tune

    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():  # checked before the tuning, not after it
        raise DataError(
            f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist; create it or choose another."
        )
    result = tune(
        args.data,
        target=args.target,
        trials=args.trials,
        warm_start=args.warm_start,
        storage=args.storage,
        space=args.space,
        metamodel=args.metamodel or "default",
        folds=args.folds,
        max_rows=args.max_rows,
        seed=args.random_state,
        sampler=args.sampler,
        sampler_metamodel=args.sampler_metamodel or "default",
        metric=args.metric,
        task=args.task,
        timeout=args.timeout,
        n_jobs=args.n_jobs,
        progress=not args.quiet,
    )
    if out is not None:
        out.write_text(json.dumps(result, indent=2))
    print(
        ("stopped by --timeout; " if result["stopped"] == "timeout" else "")
        + f"best {result['metric']} {result['best_score']:.4f} after {result['trials']} trials "
        f"(trial {result['best_trial']}; sampler {result['sampler']})"
        + (
            f"; cross-validated on {result['rows']:,} of {result['dataset_rows']:,} rows (--max-rows)"
            if result["rows"] < result["dataset_rows"]
            else ""
        )
        + (
            f"; first suggestions from evaluations on up to {result['advice_max_rows']:,} rows"
            if result["advice_max_rows"]
            else ""
        )
        + (f"; saved to {out}" if out else "")
    )
    print("    " + ", ".join(f"{k}={v}" for k, v in result["best_params"].items()))
    return 0


def _cmd_benchmark(args: argparse.Namespace) -> int:
    import shlex

    from autometa.benchmark import benchmark

    corpus = os.environ.get(CORPUS_ENV) if args.corpus is None else args.corpus
    command = (
        "autometa " + " ".join(shlex.quote(a) for a in args.argv) if args.command_line is None else args.command_line
    )
    paths = benchmark(
        args.mode,
        space=args.space,
        methods=args.methods,
        data=args.data,
        target=args.target,
        budget=args.budget,
        seeds=args.seeds,
        folds=args.folds,
        members=args.members,
        workers=args.workers,
        autometa_method=args.autometa_method,
        corpus=corpus,
        limit=args.limit,
        task=args.task,
        grouping=args.groups,
        fold_seeds=args.fold_seeds,
        location=args.location,
        out=args.out,
        prefix=args.prefix,
        merge=args.merge,
        command=command,
        quiet=args.quiet,
        log=None if args.quiet else lambda line: print(line, file=sys.stderr),
    )
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _cmd_metamodel_fit(args: argparse.Namespace) -> int:
    from autometa.knowledge import KnowledgeBase
    from autometa.metamodel import MetaModel

    studies = []
    for words in args.study or []:
        if len(words) not in (3, 4):
            raise DataError(f"--study takes URL NAME DATA [TARGET], got {words}.")
        studies.append(tuple(words))
    model = MetaModel.from_knowledge_base(
        KnowledgeBase(args.location),
        args.space,
        args.method,
        members=args.members,
        objective=args.objective,
        studies=studies,
        features=args.features,
        tasks={"classification": ("binary", "multiclass")}.get(args.task, (args.task,)) if args.task else None,
        neighbours=args.neighbours,
        guard_quantile=args.guard_quantile,
        first_share=args.first_share,
        metric=args.metric,
        rows=args.fidelity,
    )
    folder = model.save(args.out)
    print(
        f"{args.method} meta-model for {args.space} fitted on {model.provenance_['datasets']} datasets; saved to {folder}"
    )
    return 0


def _cmd_metamodel_kernel(args: argparse.Namespace) -> int:
    from autometa.optuna import save_pretrained_kernel

    path = save_pretrained_kernel(args.metamodel or "default", args.out, space=args.space, steps=args.steps)
    print(f"deep kernel for {args.space} pretrained ({args.steps} steps); saved to {path}")
    return 0


def _parents() -> dict[str, argparse.ArgumentParser]:
    """Options shared by several commands, written once (argparse parent parsers)."""
    from autometa.metamodel import DEFAULT_METHOD, METHODS
    from autometa.spaces import SPACES

    def parent() -> argparse.ArgumentParser:
        return argparse.ArgumentParser(add_help=False)

    data = parent()
    data.add_argument("data", help="a .csv/.tsv(.gz)/.parquet file, openml:ID or openml-task:ID")
    data.add_argument("--target", help="target column (files; corpus files and OpenML know theirs)")
    space = parent()
    space.add_argument(
        "--space", default="lightgbm", choices=sorted(SPACES), help="search space (default: %(default)s)"
    )
    corpus = parent()
    corpus.add_argument("--corpus", help=f"corpus folder with index.csv (default: ${CORPUS_ENV})")
    location = parent()
    location.add_argument("--location", help="knowledge-base folder (default: the package's own)")
    quiet = parent()
    quiet.add_argument("--quiet", action="store_true", help="no progress bar")
    fmt = parent()
    fmt.add_argument(
        "--format", choices=["table", "json"], default="table", help="output format (default: %(default)s)"
    )
    task = parent()
    task.add_argument(
        "--task",
        choices=["binary", "multiclass", "classification", "regression"],
        help="task kind (default: inferred from the target)",
    )
    method = parent()
    method.add_argument(
        "--method",
        choices=list(METHODS),
        default=DEFAULT_METHOD,
        help="meta-model method (default: %(default)s, the shipped one)",
    )
    metamodel = parent()
    metamodel.add_argument("--metamodel", help="meta-model folder (default: the one shipped for --space)")
    sources = parent()
    sources.add_argument(
        "--openml", type=int, nargs="+", metavar="ID", help="OpenML dataset ids to add to the corpus folder"
    )
    sources.add_argument(
        "--openml-suite", metavar="ID", help="an OpenML benchmark suite (e.g. 99, OpenML-CC18): all its datasets"
    )
    sources.add_argument(
        "--datasets", nargs="+", metavar="FILE", help="your own .csv/.tsv/.parquet files (with --target)"
    )
    sources.add_argument("--target", help="the target column of the --datasets files")
    metric = parent()
    metric.add_argument(
        "--metric",
        choices=["auto", "roc_auc", "r2", "log_loss"],
        default="auto",
        help="what the configurations should be good at: auto (default) is the knowledge base's own metric, "
        "ROC-AUC for classification (roc_auc) and R^2 for regression (r2); log_loss (classification) also "
        "rewards calibrated probabilities. Suggestions are learned from the knowledge base's scores in it",
    )
    return {
        "data": data,
        "space": space,
        "corpus": corpus,
        "location": location,
        "quiet": quiet,
        "format": fmt,
        "task": task,
        "method": method,
        "metamodel": metamodel,
        "metric": metric,
        "sources": sources,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autometa",
        description="Hyperparameter meta-learning: start tuning where similar datasets did well.",
    )
    parser.add_argument("--version", action="version", version=f"autometa {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = _parents()

    def command(group, name: str, help: str, uses: Sequence[str], run) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=help, description=help, parents=[p[u] for u in uses])
        sub.set_defaults(run=run)
        return sub

    mf = command(
        commands,
        "metafeatures",
        "handcrafted metafeatures of one dataset",
        ["data", "task", "format"],
        _cmd_metafeatures,
    )
    mf.add_argument("--groups", nargs="+", help="metafeature groups (default: all)")
    mf.add_argument("--max-rows", type=int, default=5000, help="row cap of the subsample (default: %(default)s)")
    mf.add_argument("--random-state", type=int, default=0, help="seed of the subsample (default: %(default)s)")

    corpus = commands.add_parser("corpus", help="work on a PMLB-layout corpus")
    corpus_commands = corpus.add_subparsers(dest="corpus_command", metavar="COMMAND", required=True)
    groups = command(
        corpus_commands,
        "groups",
        "print the groups of datasets that every split holds out together, with the rule behind each",
        ["corpus", "format"],
        _cmd_corpus_groups,
    )
    groups.add_argument(
        "--rules",
        nargs="+",
        choices=list(_group_rules()),
        default=list(_group_rules()),
        help="grouping rules (default: all of them: %(default)s)",
    )
    command(
        corpus_commands,
        "add",
        "add OpenML datasets, a suite or your own files to a corpus folder (created if missing); they are "
        "written in its layout and grouped with its datasets",
        ["corpus", "sources"],
        _cmd_corpus_add,
    )
    table = command(
        corpus_commands,
        "metafeatures",
        "metafeatures of every corpus dataset",
        ["corpus", "task", "format", "quiet"],
        _cmd_corpus_metafeatures,
    )
    table.add_argument("--groups", nargs="+", help="metafeature groups (default: all)")
    table.add_argument("--out", help="write the table to this .csv or .parquet file")

    col = command(
        commands,
        "collect",
        "evaluate a search space's pool on every corpus dataset, or on the datasets --openml, --openml-suite "
        "or --datasets add to the --corpus folder (resumable)",
        ["corpus", "sources", "space", "task", "quiet"],
        _cmd_collect,
    )
    col.add_argument(
        "--configs",
        type=int,
        default=256,
        help="space-filling configurations besides the defaults (default: %(default)s)",
    )
    col.add_argument(
        "--storage", default="sqlite:///autometa-collect.db", help="Optuna storage URL (default: %(default)s)"
    )
    col.add_argument(
        "--out",
        default="autometa-kb",
        help="knowledge-base folder to export to (default: %(default)s; autometa/data/kb in a checkout updates "
        "the shipped one)",
    )
    col.add_argument("--workers", type=int, default=1, help="local worker processes (default: %(default)s)")
    col.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://HOST:8786")
    col.add_argument("--names", nargs="+", help="only these datasets")
    col.add_argument("--folds", type=int, default=3, help="cross-validation folds (default: %(default)s)")
    col.add_argument("--max-rows", type=int, default=2000, help="row cap of each dataset (default: %(default)s)")
    col.add_argument(
        "--config-ids",
        type=int,
        nargs="+",
        help="only these pool configurations (0 = the defaults): with another --max-rows, a second fidelity "
        "(give it its own --storage and --out)",
    )
    col.add_argument("--min-rows", type=int, default=0, help="only datasets with more rows than this")
    col.add_argument("--no-metafeatures", action="store_true", help="do not update metafeatures.parquet")

    sug = command(
        commands,
        "suggest",
        "configurations to try first on a dataset",
        ["data", "task", "space", "metamodel", "metric", "format"],
        _cmd_suggest,
    )
    sug.add_argument("-n", type=int, default=5, help="number of suggestions (default: %(default)s)")
    sug.add_argument("--random-state", type=int, help="seed of fresh candidates (surrogate meta-models)")

    tun = command(
        commands,
        "tune",
        "an Optuna study of a search space's learner, cross-validated and warm-started",
        ["data", "task", "space", "metamodel", "metric", "quiet"],
        _cmd_tune,
    )
    tun.add_argument(
        "--trials",
        type=int,
        default=50,
        help="the study's total of finished trials, counting those a resumed study has (default: %(default)s)",
    )
    tun.add_argument(
        "--warm-start",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start from autometa's suggestions (default) or from scratch",
    )
    tun.add_argument("--storage", help="Optuna storage URL (resumable study); default: in memory")
    tun.add_argument(
        "--sampler",
        choices=["auto", "tpe", "meta", "transfer", "transfer+deepkernel", "deepkernel"],
        default="auto",
        help="after the warm start: TPE, or the MetaSampler (TPE screened by the surrogate), or the "
        "TransferSampler (starts from the suggestions and learns from the scores it sees which known "
        "datasets this one resembles; TPE after 10 pool trials; per expected second with --timeout), "
        "transfer+deepkernel (the same 10 pool trials, then the DeepKernelSampler instead of TPE), "
        "or the DeepKernelSampler (starts from the first suggestion, then a deep-kernel GP pretrained on "
        "the knowledge base, its prior mean the nearest datasets' scores, fine-tuned on the trials; needs torch); "
        "auto (default): transfer+deepkernel when torch is installed and --warm-start is on, else meta where "
        "the space ships a surrogate (lightgbm), else tpe",
    )
    tun.add_argument(
        "--sampler-metamodel", help="surrogate meta-model folder for --sampler meta (default: the shipped one)"
    )
    tun.add_argument("--folds", type=int, default=3, help="cross-validation folds (default: %(default)s)")
    tun.add_argument("--max-rows", type=int, default=None, help="row cap of the cross-validation (default: all)")
    tun.add_argument("--random-state", type=int, default=0, help="seed of folds and sampler (default: %(default)s)")
    tun.add_argument(
        "--timeout", type=float, help="seconds after which no new trial starts (default: none, --trials decides)"
    )
    tun.add_argument(
        "--n-jobs", type=int, default=1, help="trials evaluated at once, one thread each (default: %(default)s)"
    )
    tun.add_argument("--out", help="where to save the result as JSON (default: print it only)")

    bench = command(
        commands,
        "benchmark",
        "compare warm-start methods and peers, leakage-free",
        ["space", "corpus", "location", "quiet"],
        _cmd_benchmark,
    )
    bench.add_argument("data", nargs="*", help="live mode: dataset files or OpenML ids")
    bench.add_argument("--mode", choices=["discrete", "live"], default="discrete", help="(default: %(default)s)")
    bench.add_argument("--budget", type=int, default=50, help="trials per method (default: %(default)s)")
    bench.add_argument("--seeds", type=int, default=5, help="(default: %(default)s)")
    bench.add_argument(
        "--folds", type=int, default=10, help="discrete mode: folds of near-duplicate groups (default: %(default)s)"
    )
    bench.add_argument(
        "--methods",
        nargs="+",
        metavar="METHOD",
        help="default: every method of the mode (discrete: "
        f"{', '.join(_benchmark_methods('discrete'))}; live: {', '.join(_benchmark_methods('live'))})",
    )
    bench.add_argument("--members", type=int, default=4, help="surrogate ensemble size (default: %(default)s)")
    bench.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes in parallel: folds (discrete mode) or datasets (live mode) (default: %(default)s)",
    )
    bench.add_argument(
        "--autometa-method",
        choices=list(_method_names()),
        help="the meta-model behind 'autometa' (default: the shipped default's method)",
    )
    bench.add_argument("--target", help="live mode: target column of the dataset files")
    bench.add_argument("--limit", type=int, help="discrete mode: only the first N datasets (a quick look)")
    bench.add_argument(
        "--groups",
        choices=["family", "near-duplicate"],
        default="family",
        help="what is held out together: name families, same targets and near-duplicates (default), or "
        "near-duplicates only (the grouping of earlier reports)",
    )
    bench.add_argument(
        "--fold-seeds",
        type=int,
        nargs="+",
        default=[0],
        help="which groups share a fold; several: every method runs once per fold seed and the report gives "
        "mean ± sd over them (default: 0)",
    )
    bench.add_argument(
        "--task",
        choices=["binary", "multiclass", "classification", "regression"],
        help="discrete mode: only datasets of this task kind (default: every dataset of the space)",
    )
    bench.add_argument("--out", default="benchmark-results", help="report folder (default: %(default)s)")
    bench.add_argument("--prefix", help="file name prefix (default: benchmark_<mode>_<space>)")
    bench.add_argument(
        "--merge",
        action="store_true",
        help="add these methods to the runs already in OUT (same datasets, folds, seeds and budget); "
        "the report covers all of them",
    )
    bench.add_argument("--command-line", help=argparse.SUPPRESS)

    mm = commands.add_parser("metamodel", help="fit a meta-model from the knowledge base")
    mm_commands = mm.add_subparsers(dest="metamodel_command", metavar="COMMAND", required=True)
    mmfit = command(
        mm_commands, "fit", "fit and save a meta-model", ["space", "method", "location"], _cmd_metamodel_fit
    )
    mmfit.add_argument("--members", type=int, default=8, help="surrogate ensemble size (default: %(default)s)")
    mmfit.add_argument(
        "--task",
        choices=["binary", "multiclass", "classification", "regression"],
        help="learn from the knowledge base's datasets of this task kind only (default: every dataset)",
    )
    mmfit.add_argument(
        "--metric",
        choices=["score", "log_loss"],
        default="score",
        help="the recorded metric to learn from: score (default; ROC-AUC for classification, R^2 for "
        "regression) or log_loss (the classification datasets only)",
    )
    mmfit.add_argument(
        "--fidelity",
        type=int,
        metavar="ROWS",
        help="learn from the knowledge base's second fidelity with this row cap (kb info lists them); save it "
        "as rows-ROWS/ inside the main meta-model's folder, and suggest uses it for datasets nearer that size",
    )
    mmfit.add_argument(
        "--neighbours", type=int, default=10, help="nearest datasets knn_portfolio reads (default: %(default)s)"
    )
    mmfit.add_argument(
        "--first-share",
        type=float,
        metavar="SHARE",
        help="knn_portfolio's first pick: the best mean among the configurations that beat the defaults on at "
        "least this share of the neighbours, else the defaults (default: the best mean)",
    )
    mmfit.add_argument(
        "--guard-quantile",
        type=_quantile_or_none,
        default=None,
        metavar="Q|none",
        help="send datasets farther than this quantile of the known datasets' distances to the static "
        "portfolio (default: none, no guard)",
    )
    mmfit.add_argument(
        "--objective",
        choices=["regression", "rank"],
        default="regression",
        help="surrogate objective (default: %(default)s; see benchmarks/results/metamodel_validation_*.md)",
    )
    mmfit.add_argument(
        "--study",
        nargs="+",
        action="append",
        metavar="URL NAME DATA [TARGET]",
        help="a finished Optuna study of yours to learn from too: storage URL, study name, "
        "the dataset it tuned (and its target column); repeatable",
    )
    mmfit.add_argument(
        "--features",
        choices=["handcrafted", "dataset2vec", "both"],
        default="handcrafted",
        help="metafeatures the meta-model reads (default: %(default)s; Dataset2Vec needs "
        "autometa[torch] and autometa kb embeddings)",
    )
    mmfit.add_argument(
        "--out",
        required=True,
        help="folder to save to (autometa/data/metamodel/SPACE in a checkout replaces the shipped one)",
    )

    mmkernel = command(
        mm_commands,
        "kernel",
        "pretrain the DeepKernelSampler's kernel on a knn_portfolio meta-model's pool scores and save it "
        "(in autometa/data/metamodel/SPACE of a checkout, tune and suggest then skip pretraining)",
        ["space", "metamodel"],
        _cmd_metamodel_kernel,
    )
    mmkernel.add_argument("--steps", type=int, default=10000, help="pretraining steps (default: %(default)s)")
    mmkernel.add_argument("--out", required=True, help="folder to write deepkernel.npz to")

    kb = commands.add_parser("kb", help="the knowledge base")
    kb_commands = kb.add_subparsers(dest="kb_command", metavar="COMMAND", required=True)
    command(kb_commands, "info", "what the knowledge base holds", ["location", "format"], _cmd_kb_info)
    command(
        kb_commands,
        "metafeatures",
        "compute missing rows of metafeatures.parquet",
        ["location", "corpus", "quiet"],
        _cmd_kb_metafeatures,
    )
    kbemb = command(
        kb_commands,
        "embeddings",
        "Dataset2Vec embeddings of every dataset (dataset2vec.parquet)",
        ["location", "corpus", "quiet"],
        _cmd_kb_embeddings,
    )
    kbemb.add_argument("--encoder", default="default", help="encoder folder (default: the shipped one)")
    peers = command(
        kb_commands,
        "peers",
        "evaluate other systems' own configurations exactly, under the knowledge base's protocol (resumable)",
        ["location", "corpus", "space", "quiet"],
        _cmd_kb_peers,
    )
    peers.add_argument(
        "--peers",
        nargs="+",
        choices=["defaults", "flaml", "autogluon"],
        help="which peers (default: every peer of the space: flaml and autogluon for lightgbm, "
        "flaml for xgboost, defaults and flaml for random_forest)",
    )
    peers.add_argument(
        "--autogluon", help="AutoGluon's portfolio JSON (../shared/peers/autogluon_zeroshot_2023_gbm.json)"
    )
    peers.add_argument("--names", nargs="+", help="only these datasets")
    command(
        kb_commands,
        "groups",
        "write groups.json: which datasets every split holds out together (from the corpus)",
        ["location", "corpus"],
        _cmd_kb_groups,
    )

    enc = command(
        commands,
        "train-encoder",
        "train the Dataset2Vec encoder on a corpus (needs autometa[torch])",
        ["corpus", "quiet"],
        _cmd_train_encoder,
    )
    enc.add_argument("--device", default="auto", help="auto (default: CUDA when available), cpu, cuda, cuda:1, ...")
    enc.add_argument(
        "--epochs", type=int, default=20, help="at most this many epochs (early stopping; default: %(default)s)"
    )
    enc.add_argument("--steps", type=int, default=50, help="steps per epoch (default: %(default)s)")
    enc.add_argument("--seed", type=int, default=0, help="(default: %(default)s)")
    enc.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own)")
    enc.add_argument(
        "--out", required=True, help="folder to save to (autometa/data/encoder in a checkout replaces the shipped one)"
    )
    return parser


def _quantile_or_none(text: str) -> float | None:
    if text.lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a quantile in (0, 1] or 'none', got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a quantile in (0, 1] or 'none', got {text!r}")
    return value


def _group_rules() -> tuple[str, ...]:
    from autometa.datasets import GROUP_RULES

    return GROUP_RULES


def _method_names() -> tuple[str, ...]:
    from autometa.metamodel import METHODS

    return tuple(METHODS)


def _benchmark_methods(mode: str) -> list[str]:
    from autometa.benchmark import LIVE_METHODS, METHODS

    return list(METHODS if mode == "discrete" else LIVE_METHODS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 success, 2 bad input, 1 other known errors)."""
    from metafeatures.exceptions import MetafeatureInputError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # argparse's own usage errors (code 2) and --help/--version (code 0)
        return exit.code if isinstance(exit.code, int) else 2
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what the reports record as the command
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except AutometaError as error:
        print(f"autometa: error: {error}", file=sys.stderr)
        return error.exit_code
    except MetafeatureInputError as error:
        print(f"autometa: error: {error}", file=sys.stderr)
        return DataError.exit_code
    except BrokenPipeError:  # `autometa ... | head`: the reader left; not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 0
    except KeyboardInterrupt:
        print("autometa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
