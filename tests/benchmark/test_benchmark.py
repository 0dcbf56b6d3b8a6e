"""The benchmark end to end on a tiny real knowledge base: discrete and live mode, CLI and report."""

import json

import numpy as np
import pandas as pd
import pytest

from autometa.benchmark import run_discrete, run_live, speed_up, write_report
from autometa.benchmark._report import STORED_FORMAT, curves_from_runs, runs_table
from autometa.cli import main
from autometa.knowledge import KnowledgeBase

FAST = ["random", "tpe", "defaults", "knn", "portfolio", "autometa", "autometa+tpe", "autometa-d2v"]


def test_discrete_mode_is_complete_and_its_curves_are_consistent(metadata):
    # Leakage: tests/test_leakage.py checks the training sets run_discrete builds.
    data, params, _ = metadata
    curves, errors = run_discrete(data, params, methods=FAST, budget=8, seeds=2, folds=4, members=2)
    assert set(curves["method"]) == set(FAST) - {"autometa-d2v"}
    assert len(curves) == len(data.datasets) * 2 * 7 * 8
    assert (curves["regret"] >= 0).all() and (curves["regret"] <= 1).all()
    # Best-so-far curves never go up.
    for _, run in curves.groupby(["dataset", "seed", "method"]):
        assert np.all(np.diff(run.sort_values("budget")["regret"].to_numpy()) <= 1e-12)
    # The method that cannot run is reported per dataset with its reason.
    assert set(errors["method"]) == {"autometa-d2v"} and len(errors) == len(data.datasets)
    # Defaults is config 0: its regret is the pool's regret of config 0.
    regret = data.regret()
    defaults = curves[(curves["method"] == "defaults") & (curves["budget"] == 1)].set_index("dataset")["regret"]
    for dataset, value in defaults.groupby(level=0).first().items():
        assert value == pytest.approx(regret.loc[dataset, 0], abs=1e-6)
    # Time: the recorded fit times summed, in units of the dataset's median pool configuration.
    for _, run in curves.groupby(["dataset", "seed", "method"]):
        assert np.all(np.diff(run.sort_values("budget")["time"].to_numpy()) >= -1e-12)
    first = curves[(curves["method"] == "defaults") & (curves["budget"] == 1)].groupby("dataset")["time"].first()
    for dataset, value in first.items():
        assert value == pytest.approx(data.costs.loc[dataset, 0] / data.costs.loc[dataset].median())
    # With the full pool as budget, random search reaches the best of the pool.
    full, _ = run_discrete(data, params, methods=["random"], budget=len(data.configs), seeds=1, folds=4)
    assert full[full["budget"] == len(data.configs)]["regret"].max() == pytest.approx(0.0)


def test_discrete_dataset2vec_methods_read_their_fold_features(metadata):
    """Given fold features that are the handcrafted metafeatures under d2v.* names, the Dataset2Vec
    variants choose exactly what the handcrafted ones choose; a fold's own rows are what is read."""
    from autometa.groups import group_folds

    data, params, _ = metadata
    held = group_folds(data, 4)
    renamed = data.metafeatures.rename(columns=lambda c: f"d2v.{c}")
    fold_features = pd.concat({i: renamed for i in range(len(held))}, names=["fold", "dataset"])
    methods = ["autometa", "autometa-d2v", "autometa-both", "autometa-d2v+tpe", "autometa+tpe"]
    curves, errors = run_discrete(
        data,
        params,
        methods=methods,
        budget=6,
        seeds=1,
        folds=4,
        autometa_method="knn_portfolio",
        fold_features=fold_features,
    )
    assert errors.empty
    by = curves.set_index(["dataset", "seed", "budget", "method"])["regret"].unstack("method")
    pd.testing.assert_series_equal(by["autometa"], by["autometa-d2v"], check_names=False)
    pd.testing.assert_series_equal(by["autometa"], by["autometa-both"], check_names=False)
    pd.testing.assert_series_equal(by["autometa+tpe"], by["autometa-d2v+tpe"], check_names=False)
    # Scrambled embeddings in one fold change that fold's held-out choices only there.
    scrambled = fold_features.copy()
    scrambled.loc[0] = np.random.default_rng(0).permutation(scrambled.loc[0].to_numpy())
    other, _ = run_discrete(
        data,
        params,
        methods=["autometa-d2v"],
        budget=6,
        seeds=1,
        folds=4,
        autometa_method="knn_portfolio",
        fold_features=scrambled,
    )
    other = other.set_index(["dataset", "seed", "budget"])["regret"]
    outside = [d for d in data.datasets if d not in held[0]]
    pd.testing.assert_series_equal(other.loc[outside], by["autometa-d2v"].loc[outside], check_names=False)


