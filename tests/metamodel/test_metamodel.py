"""MetaModel and autometa.suggest on a small real knowledge base collected in the test."""

import json

import lightgbm
import numpy as np
import optuna
import pandas as pd
import pytest

import autometa
from autometa import DataError
from autometa.metamodel import MetaModel


@pytest.mark.parametrize("method", ["knn", "knn_portfolio", "portfolio", "surrogate"])
def test_fit_save_load_round_trip(metadata, method, tmp_path, corpus_path):
    data, params, _ = metadata
    model = MetaModel("lightgbm", method, members=3).fit(data, params)
    model.save(tmp_path / "mm")
    loaded = MetaModel.load(tmp_path / "mm")
    dataset = corpus_path / "diabetes.tsv.gz"  # pima's twin: familiar, so no fallback
    first = autometa.suggest(dataset, metamodel=model, n=4, random_state=1)
    again = autometa.suggest(dataset, metamodel=loaded, n=4, random_state=1)
    assert [s.params for s in first] == [s.params for s in again]
    assert len(first) == 4 and len({json.dumps(s.params, sort_keys=True) for s in first}) == 4
    lightgbm.LGBMClassifier(**first[0].params)  # ready for the learner as is
    assert first[0].params["subsample_freq"] == 1 and "n_jobs" not in first[0].params
    assert "fallback" not in first[0].because
    if method in ("surrogate", "knn_portfolio"):
        assert all(0 <= s.predicted <= 1.2 for s in first)
    else:
        assert first[0].predicted is None


def test_regression_and_arrays(metadata):
    data, params, _ = metadata
    model = MetaModel("lightgbm", "knn").fit(data, params)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    suggestions = autometa.suggest((X, X[:, 0] * 2.5 + rng.normal(size=200)), metamodel=model, n=2)
    assert len(suggestions) == 2 and suggestions[0].because
    lightgbm.LGBMRegressor(**suggestions[0].params)


def test_unfamiliar_dataset_falls_back_to_the_portfolio(metadata):
    data, params, _ = metadata
    model = MetaModel("lightgbm", "knn", guard_quantile=0.95).fit(data, params)
    far = pd.Series(1e6, index=data.metafeatures.columns)
    suggestions = model.suggest_configs(far, 3)
    assert all("fallback to the static portfolio" in s.because for s in suggestions)
    assert model.rank_pool(far, 3) == (model.portfolio_[:3], True)
    assert suggestions[0].params == model.suggest_configs(far, 1)[0].params
    # Without the guard (the LightGBM default, chosen on held-out data), the nearest datasets answer.
    unguarded = MetaModel("lightgbm", "knn").fit(data, params)
    assert unguarded.rank_pool(far, 3)[1] is False and unguarded.threshold_ == float("inf")


def test_tampered_surrogate_file_is_refused(metadata, tmp_path):
    data, params, _ = metadata
    MetaModel("lightgbm", "surrogate", members=2).fit(data, params).save(tmp_path / "mm")
    path = tmp_path / "mm" / "surrogate_0.txt"
    path.write_text(path.read_text()[:-200])
    with pytest.raises(DataError, match="surrogate_0.txt.*checksum"):
        MetaModel.load(tmp_path / "mm")


def test_tampered_or_truncated_metamodel_json_is_refused(metadata, tmp_path):
    data, params, _ = metadata
    folder = MetaModel("lightgbm", "knn_portfolio").fit(data, params).save(tmp_path / "mm")
    path = folder / "metamodel.json"
    document = json.loads(path.read_text())
    document["portfolio"] = document["portfolio"][::-1]  # a valid-looking edit
    path.write_text(json.dumps(document))
    with pytest.raises(DataError, match="metamodel.json.*does not match its own checksum"):
        MetaModel.load(folder)
    path.write_text(json.dumps(document)[:1000])
    with pytest.raises(DataError, match="Cannot read the meta-model at .*metamodel.json"):
        MetaModel.load(folder)


