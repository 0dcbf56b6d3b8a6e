"""`autometa suggest` and `autometa tune`, in-process."""

import json

import pytest

from autometa import DataError
from autometa.cli import main
from autometa.metamodel import MetaModel


@pytest.fixture
def saved_model(metadata, tmp_path):
    data, params, _ = metadata
    return str(MetaModel("lightgbm", "knn").fit(data, params).save(tmp_path / "mm"))


def test_suggest_json_and_table(corpus_path, saved_model, capsys):
    path = str(corpus_path / "diabetes.tsv.gz")
    assert main(["suggest", path, "-n", "2", "--metamodel", saved_model, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    suggestions = report["suggestions"]
    assert len(suggestions) == 2 and "num_leaves" in suggestions[0]["params"] and suggestions[0]["rank"] == 1
    assert report["space"] == "lightgbm" and report["task"] == "binary" and report["learner"] == "LGBMClassifier"
    assert report["metamodel"]["method"] == "knn" and report["neighbours"][0]["dataset"] in ("diabetes", "pima")
    assert main(["suggest", path, "-n", "2", "--metamodel", saved_model]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# LGBMClassifier (lightgbm) for diabetes (binary)")
    assert "was learned from" not in out  # diabetes is not in this knowledge base (pima is)
    assert main(["suggest", str(corpus_path / "credit_g.tsv.gz"), "-n", "1"]) == 0
    assert "was learned from" in capsys.readouterr().out  # credit_g is in the shipped one: said so
    assert "\n#1 " in out and "\n#2 " in out and out.index("#1 ") < out.index("#2 ")


def test_suggest_errors(corpus_path, saved_model, capsys, tmp_path):
    assert main(["suggest", str(corpus_path / "diabetes.tsv.gz"), "--space", "nope", "--metamodel", saved_model]) == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    assert main(["suggest", str(corpus_path / "diabetes.tsv.gz"), "--metamodel", str(tmp_path / "none")]) == 2
    assert "No meta-model at" in capsys.readouterr().err


def test_tune_warm_started_and_resumed(corpus_path, saved_model, tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    out = tmp_path / "best.json"
    argv = [
        "tune",
        str(corpus_path / "diabetes.tsv.gz"),
        "--trials",
        "4",
        "--metamodel",
        saved_model,
        "--storage",
        storage,
        "--out",
        str(out),
        "--quiet",
        "--max-rows",
        "400",
    ]
    assert main(argv) == 0
    first = json.loads(out.read_text())
    assert first["trials"] == 4 and first["warm_started"] and 0.5 < first["best_score"] <= 1
    assert main([*argv[:3], "6", *argv[4:]]) == 0  # same study, 2 more trials
    assert json.loads(out.read_text())["trials"] == 6
    assert main([*argv, "--no-warm-start", "--storage", f"sqlite:///{tmp_path / 'cold.db'}"]) == 0
    assert "best roc_auc" in capsys.readouterr().out


def test_tune_continues_with_the_metasampler(corpus_path, saved_model, metadata, tmp_path, monkeypatch):
    from autometa import tune
    from autometa.optuna import MetaSampler

    data, params, _ = metadata
    surrogate = str(MetaModel("lightgbm", "surrogate", members=2).fit(data, params).save(tmp_path / "surrogate"))
    screened = []
    predict = MetaSampler.predict
    monkeypatch.setattr(
        MetaSampler, "predict", lambda self, candidates: screened.append(len(candidates)) or predict(self, candidates)
    )
    kwargs = dict(trials=13, metamodel=saved_model, max_rows=300, progress=False)
    storage = f"sqlite:///{tmp_path / 'meta.db'}"
    meta = tune(corpus_path / "diabetes.tsv.gz", sampler="meta", sampler_metamodel=surrogate, storage=storage, **kwargs)
    assert meta["sampler"] == "meta" and meta["trials"] == 13
    # 5 warm-start trials and TPE's 5 remaining random start-up trials, then one screening of
    # 8 TPE candidates for each of the last 3 trials.
    assert screened == [8, 8, 8]
    cold = tune(corpus_path / "diabetes.tsv.gz", sampler="tpe", storage=f"sqlite:///{tmp_path / 'tpe.db'}", **kwargs)
    assert cold["sampler"] == "tpe" and screened == [8, 8, 8]

    import optuna

    def params_of(url):
        name = optuna.get_all_study_names(url)[0]
        return [t.params for t in optuna.load_study(study_name=name, storage=url).trials]

    with_screening, without = params_of(storage), params_of(f"sqlite:///{tmp_path / 'tpe.db'}")
    assert with_screening[:10] == without[:10]  # same warm start and start-up trials
    assert with_screening[10:] != without[10:]  # then the surrogate chose among TPE's proposals


def test_tune_sampler_auto_and_errors(corpus_path, saved_model, capsys, monkeypatch):
    import importlib.util

    from autometa._tune import _sampler_factory, auto_sampler
    from autometa.datasets import load_dataset

    dataset = load_dataset(corpus_path / "diabetes.tsv.gz")
    if importlib.util.find_spec("torch") is not None:  # the pool phase, then the deep kernel, every shipped space
        assert _sampler_factory("auto", "default", True, "lightgbm", dataset).name == "transfer+deepkernel"
        assert auto_sampler(True, "hist_gradient_boosting") == "transfer+deepkernel"
    assert auto_sampler(True, "lightgbm", metamodel=saved_model) in ("meta", "tpe")  # no pool scores
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else find_spec(name, *a))
    assert _sampler_factory("auto", "default", True, "lightgbm", dataset).name == "meta"  # shipped surrogate
    assert _sampler_factory("auto", "default", False, "lightgbm", dataset).name == "tpe"
    assert _sampler_factory("auto", "default", True, "hist_gradient_boosting", dataset).name == "tpe"
    monkeypatch.undo()
    # With a timeout, tune asks the TransferSampler for expected improvement per expected second.
    per_second = _sampler_factory("transfer", "default", True, "lightgbm", dataset, cost_exponent=1.0)(0)
    assert per_second.expected_cost().shape == (257,)
    with pytest.raises(DataError, match="no cost model"):
        _sampler_factory("transfer", "default", True, "lightgbm", dataset)(0).expected_cost()
    argv = ["tune", str(corpus_path / "diabetes.tsv.gz"), "--trials", "2", "--quiet", "--max-rows", "200"]
    assert main([*argv, "--space", "hist_gradient_boosting", "--sampler", "meta"]) == 2
    assert "No surrogate meta-model ships for space 'hist_gradient_boosting'" in capsys.readouterr().err
    assert main([*argv, "--sampler", "meta", "--sampler-metamodel", saved_model]) == 2
    assert "method='surrogate'" in capsys.readouterr().err


def test_metamodel_fit_command(metadata, tmp_path, capsys):
    from autometa.knowledge import KnowledgeBase

    location = str(metadata_location(metadata))
    assert (
        main(["metamodel", "fit", "--location", location, "--method", "portfolio", "--out", str(tmp_path / "m")]) == 0
    )
    assert "portfolio meta-model for lightgbm fitted on 8 datasets" in capsys.readouterr().out
    assert MetaModel.load(tmp_path / "m").method == "portfolio"
    assert KnowledgeBase(location).manifest("lightgbm")["pool"]["size"] == 17


def metadata_location(metadata):
    return metadata[2]


def test_tune_with_the_transfer_sampler(corpus_path, tmp_path, capsys):
    import optuna

    import autometa

    data, out, url = corpus_path / "diabetes.tsv.gz", tmp_path / "best.json", f"sqlite:///{tmp_path / 't.db'}"
    argv = ["tune", str(data), "--trials", "4", "--quiet", "--max-rows", "300", "--storage", url]
    assert main([*argv, "--sampler", "transfer", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["sampler"] == "transfer" and result["trials"] == 4 and "sampler transfer" in capsys.readouterr().out
    trials = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url).trials
    first = autometa.suggest(data, n=1)[0].params
    # Nothing enqueued: the sampler's own first proposal is the first suggestion.
    assert all(t.user_attrs.get("autometa") is None for t in trials)
    assert trials[0].params["num_leaves"] == first["num_leaves"]
    assert trials[0].params["learning_rate"] == pytest.approx(first["learning_rate"])


def test_tune_with_the_deep_kernel_sampler(corpus_path, tmp_path):
    """The FSBO-style sampler through `autometa tune`: its first trials are the suggestions (none
    enqueued), then the fine-tuned GP proposes configurations not tried yet."""
    pytest.importorskip("torch")
    import optuna

    import autometa

    data, url = corpus_path / "diabetes.tsv.gz", f"sqlite:///{tmp_path / 't.db'}"
    result = autometa.tune(
        data, trials=5, max_rows=300, storage=url, sampler="deepkernel", n_suggestions=2, progress=False
    )
    assert result["sampler"] == "deepkernel" and result["trials"] == 5
    trials = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url).trials
    assert all(t.user_attrs.get("autometa") is None for t in trials)
    for trial, suggestion in zip(trials, autometa.suggest(data, n=2)):
        assert trial.params["num_leaves"] == suggestion.params["num_leaves"]
        assert trial.params["learning_rate"] == pytest.approx(suggestion.params["learning_rate"])
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 5


def test_tune_warm_starts_each_sampler_with_its_own_number_of_suggestions(corpus_path, tmp_path):
    """`n_suggestions=None` (the default) means the sampler's own warm start: one pick before the
    DeepKernelSampler's GP (as its benchmarks ran it), the same study as asking for 1."""
    pytest.importorskip("torch")
    import optuna

    import autometa
    from autometa.exceptions import DataError

    data, runs = corpus_path / "diabetes.tsv.gz", []
    for name, extra in (("default", {}), ("one", {"n_suggestions": 1})):
        url = f"sqlite:///{tmp_path / (name + '.db')}"
        autometa.tune(data, trials=3, max_rows=200, storage=url, sampler="deepkernel", progress=False, **extra)
        study = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url)
        runs.append([(t.params, t.value) for t in study.trials])
    assert runs[0] == runs[1]
    assert runs[0][0][0]["num_leaves"] == autometa.suggest(data, n=1)[0].params["num_leaves"]
    with pytest.raises(DataError, match="n_suggestions must be a positive integer"):
        autometa.tune(data, trials=3, n_suggestions=0, progress=False)


def test_tune_with_the_transfer_sampler_then_the_deep_kernel(corpus_path, tmp_path):
    """`--sampler transfer+deepkernel`: the TransferSampler's 10 pool trials (the same as
    `--sampler transfer`'s), then the DeepKernelSampler proposes."""
    pytest.importorskip("torch")
    import optuna

    import autometa

    data = corpus_path / "diabetes.tsv.gz"
    runs = {}
    for sampler in ("transfer", "transfer+deepkernel"):
        url = f"sqlite:///{tmp_path / (sampler + '.db')}"
        result = autometa.tune(data, trials=12, max_rows=200, storage=url, sampler=sampler, progress=False)
        assert result["sampler"] == sampler and result["trials"] == 12
        runs[sampler] = [
            t.params for t in optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url).trials
        ]
    assert runs["transfer"][:10] == runs["transfer+deepkernel"][:10]
    assert runs["transfer"][10:] != runs["transfer+deepkernel"][10:]  # TPE's proposals, or the GP's
    assert len({tuple(sorted(p.items())) for p in runs["transfer+deepkernel"]}) == 12