def test_discrete_same_seed_same_result_in_parallel_too(metadata):
    data, params, _ = metadata
    first, _ = run_discrete(data, params, methods=["tpe", "random", "knn"], budget=6, seeds=1, folds=4)
    again, _ = run_discrete(data, params, methods=["tpe", "random", "knn"], budget=6, seeds=1, folds=4, workers=2)
    pd.testing.assert_frame_equal(first, again)


@pytest.mark.peers
def test_peers_are_evaluated_exactly_and_scored_from_their_own_evaluations(metadata, corpus_path, tmp_path):
    import json
    import shutil

    from autometa.knowledge import KnowledgeBase
    from autometa.peers import evaluate_peers

    data, space, kb_folder = metadata
    kb = tmp_path / "kb"
    shutil.copytree(kb_folder, kb)
    portfolio = json.loads((corpus_path.parents[1] / "peers" / "autogluon_zeroshot_2023_gbm.json").read_text())
    portfolio["configs"] = portfolio["configs"][2:4]  # two of the 16, to keep the test short
    (tmp_path / "ag.json").write_text(json.dumps(portfolio))
    names = data.datasets[:4]
    table = evaluate_peers(kb, corpus_path, names=names, autogluon=tmp_path / "ag.json", progress=False)
    assert sorted(table.groupby("peer").size().items()) == [("autogluon", 8), ("flaml", 4)]
    assert table["error"].isna().all() and table["score"].notna().all()
    first = json.loads(table[(table.peer == "autogluon") & (table["rank"] == 0)]["params"].iloc[0])
    assert first["learning_rate"] == 0.03 and first["num_leaves"] == 128 and first["n_estimators"] == 10_000
    again = evaluate_peers(kb, corpus_path, names=names, autogluon=tmp_path / "ag.json", progress=False)
    pd.testing.assert_frame_equal(again, table)  # resumable: nothing is evaluated twice
    assert KnowledgeBase(kb).info()["spaces"]["lightgbm"]["peers"] == {
        "autogluon": {"datasets": 4, "configurations": 2, "datasets_with_failed_fits": 0},
        "flaml": {"datasets": 4, "configurations": 1, "datasets_with_failed_fits": 0},
    }

    peers = KnowledgeBase(kb).peers("lightgbm")
    curves, errors = run_discrete(
        data, space, methods=["flaml", "autogluon", "defaults"], budget=3, seeds=1, folds=4, peers=peers
    )
    assert set(errors["dataset"]) == set(data.datasets) - set(names)  # no evaluation, no score
    at1 = curves[curves.budget == 1].set_index(["dataset", "method"])["regret"]
    for name in names:
        scores = peers[peers.dataset == name].set_index(["peer", "rank"])["score"]
        every = np.concatenate([data.scores.loc[name].to_numpy(dtype=float), scores.to_numpy()])
        best, worst = np.nanmax(every), np.nanmin(every)
        assert at1[(name, "flaml")] == pytest.approx((best - scores[("flaml", 0)]) / (best - worst))
        assert at1[(name, "defaults")] == pytest.approx((best - data.scores.loc[name, 0]) / (best - worst))


def test_autogluon_settings_stop_early(corpus_path):
    from autometa.datasets import load_dataset
    from autometa.peers import autogluon_patience, early_stopping_fit
    from autometa.protocol import Protocol, evaluate, prepare_rows
    from autometa.spaces import get_space

    assert autogluon_patience(1_000) == 300 and autogluon_patience(100_000) == 30 and autogluon_patience(10**7) == 20
    rows = prepare_rows(load_dataset(corpus_path / "pima.tsv.gz"), Protocol())
    fitted = []

    def fit(model, X, y):
        fitted.append(early_stopping_fit(0)(model, X, y))
        return fitted[-1]

    result = evaluate(get_space("lightgbm"), {"n_estimators": 10_000, "learning_rate": 0.05}, rows, Protocol(), fit=fit)
    assert result.ok and 0.7 < result.score < 1
    assert all(0 < model.best_iteration_ < 1_000 for model in fitted)