@pytest.mark.parametrize("space", ["lightgbm", "hist_gradient_boosting", "xgboost", "random_forest"])
def test_shipped_metamodel_passes_its_checksum(space):
    from autometa.metamodel import shipped_metamodel_path

    assert MetaModel.load(shipped_metamodel_path(space)).portfolio_


@pytest.mark.parametrize(
    "space, metric, task",
    [
        ("lightgbm", "score", None),
        ("lightgbm", "log_loss", None),
        ("hist_gradient_boosting", "score", None),
        ("hist_gradient_boosting", "log_loss", ("binary", "multiclass")),
        ("xgboost", "score", None),
        ("random_forest", "score", None),
    ],
)
def test_shipped_metamodels_are_what_the_shipped_knowledge_base_fits(space, metric, task):
    """A shipped meta-model refitted from the shipped knowledge base with its own settings gives
    the same pool scores, costs and order: a stale file (fitted before a fix, as the log-loss
    ones once were: uncapped) fails here."""
    from autometa.knowledge import KnowledgeBase
    from autometa.metamodel import shipped_metamodel_path

    shipped = MetaModel.load(shipped_metamodel_path(space, metric=metric))
    refit = MetaModel.from_knowledge_base(
        KnowledgeBase(),
        space,
        tasks=task,
        metric=metric,
        neighbours=shipped.neighbours,
        guard_quantile=shipped.guard_quantile,
    )
    assert shipped.metric_ == refit.metric_ and shipped.portfolio_ == refit.portfolio_
    pd.testing.assert_frame_equal(
        shipped.method_.pool_scores, refit.method_.pool_scores, check_dtype=False, check_names=False
    )
    pd.testing.assert_frame_equal(
        shipped.method_.pool_costs, refit.method_.pool_costs, check_dtype=False, check_names=False
    )
    assert shipped.threshold_ == pytest.approx(refit.threshold_)


def test_shipped_sampler_surrogate_is_the_benchmarked_one():
    from autometa.metamodel import shipped_metamodel_path

    model = MetaModel.load(shipped_metamodel_path("lightgbm", "sampler"))  # checks the JSON and every model file
    assert (model.method, model.members, model.objective, model.features) == (
        "surrogate",
        4,
        "regression",
        "handcrafted",
    )
    assert len(model.surrogate_.models) == 4 and model.provenance_["datasets"] == 280
    assert not (shipped_metamodel_path("hist_gradient_boosting", "sampler") / "metamodel.json").exists()


def test_shipped_hist_gradient_boosting_metamodel_suggests_for_both_task_kinds(corpus_path):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import r2_score

    data = autometa.load_dataset(corpus_path / "credit_g.tsv.gz")
    suggestions = autometa.suggest(data, space="hist_gradient_boosting", n=3)
    assert len(suggestions) == 3 and "nearest datasets: credit_g" in suggestions[0].because
    assert suggestions[0].params["early_stopping"] is False
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(range(data.n_rows), test_size=0.3, random_state=0, stratify=data.y)
    model = HistGradientBoostingClassifier(**suggestions[0].params).fit(data.X.iloc[train], data.y.iloc[train])
    # Scored on rows the model never saw (credit_g's AUC is about 0.78 for good configurations).
    assert roc_auc_score(data.y.iloc[test].cat.codes, model.predict_proba(data.X.iloc[test])[:, 1]) > 0.7
    # Regression too (110+ regression datasets in the knowledge base): a real fit on unseen rows.
    esl = autometa.load_dataset(corpus_path / "1027_ESL.tsv.gz")
    params = autometa.suggest(esl, space="hist_gradient_boosting", n=1)[0].params
    train, test = train_test_split(range(esl.n_rows), test_size=0.3, random_state=0)
    fitted = HistGradientBoostingRegressor(**params).fit(esl.X.iloc[train], esl.y.iloc[train])
    assert r2_score(esl.y.iloc[test], fitted.predict(esl.X.iloc[test])) > 0.7  # ESL: about 0.85 when tuned


