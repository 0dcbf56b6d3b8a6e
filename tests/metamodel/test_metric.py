"""The metric suggestions are learned from and a study optimizes: ROC-AUC / R^2 (the protocol's
score) or log-loss (issue: what a user touches, "the metric the user cares about")."""

from __future__ import annotations

import importlib.util

import numpy as np
import optuna
import pytest

import autometa
from autometa import DataError
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import MetaData, MetaModel
from autometa.protocol import resolve_metric


def test_metric_names_resolve_and_bad_ones_say_what_to_use():
    assert resolve_metric("auto").name == resolve_metric("roc_auc").name == resolve_metric("r2").name == "score"
    assert resolve_metric("log_loss", "multiclass").greater_is_better is False
    with pytest.raises(DataError, match="Unknown metric 'accuracy'"):
        resolve_metric("accuracy")
    with pytest.raises(DataError, match="not recorded for a regression dataset"):
        resolve_metric("log_loss", "regression")
    with pytest.raises(DataError, match="not recorded for a classification dataset"):
        resolve_metric("r2", "binary")


def test_log_loss_metadata_is_minus_the_capped_log_loss_of_classification_datasets(metadata):
    _, _, folder = metadata
    kb = KnowledgeBase(folder)
    data = MetaData.from_knowledge_base(kb, "lightgbm", metric="log_loss")
    assert data.metric == "log_loss" and set(data.tasks) <= {"binary", "multiclass"} and len(data.datasets) > 0
    evaluations = kb.evaluations("lightgbm")
    raw = evaluations.pivot(index="dataset", columns="config_id", values="log_loss").loc[data.datasets]
    prior = kb.metafeatures().loc[data.datasets, "class_ent"].astype(float) * np.log(2)
    expected = -raw.clip(upper=prior, axis=0)
    np.testing.assert_allclose(data.scores.to_numpy(), expected.to_numpy())
    # Better log-loss is a higher normalized score: the pool's lowest log-loss is its best.
    normalized = data.normalized()
    for dataset in data.datasets:
        assert normalized.loc[dataset, raw.loc[dataset].idxmin()] == 1.0


def test_a_meta_model_remembers_its_metric_and_refuses_another(metadata, tmp_path, corpus_path):
    _, _, folder = metadata
    model = MetaModel.from_knowledge_base(KnowledgeBase(folder), "lightgbm", metric="log_loss")
    assert model.metric_ == "log_loss"
    again = MetaModel.load(model.save(tmp_path / "m"))
    assert again.metric_ == "log_loss"
    data = corpus_path / "credit_g.tsv.gz"
    report = autometa.explain(data, n=2, metamodel=again, metric="log_loss")
    assert report["metamodel"]["metric"] == "log_loss" and len(report["suggestions"]) == 2
    with pytest.raises(DataError, match="learned from 'log_loss', not 'score'"):
        autometa.suggest(data, n=2, metamodel=again, metric="roc_auc")
    with pytest.raises(DataError, match="not recorded for a regression dataset"):
        autometa.suggest(corpus_path / "1027_ESL.tsv.gz", n=2, metric="log_loss")


def test_the_shipped_log_loss_meta_model_suggests_other_configurations(corpus_path):
    data = corpus_path / "credit_g.tsv.gz"
    by_auc = autometa.explain(data, n=3)
    by_loss = autometa.explain(data, n=3, metric="log_loss")
    assert by_auc["metamodel"]["metric"] == "score" and by_loss["metamodel"]["metric"] == "log_loss"
    assert [s.params for s in by_auc["suggestions"]] != [s.params for s in by_loss["suggestions"]]


def test_tune_minimizes_log_loss_in_its_own_study(corpus_path, tmp_path):
    url = f"sqlite:///{tmp_path / 'tune.db'}"
    data = corpus_path / "diabetes.tsv.gz"
    result = autometa.tune(data, trials=4, storage=url, max_rows=300, metric="log_loss", progress=False)
    # The pool phase, then the DeepKernelSampler, where torch is installed; else TPE (no log-loss
    # surrogate ships).
    torch = importlib.util.find_spec("torch") is not None
    assert result["metric"] == "log_loss" and result["sampler"] == ("transfer+deepkernel" if torch else "tpe")
    names = optuna.get_all_study_names(url)
    assert names == ["autometa-tune-lightgbm-diabetes-log_loss"]
    study = optuna.load_study(study_name=names[0], storage=url)
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    values = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert result["best_score"] == min(values) and 0 < min(values) < np.log(2)
    # the protocol's ROC-AUC kept beside (a degenerate proposal can reach 0.5, a constant prediction)
    assert all(0 <= t.user_attrs["score"] <= 1 for t in study.trials if t.state.name == "COMPLETE")