def test_autogluon_holdout_keeps_a_class_with_one_training_row_in_training(corpus_path):
    """A training fold with a single row of a class (kddcup, fars, wine_quality_white at 2,000
    rows): the inner split keeps it in training, so the validation labels are ones the model saw."""
    import warnings

    from lightgbm import LGBMClassifier

    from autometa.datasets import load_dataset
    from autometa.peers import early_stopping_fit

    data = load_dataset(corpus_path / "iris.tsv.gz")
    X, y = data.X.reset_index(drop=True), data.y.cat.codes.to_numpy().copy()
    y[0] = 3  # one row of a fourth class
    seen = []
    for seed in range(20):  # an unstratified split put the row in validation for some seeds
        model = LGBMClassifier(n_estimators=50, verbose=-1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # as evaluate() fits: LightGBM 4.6+ deprecates eval_set
            early_stopping_fit(seed)(model, X, y)
        seen.append(list(model.classes_))
    assert all(classes == [0, 1, 2, 3] for classes in seen)


def test_live_mode_runs_real_studies(metadata, corpus_path, tmp_path, monkeypatch):
    import autometa.protocol

    _, _, kb_folder = metadata
    evaluated, configs = [], []
    real = autometa.protocol.evaluate

    def counting(space, config, *args, **kwargs):
        result = real(space, config, *args, **kwargs)
        evaluated.append(result.score)
        configs.append(sorted(config.items()))
        return result

    monkeypatch.setattr(autometa.protocol, "evaluate", counting)
    methods = ["random", "tpe", "defaults", "autometa+tpe", "autometa+transfer", "rgpe", "transfer pool<=2"]
    methods += ["autometa+deepkernel", "deepkernel warm 2", "autometa+transfer+deepkernel"]
    methods += ["autometa+transfer+deepkernel+prior"]
    curves, errors = run_live(
        [corpus_path / "iris.tsv.gz"],
        methods=methods,
        budget=4,
        seeds=2,
        knowledge_base=KnowledgeBase(kb_folder),
        members=2,
        autometa_method="knn",
        variants={
            "transfer pool<=2": {"max_pool_trials": 2},
            "deepkernel warm 2": {"sampler": "deepkernel", "warm_start": 2},
        },
    )
    assert len(errors) == 0
    assert set(curves["method"]) == set(methods)
    assert curves.groupby("method")["budget"].max().eq(4).all()
    # Real cross-validated fits, each configuration once a dataset: the TransferSampler's pool
    # phase does not depend on the seed, random search and TPE share their start-up points.
    assert len(configs) == len({repr(c) for c in configs}) and all(0.5 <= s <= 1 for s in evaluated)
    assert len(configs) < 6 * 4 * 2 + 1
    transfer = curves[curves.method == "autometa+transfer"].pivot(index="budget", columns="seed", values="regret")
    assert transfer[0].equals(transfer[1])
    # Within its pool phase the hybrid is the TransferSampler, with or without the prior mean.
    for name in ("autometa+transfer+deepkernel", "autometa+transfer+deepkernel+prior"):
        hybrid = curves[curves.method == name].pivot(index="budget", columns="seed", values="regret")
        assert hybrid.equals(transfer)
    # ... which is what re-evaluating would give: the protocol is deterministic.
    from autometa.datasets import load_dataset
    from autometa.protocol import Protocol, fold_indices, prepare_rows
    from autometa.spaces import get_space

    protocol = Protocol(folds=3, max_rows=2000, seed=0)
    rows = prepare_rows(load_dataset(corpus_path / "iris.tsv.gz"), protocol)
    again = real(get_space("lightgbm"), dict(configs[0]), rows, protocol, fold_indices(rows, protocol))
    assert again.score == evaluated[0]
    # Time: measured fit seconds, summed, in units of the run's median trial.
    assert (curves.groupby("method")["time"].max() > 0).all()
    random = curves[(curves.method == "random") & (curves.seed == 0)]
    assert random.sort_values("budget")["time"].is_monotonic_increasing
    # The regret is normalized over the run's own scores: the defaults' is its place between them.
    best, worst = max(evaluated), min(evaluated)
    defaults = curves[(curves.method == "defaults") & (curves.budget == 1)]["regret"].iloc[0]
    assert 0 <= defaults <= 1 and any(abs(defaults - (best - s) / (best - worst)) < 1e-9 for s in evaluated)
    paths = write_report(curves, errors, tmp_path, "live", title="t", command="c")
    assert all(p.is_file() for p in paths)


def test_live_dataset2vec_methods_load_the_encoder_once(metadata, corpus_path, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    import shutil

    import autometa.encoder as encoder_module
    from autometa.encoder import build_embedding_table

    _, _, kb_folder = metadata
    kb = shutil.copytree(kb_folder, tmp_path / "kb")
    build_embedding_table(kb, corpus_path, progress=False)
    loads = []
    real = encoder_module.load_encoder
    monkeypatch.setattr(encoder_module, "load_encoder", lambda *a, **k: loads.append(a) or real(*a, **k))
    methods = ["autometa-d2v", "autometa-both"]
    curves, errors = run_live(
        [corpus_path / "haberman.tsv.gz", corpus_path / "tae.tsv.gz"],
        methods=methods,
        budget=3,
        seeds=2,
        knowledge_base=KnowledgeBase(kb),
        members=2,
        autometa_method="knn",
    )
    assert len(errors) == 0 and set(curves["method"]) == set(methods)
    assert len(curves) == 2 * 2 * 2 * 3 and curves["regret"].between(0, 1).all()
    assert len(loads) == 1  # one encoder for 2 datasets x 2 methods x 2 seeds
    # a dataset of the knowledge base was seen by the shipped encoder: reported, not run
    _, errors = run_live(
        [corpus_path / "iris.tsv.gz"],
        methods=["autometa-d2v"],
        budget=2,
        knowledge_base=KnowledgeBase(kb),
        members=2,
        autometa_method="knn",
    )
    assert errors["method"].tolist() == ["autometa-d2v"]


def test_benchmark_cli_writes_csv_markdown_and_figures(metadata, tmp_path, capsys):
    _, _, kb_folder = metadata
    code = main(
        [
            "benchmark",
            "--location",
            str(kb_folder),
            "--methods",
            "random",
            "tpe",
            "knn",
            "autometa",
            "--budget",
            "5",
            "--seeds",
            "2",
            "--folds",
            "4",
            "--members",
            "2",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    summary = (tmp_path / "benchmark_discrete_lightgbm.md").read_text()
    assert "Average rank" in summary and "Speed-up over cold TPE" in summary
    assert (tmp_path / "benchmark_discrete_lightgbm_regret.png").stat().st_size > 1000
    assert (tmp_path / "benchmark_discrete_lightgbm_rank.png").stat().st_size > 1000
    runs = pd.read_csv(tmp_path / "benchmark_discrete_lightgbm.csv.gz")
    assert len(runs) == runs["dataset"].nunique() * 2 * 4 and "regret@5" in runs.columns  # one row per run
    curves = curves_from_runs(runs)
    assert set(curves["method"]) == {"random", "tpe", "knn", "autometa"}
    assert not speed_up(curves).empty


def test_random_search_draws_a_different_order_on_each_dataset(metadata):
    data, params, _ = metadata
    curves, _ = run_discrete(data, params, methods=["random"], budget=3, seeds=2, folds=4)
    again, _ = run_discrete(data, params, methods=["random"], budget=3, seeds=2, folds=4)
    pd.testing.assert_frame_equal(curves, again)
    first = curves[curves["budget"] == 1].pivot(index="dataset", columns="seed", values="regret")
    # One shared permutation per seed would give every dataset the same first configuration.
    from autometa.benchmark._discrete import Pool, _random

    pool = Pool(data.configs, params)
    held = [type("Held", (), {"dataset": d})() for d in data.datasets]
    orders = {tuple(_random(None, h, pool, 3, seed=0)) for h in held}
    assert len(orders) > len(held) // 2 and first.notna().all().all()


def test_runs_table_round_trips(metadata):
    data, params, _ = metadata
    curves, _ = run_discrete(data, params, methods=["random", "knn"], budget=4, seeds=2, folds=4)
    back = curves_from_runs(runs_table(curves))
    expected = curves.sort_values(["dataset", "seed", "method", "budget"], ignore_index=True)
    pd.testing.assert_frame_equal(back[expected.columns], expected, check_dtype=False)


def test_benchmark_bad_requests(metadata, capsys):
    _, _, kb_folder = metadata
    assert main(["benchmark", "--location", str(kb_folder), "--methods", "nope", "--quiet"]) == 2
    assert "Unknown benchmark methods ['nope']" in capsys.readouterr().err
    assert main(["benchmark", "--mode", "live", "--location", str(kb_folder), "--quiet"]) == 2


def test_benchmark_cli_merges_methods_into_an_earlier_run(metadata, tmp_path, capsys):
    _, _, kb_folder = metadata
    common = [
        "benchmark",
        "--location",
        str(kb_folder),
        "--budget",
        "5",
        "--seeds",
        "2",
        "--folds",
        "4",
        "--members",
        "2",
        "--out",
        str(tmp_path),
        "--quiet",
    ]
    assert main([*common, "--methods", "random", "knn", "autometa", "--prefix", "both"]) == 0
    assert main([*common, "--methods", "random", "knn", "--prefix", "merged"]) == 0
    assert main([*common, "--methods", "autometa", "--prefix", "merged", "--merge"]) == 0
    merged = pd.read_csv(tmp_path / "merged.csv.gz").sort_values(["dataset", "seed", "method"], ignore_index=True)
    together = pd.read_csv(tmp_path / "both.csv.gz").sort_values(["dataset", "seed", "method"], ignore_index=True)
    pd.testing.assert_frame_equal(merged, together)  # deterministic methods: one run or two, the same runs
    summary = (tmp_path / "merged.md").read_text()
    assert summary.count("\n- `autometa ") == 2
    # The tables (ties included) are those of the single run: both summarize the same CSV.
    tables = summary[summary.index("\n## ") :]
    both = (tmp_path / "both.md").read_text()
    assert tables == both[both.index("\n## ") :]
    # a different protocol cannot be merged
    other_budget = [a if a != "5" else "4" for a in common]
    assert main([*other_budget, "--methods", "portfolio", "--prefix", "merged", "--merge"]) == 2
    assert main([*common, "--methods", "portfolio", "--prefix", "nothing-yet", "--merge"]) == 2
    # runs made with other meta-model settings (or another knowledge base, or other peer
    # evaluations) cannot be merged either: the report would mix two references
    context_path = tmp_path / "merged_context.json"
    context = json.loads(context_path.read_text())
    assert set(context) == {"metamodel", "knowledge_base", "peers", "bounds"}
    context["metamodel"]["neighbours"] = context["metamodel"]["neighbours"] + 1
    context_path.write_text(json.dumps(context))
    assert main([*common, "--methods", "portfolio", "--prefix", "merged", "--merge"]) == 2
    context_path.unlink()  # a report made before contexts were recorded
    assert main([*common, "--methods", "portfolio", "--prefix", "merged", "--merge"]) == 2
    assert "another context" in capsys.readouterr().err


def test_a_merge_after_new_peer_evaluations_renormalizes_the_earlier_runs(metadata, tmp_path, capsys):
    """Peer evaluations join the regret's reference (best of pool and peers). When they grow, runs
    recorded with their bounds are renormalized on the next --merge, to what a fresh run of every
    method gives; the peers' own rows must be re-run in that merge."""
    import shutil

    from autometa.knowledge import PEER_COLUMNS, PEERS_FILE, KnowledgeBase, write_table

    data, _, kb_folder = metadata
    kb = tmp_path / "kb"
    shutil.copytree(kb_folder, kb)
    common = ["benchmark", "--location", str(kb), "--budget", "4", "--seeds", "2", "--folds", "4"]
    common += ["--members", "2", "--out", str(tmp_path), "--quiet"]
    write_table(kb, "lightgbm", PEERS_FILE, pd.DataFrame(columns=PEER_COLUMNS))
    assert main([*common, "--methods", "random", "knn", "autometa", "--prefix", "grown"]) == 0
    first = pd.read_csv(tmp_path / "grown.csv.gz")
    # A peer configuration better than the whole pool on two datasets, worse on another.
    best = data.scores.max(axis=1)
    names = list(data.datasets)
    rows = [
        {"dataset": d, "peer": "flaml", "rank": 0, "params": "{}", "score": best[d] + shift}
        for d, shift in ((names[0], 0.02), (names[1], 0.01), (names[2], -0.5))
    ]
    peers = pd.DataFrame(rows).assign(log_loss=np.nan, fit_seconds=1.0, error=None)[PEER_COLUMNS]
    write_table(kb, "lightgbm", PEERS_FILE, peers)
    assert len(KnowledgeBase(kb).peers("lightgbm")) == 3
    assert main([*common, "--methods", "autometa", "flaml", "--prefix", "grown", "--merge"]) == 0
    assert main([*common, "--methods", "random", "knn", "autometa", "flaml", "--prefix", "fresh"]) == 0
    keys = ["dataset", "fold_seed", "seed", "method"]
    grown = pd.read_csv(tmp_path / "grown.csv.gz").sort_values(keys, ignore_index=True)
    fresh = pd.read_csv(tmp_path / "fresh.csv.gz").sort_values(keys, ignore_index=True)
    regret = [c for c in fresh.columns if c.startswith("regret@")]
    pd.testing.assert_frame_equal(grown[keys], fresh[keys])
    np.testing.assert_allclose(grown[regret].to_numpy(), fresh[regret].to_numpy(), atol=1e-4)
    before = pd.read_csv(tmp_path / "fresh.csv.gz")
    changed = before[(before["dataset"] == names[0]) & (before["method"] == "knn")]
    assert (changed["regret@1"] > 0).all()  # the peer beats the pool there: no pool pick has regret 0
    unchanged = first[(first["dataset"] == names[0]) & (first["method"] == "knn")]
    assert not np.allclose(unchanged["regret@1"], changed["regret@1"])  # so the old runs were renormalized
    assert "renormalized to the current regret reference" in (tmp_path / "grown.md").read_text()
    # Once more peers: the report's flaml rows are those evaluations, so the merge must re-run them.
    peers.loc[2, "score"] = best[names[2]] + 0.03
    write_table(kb, "lightgbm", PEERS_FILE, peers)
    capsys.readouterr()
    assert main([*common, "--methods", "knn", "--prefix", "grown", "--merge"]) == 2
    assert "Add flaml to --methods" in capsys.readouterr().err
    # The peer alone, which ran on 3 of the datasets (errors name the others): enough to renormalize.
    assert main([*common, "--methods", "flaml", "--prefix", "grown", "--merge"]) == 0
    again = pd.read_csv(tmp_path / "grown.csv.gz")
    assert set(again["dataset"]) == set(names) and (again["method"] == "flaml").sum() == 3 * 2  # 3 datasets x 2 seeds


def test_methods_that_ran_on_fewer_datasets_are_compared_on_the_common_ones():
    """A peer evaluated on part of the datasets: the tables cover the datasets every method ran on,
    and each method's own coverage is reported, so no mean mixes different datasets."""
    from autometa.benchmark._report import summary_markdown

    rows = []
    for dataset, a, b in [("d1", 0.0, 0.5), ("d2", 0.2, 0.1), ("hard", 0.9, None)]:
        for method, regret in (("autometa", a), ("peer", b)):
            if regret is not None:
                rows += [
                    {"dataset": dataset, "task": "binary", "seed": 0, "method": method, "budget": k, "regret": regret}
                    for k in (1, 2)
                ]
    text = summary_markdown(pd.DataFrame(rows), pd.DataFrame(), title="t", command="c")
    assert "2 datasets, 1 fold seed" in text and "peer on 2" in text
    table = text.split("## Mean normalized regret")[1].split("##")[0]
    assert "| autometa | 0.1000 |" in table  # mean over d1 and d2, not over "hard"
    own = text.split("## Each method over every dataset it ran on")[1]
    assert "| autometa | 3 | 0.3667 |" in own and "| peer | 2 | 0.3000 |" in own


def test_a_registered_transfer_variant_runs_in_worker_processes(metadata, monkeypatch):
    """A TransferSampler variant added to METHODS reaches the benchmark's spawned workers and runs
    there exactly as in-process (benchmarks/transfer_selection.py registers its variants so)."""
    from autometa.benchmark import METHODS, sampler_method

    data, params, _ = metadata
    monkeypatch.setitem(METHODS, "transfer noise=0.3", sampler_method(noise=0.3))
    methods = ["transfer noise=0.3"]
    apart, _ = run_discrete(data, params, methods=methods, budget=4, seeds=1, folds=2, workers=2)
    inline, _ = run_discrete(data, params, methods=methods, budget=4, seeds=1, folds=2, workers=1)
    assert len(apart) == len(data.datasets) * 4
    columns = ["dataset", "budget", "regret"]
    pd.testing.assert_frame_equal(
        apart.sort_values(columns[:2])[columns].reset_index(drop=True),
        inline.sort_values(columns[:2])[columns].reset_index(drop=True),
    )


def test_live_mode_in_parallel_gives_each_dataset_its_own_runs(metadata, corpus_path):
    _, _, kb_folder = metadata
    data = [corpus_path / "iris.tsv.gz", corpus_path / "diabetes.tsv.gz"]
    kwargs = dict(methods=["random", "defaults"], budget=2, seeds=1, knowledge_base=KnowledgeBase(kb_folder))
    serial, _ = run_live(data, **kwargs)
    parallel, errors = run_live(data, workers=2, **kwargs)
    assert errors.empty and set(parallel["dataset"]) == {"iris", "diabetes"}
    key = ["dataset", "method", "seed", "budget"]
    pd.testing.assert_frame_equal(
        serial.sort_values(key, ignore_index=True)[[*key, "regret"]],
        parallel.sort_values(key, ignore_index=True)[[*key, "regret"]],
    )


def test_a_live_merge_renormalizes_over_every_run(metadata, corpus_path):
    """Live regret is normalized over every trial of a dataset, so methods added by a merge give
    the same report as running them together; runs without raw scores are refused."""
    from autometa.benchmark import merge_curves
    from autometa.exceptions import DataError

    _, _, kb_folder = metadata
    kwargs = dict(budget=3, seeds=1, knowledge_base=KnowledgeBase(kb_folder))
    data = [corpus_path / "iris.tsv.gz"]
    together, _ = run_live(data, methods=["random", "defaults"], **kwargs)
    first, first_errors = run_live(data, methods=["random"], **kwargs)
    added, added_errors = run_live(data, methods=["defaults"], **kwargs)
    # Alone, each method's regret is normalized over its own trials only.
    assert first["regret"].min() == 0 and added["regret"].min() == 0
    merged, _ = merge_curves(first, added, first_errors, added_errors)
    key = ["dataset", "method", "seed", "budget"]
    pd.testing.assert_frame_equal(  # up to the stored precision of the added runs' scores
        merged.sort_values(key, ignore_index=True)[[*key, "regret"]],
        together.sort_values(key, ignore_index=True)[[*key, "regret"]],
        check_exact=False,
        atol=1e-4,
    )
    # Time (measured anew by each run) is in units of the median trial of both runs together.
    steps = merged.sort_values(key).groupby(["method", "seed"])["time"].diff().fillna(merged["time"])
    assert np.median(steps[merged["seconds"] > 0]) == pytest.approx(1.0)
    back = curves_from_runs(runs_table(merged))  # what the committed CSV keeps
    assert {"score", "seconds"} <= set(back.columns)
    with pytest.raises(DataError, match="without their raw scores"):
        merge_curves(first.drop(columns=["score", "seconds"]), added, first_errors, added_errors)
    # Runs read back from a report have the CSV's precision; a merged run that evaluated the same
    # configurations gets exactly the same regret (new runs are stored at that precision first).
    stored = first.copy()
    for column in ("regret", "time", "score", "seconds"):
        stored[column] = stored[column].map(lambda v: float(STORED_FORMAT % v))
    again = first.assign(method="random-again")
    merged, _ = merge_curves(stored, again, first_errors, first_errors.iloc[:0])
    one, other = (
        merged[merged["method"] == m].sort_values(key)["regret"].to_numpy() for m in ("random", "random-again")
    )
    np.testing.assert_array_equal(one, other)


def test_deep_kernel_methods_run_in_the_discrete_benchmark(metadata, monkeypatch):
    """The FSBO-style sampler alone and as the TransferSampler's refinement after its pool phase:
    a full curve on every dataset, the same first trials as the plain TransferSampler up to the
    handover, every trial a distinct pool configuration."""
    pytest.importorskip("torch")
    from autometa.benchmark import METHODS, sampler_method

    data, params, _ = metadata
    monkeypatch.setitem(METHODS, "transfer pool<=2", sampler_method(max_pool_trials=2))
    monkeypatch.setitem(METHODS, "pool<=2 then deepkernel", sampler_method(max_pool_trials=2, refine="deepkernel"))
    monkeypatch.setitem(METHODS, "deepkernel warm 3", sampler_method("deepkernel", warm_start=3))
    monkeypatch.setitem(
        METHODS, "pool<=2 then prior", sampler_method(max_pool_trials=2, refine="deepkernel", refine_prior=1.0)
    )
    methods = ["autometa+deepkernel", "transfer pool<=2", "pool<=2 then deepkernel", "deepkernel warm 3"]
    methods += ["pool<=2 then prior"]
    curves, errors = run_discrete(data, params, methods=methods, budget=5, seeds=1, folds=2)
    assert errors.empty and len(curves) == len(data.datasets) * 5 * 5
    regret = curves.pivot_table(index=["dataset", "budget"], columns="method", values="regret")
    early = regret.xs(2, level="budget")
    assert (early["transfer pool<=2"] == early["pool<=2 then deepkernel"]).all()
    assert (early["transfer pool<=2"] == early["pool<=2 then prior"]).all()
    # Both start from the metafeature neighbours' first pick.
    first = regret.xs(1, level="budget")
    assert (first["deepkernel warm 3"] == first["autometa+deepkernel"]).all()
    from autometa.exceptions import DataError

    with pytest.raises(DataError, match="Unknown sampler 'gp'"):
        sampler_method("gp")(None, type("Held", (), {"dataset": "x"})(), None, 1, 0)
    assert (curves.groupby(["dataset", "method"])["regret"].apply(lambda r: r.is_monotonic_decreasing)).all()


@pytest.mark.peers
def test_random_forest_peers_are_its_library_defaults_and_flamls_forest(corpus_path, tmp_path):
    """A forest classifier's defaults ("sqrt" columns) are no point of the pool: the defaults peer
    evaluates them exactly, and the discrete benchmark's defaults method scores that evaluation."""
    import json

    from autometa import load_dataset
    from autometa.collect import Plan, collect
    from autometa.exceptions import DataError
    from autometa.metamodel import MetaData
    from autometa.peers import evaluate_peers, peers_for
    from autometa.protocol import Protocol, evaluate, prepare_rows
    from autometa.spaces import get_space

    space = get_space("random_forest")
    assert peers_for(space) == ("defaults", "flaml")
    assert peers_for(get_space("lightgbm")) == ("flaml", "autogluon")
    assert peers_for(get_space("hist_gradient_boosting")) == ()
    names = ["credit_g", "1027_ESL"]  # binary with categories; regression
    plan = Plan(
        corpus=str(corpus_path),
        space="random_forest",
        storage=f"sqlite:///{tmp_path / 's.db'}",
        out=str(tmp_path / "kb"),
        n_configs=3,
    )
    collect(plan, names=names, progress=False)
    with pytest.raises(
        DataError, match=r"no configuration for space 'random_forest'; its peers are \['defaults', 'flaml'\]"
    ):
        evaluate_peers(plan.out, corpus_path, "random_forest", peers=["autogluon"], progress=False)
    table = evaluate_peers(plan.out, corpus_path, "random_forest", progress=False)
    assert sorted(table.groupby("peer").size().items()) == [("defaults", 2), ("flaml", 2)]
    assert table["error"].isna().all()
    rows = table.set_index(["dataset", "peer"])
    assert json.loads(rows.loc[("credit_g", "defaults"), "params"])["max_features"] == "sqrt"
    assert json.loads(rows.loc[("1027_ESL", "defaults"), "params"]) == json.loads(json.dumps(space.defaults))
    assert "max_leaf_nodes" in json.loads(rows.loc[("credit_g", "flaml"), "params"])
    # The same score as evaluating scikit-learn's defaults under the knowledge base's protocol.
    dataset = load_dataset(corpus_path / "credit_g.tsv.gz")
    protocol = Protocol()
    direct = evaluate(space, {"max_features": "sqrt"}, prepare_rows(dataset, protocol), protocol)
    assert rows.loc[("credit_g", "defaults"), "score"] == pytest.approx(direct.score)

    import shutil
    from pathlib import Path

    from autometa.knowledge import default_location

    for shipped in ("metafeatures.parquet", "groups.json"):  # the corpus's, not the collection's
        shutil.copy(default_location() / shipped, Path(plan.out) / shipped)
    kb = KnowledgeBase(plan.out)
    data = MetaData.from_knowledge_base(kb, "random_forest")
    curves, _ = run_discrete(
        data,
        kb.space("random_forest"),
        methods=["defaults", "flaml"],
        budget=1,
        seeds=1,
        folds=2,
        peers=kb.peers("random_forest"),
    )
    at1 = curves.set_index(["dataset", "method"])["regret"]
    for name in names:
        peers = kb.peers("random_forest").query("dataset == @name").set_index("peer")["score"]
        every = np.concatenate([data.scores.loc[name].to_numpy(dtype=float), peers.to_numpy()])
        best, worst = np.nanmax(every), np.nanmin(every)
        assert at1[(name, "defaults")] == pytest.approx((best - peers["defaults"]) / (best - worst))


def test_a_robust_first_pick_setting_is_part_of_a_reports_context(monkeypatch):
    """A shipped meta-model with first_share puts it in the benchmark's context (so --merge never
    mixes runs made under two first-pick rules); one without it keeps the context of earlier reports."""
    import autometa.metamodel as metamodel_module
    from autometa.benchmark import run_context, shipped_settings

    shipped = shipped_settings("lightgbm")  # LightGBM and HGB ship first_share=0.6 (README)
    assert run_context(shipped, pd.DataFrame(), None)["metamodel"]["first_share"] == 0.6
    before = shipped_settings("random_forest")  # the forests keep the mean rule
    assert "first_share" not in before
    assert set(run_context(before, pd.DataFrame(), None)["metamodel"]) == {"method", "neighbours", "guard_quantile"}
    load = metamodel_module.MetaModel.load

    def with_share(folder):
        model = load(folder)
        model.first_share = 0.6
        return model

    monkeypatch.setattr(metamodel_module.MetaModel, "load", staticmethod(with_share))
    after = shipped_settings("random_forest")
    assert after == {**before, "first_share": 0.6}
    assert run_context(after, pd.DataFrame(), None)["metamodel"]["first_share"] == 0.6


def test_a_folds_meta_model_takes_a_variants_settings_apart_from_its_own(metadata):
    from autometa.benchmark._discrete import Fold

    data, space, _ = metadata
    fold = Fold(train=data, space=space, autometa_method="knn_portfolio", members=2, settings={"neighbours": 5})
    plain, robust = fold.model("knn_portfolio"), fold.model("knn_portfolio", first_share=0.6)
    assert plain.first_share is None and robust.first_share == 0.6 and robust.neighbours == 5
    assert fold.model("knn_portfolio", first_share=0.6) is robust and fold.model("knn_portfolio") is plain