def test_kb_info_names_the_shipped_metamodels(capsys):
    from autometa.cli import main
    from autometa.knowledge import KnowledgeBase

    assert main(["kb", "info"]) == 0
    out = capsys.readouterr().out
    kb = KnowledgeBase().info()["spaces"]
    assert (
        out.count("shipped meta-model: knn_portfolio on handcrafted metafeatures, fitted on") == 4
    )  # lightgbm, HGB, xgboost, random_forest
    assert f"fitted on {kb['lightgbm']['datasets']} datasets" in out


def test_a_task_kind_the_metamodel_never_saw_is_refused(metadata, corpus_path):
    data, params, _ = metadata
    classification = data.subset([d for d in data.datasets if data.tasks[d] != "regression"])
    model = MetaModel("lightgbm", "knn").fit(classification, params)
    assert model.tasks == ["binary", "multiclass"]
    assert autometa.suggest(corpus_path / "diabetes.tsv.gz", metamodel=model, n=1)
    with pytest.raises(DataError, match="learned from binary, multiclass datasets only, not regression"):
        autometa.suggest(corpus_path / "1027_ESL.tsv.gz", metamodel=model)
    from autometa.optuna import MetaSampler

    surrogate = MetaModel("lightgbm", "surrogate", members=2).fit(classification, params)
    with pytest.raises(DataError, match="not regression"):
        MetaSampler(corpus_path / "1027_ESL.tsv.gz", metamodel=surrogate)


def test_bad_requests_are_clear_errors(metadata, tmp_path):
    data, params, _ = metadata
    model = MetaModel("lightgbm", "knn").fit(data, params)
    X = np.arange(20, dtype=float).reshape(10, 2)
    with pytest.raises(DataError, match="single class"):
        autometa.suggest((X, [1] * 10), metamodel=model)
    with pytest.raises(autometa.AutometaError, match="Unknown search space 'catboost'"):
        autometa.suggest((X, [0, 1] * 5), metamodel=model, space="catboost")
    with pytest.raises(DataError, match="n must be a positive integer"):
        autometa.suggest((X, [0, 1] * 5), metamodel=model, n=0)
    with pytest.raises(DataError, match="No meta-model at"):
        autometa.suggest((X, [0, 1] * 5), metamodel=tmp_path / "nothing")
    with pytest.raises(DataError, match="Unknown meta-model method"):
        MetaModel("lightgbm", "magic").fit(data, params)


def test_same_inputs_same_suggestions_across_processes(metadata, tmp_path, corpus_path):
    import subprocess
    import sys

    data, params, _ = metadata
    folder = MetaModel("lightgbm", "surrogate", members=2).fit(data, params).save(tmp_path / "mm")
    data_path, folder_path = str(corpus_path / "diabetes.tsv.gz"), str(folder)
    code = (
        f"import json, autometa; s = autometa.suggest({data_path!r}, metamodel={folder_path!r}, n=3, random_state=7); "
        "print(json.dumps([x.params for x in s], sort_keys=True))"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    }
    assert len(outputs) == 1 and json.loads(outputs.pop())


def test_rank_objective_orders_without_predicting_scores(metadata, tmp_path, corpus_path):
    data, params, _ = metadata
    model = MetaModel("lightgbm", "surrogate", members=2, objective="rank").fit(data, params)
    model.save(tmp_path / "rank")
    loaded = MetaModel.load(tmp_path / "rank")
    assert loaded.objective == "rank"
    first = autometa.suggest(corpus_path / "diabetes.tsv.gz", metamodel=loaded, n=3, random_state=0)
    assert len(first) == 3 and all(s.predicted is None for s in first)


def test_every_dataset_source(metadata, corpus_path, openml_cache):
    data, params, _ = metadata
    model = MetaModel("lightgbm", "knn").fit(data, params)
    frame = pd.read_csv(corpus_path / "diabetes.tsv.gz", sep="\t")
    sources = {
        "path": dict(dataset=corpus_path / "diabetes.tsv.gz"),
        "frame+target": dict(dataset=frame, target="target"),
        "X, y": dict(dataset=(frame.drop(columns="target").to_numpy(), frame["target"].to_numpy())),
        "Dataset": dict(dataset=autometa.load_dataset(frame, target="target")),
        "OpenML id": dict(dataset=2),  # anneal, from the offline cache copy
        "OpenML task": dict(dataset="openml-task:1882"),
    }
    for name, kwargs in sources.items():
        suggestions = autometa.suggest(metamodel=model, n=2, **kwargs)
        assert len(suggestions) == 2, name
        assert all(set(s.params) >= {"learning_rate", "num_leaves"} for s in suggestions), name


