"""A user's own finished Optuna studies as extra meta-data of a MetaModel."""

import optuna
import pytest

from autometa import DataError, tune
from autometa.knowledge import KnowledgeBase
from autometa.metamodel import MetaModel, StudySource, metadata_from_studies


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory, corpus_path):
    """A real 8-trial LightGBM study (no warm start) on a dataset the small knowledge base lacks."""
    url = f"sqlite:///{tmp_path_factory.mktemp('studies') / 'user.db'}"
    path = corpus_path / "breast_cancer.tsv.gz"
    result = tune(path, trials=8, warm_start=False, storage=url, folds=2, progress=False)
    return url, f"autometa-tune-lightgbm-{result['dataset']}", path, result


def test_studies_become_sparse_metadata(finished_study):
    url, name, path, result = finished_study
    extra = metadata_from_studies([(url, name, path)], "lightgbm")
    assert extra.datasets == [f"study:{name}"]
    assert len(extra.configs) == 8 and extra.configs.index.min() >= 1_000_000
    normalized = extra.normalized().loc[f"study:{name}"]
    assert normalized.max() == 1.0 and normalized.min() == 0.0
    best_id = normalized.idxmax()
    assert extra.configs.loc[best_id].to_dict() == pytest.approx(
        {k: v for k, v in result["best_params"].items() if k in extra.configs.columns}
    )


@pytest.mark.parametrize("method", ["knn", "knn_portfolio", "surrogate"])
def test_metamodel_learns_from_a_study(metadata, finished_study, method):
    _, _, kb_folder = metadata
    url, name, path, result = finished_study
    model = MetaModel.from_knowledge_base(
        KnowledgeBase(kb_folder), "lightgbm", method, members=2, studies=[StudySource(url, name, path)]
    )
    assert f"study:{name}" in model.reference_.index
    assert model.provenance_["knowledge_base"]["studies"] == [f"study:{name}"]
    assert len(model.portfolio_) > 0 and all(c < 1_000_000 for c in model.portfolio_)
    if method in ("knn", "knn_portfolio"):
        # The study's own dataset is at distance 0: its best trial comes first.
        first = model.suggest_configs(model_metafeatures(path), 1)[0]
        assert f"study:{name}" in first.because
        assert first.params["num_leaves"] == result["best_params"]["num_leaves"]


def model_metafeatures(path):
    import metafeatures
    from autometa.datasets import load_dataset

    return metafeatures.extract(load_dataset(path), random_state=0)


def test_study_errors_are_clear(finished_study, tmp_path, corpus_path):
    url, name, path, _ = finished_study
    with pytest.raises(DataError, match="No study named 'nope'"):
        metadata_from_studies([(url, "nope", path)], "lightgbm")
    with pytest.raises(DataError, match=r"\(storage URL, study name, dataset"):
        metadata_from_studies(["just-a-string"], "lightgbm")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    study = optuna.create_study(study_name="svm", storage=other, direction="maximize")
    study.optimize(lambda t: t.suggest_float("C", 0.1, 10.0) * 0.01, n_trials=5)
    with pytest.raises(DataError, match="none of which is a parameter of space 'lightgbm'"):
        metadata_from_studies([(other, "svm", path)], "lightgbm")
    few = optuna.create_study(study_name="few", storage=other, direction="minimize")
    few.optimize(lambda t: t.suggest_float("eta", 0.01, 0.3), n_trials=2)
    with pytest.raises(DataError, match="2 completed trials; at least 5"):
        metadata_from_studies([(other, "few", path)], "lightgbm")