def test_knn_portfolio_picks_the_best_of_n_over_the_nearest_datasets(metadata, corpus_path):
    import metafeatures
    from autometa.metamodel._model import NEIGHBOURS

    data, params, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio").fit(data, params)
    values = metafeatures.extract(autometa.load_dataset(corpus_path / "diabetes.tsv.gz"), random_state=0)
    ids, fell_back = model.rank_pool(values, 3)
    assert not fell_back and len(set(ids)) == 3
    nearest = model.distances(values).index[:NEIGHBOURS]
    scores = model.method_.pool_scores.loc[nearest]
    # First: the best mean normalized score over the neighbours; then each pick raises the mean best-of-k most.
    assert scores[ids[0]].mean() == pytest.approx(scores.mean().max())
    best_of_2 = np.maximum(scores[ids[0]].to_numpy()[:, None], scores.to_numpy()).mean(axis=0)
    assert best_of_2[list(scores.columns).index(ids[1])] == pytest.approx(best_of_2.max())
    suggestions = model.suggest_configs(values, 3)
    assert suggestions[0].predicted == pytest.approx(scores[ids[0]].mean())
    assert "nearest datasets" in suggestions[0].because


def test_robust_first_pick_beats_the_defaults_on_a_share_of_the_neighbours_or_is_the_defaults():
    from autometa.metamodel import robust_first

    scenarios = np.array(
        [  # neighbours x (defaults, a: best mean but beats the defaults on 1 of 4, b: beats them on 3 of 4)
            [0.5, 1.0, 0.6],
            [0.5, 0.4, 0.6],
            [0.5, 0.45, 0.6],
            [0.5, 0.45, 0.4],
        ]
    )
    assert scenarios.mean(axis=0).argmax() == 1
    assert robust_first(scenarios, 0, 0.6) == 2
    assert robust_first(scenarios, 0, 0.25) == 1  # a share low enough admits the best mean
    assert robust_first(scenarios, 0, 1.0) == 0  # nothing beats the defaults everywhere: the defaults


def test_a_robust_first_pick_leads_suggest_and_the_transfer_sampler_and_is_saved(metadata, corpus_path, tmp_path):
    import metafeatures
    from autometa.metamodel import robust_first
    from autometa.metamodel._model import NEIGHBOURS
    from autometa.optuna import TransferSampler

    data, params, _ = metadata
    model = MetaModel("lightgbm", "knn_portfolio", first_share=0.9).fit(data, params)
    plain = MetaModel("lightgbm", "knn_portfolio").fit(data, params)
    values = metafeatures.extract(autometa.load_dataset(corpus_path / "diabetes.tsv.gz"), random_state=0)
    ids, _ = model.rank_pool(values, 3)
    scores = model.method_.pool_scores.loc[model.distances(values).index[:NEIGHBOURS]]
    assert ids[0] == int(scores.columns[robust_first(scores.to_numpy(), list(scores.columns).index(0), 0.9)])
    assert len(set(ids)) == 3 and plain.rank_pool(values, 1)[0][0] == int(scores.mean().idxmax())
    assert ids[0] != plain.rank_pool(values, 1)[0][0]  # on this data the rule changes the first pick
    model.save(tmp_path / "mm")
    assert MetaModel.load(tmp_path / "mm").rank_pool(values, 3)[0] == ids
    sampler = TransferSampler(metamodel=model, metafeatures=values, seed=0)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    trial = study.ask(model.space_.distributions())
    first = model.configs_.loc[ids[0]]
    assert all(np.isclose(float(trial.params[k]), float(first[k])) for k in first.index)
    with pytest.raises(DataError, match="first_share"):
        MetaModel("lightgbm", "knn_portfolio", first_share=1.5)
