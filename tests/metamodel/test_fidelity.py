"""A second fidelity: a meta-model learned from a pool subset measured on more rows advises the
datasets nearer that size (issue: advice that holds at full size)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autometa.collect import Plan, collect

NAMES = ["banana", "phoneme", "churn", "ring"]  # 5,000-7,400 rows: more than the 2,000-row cap
SUBSET = (1, 2, 4)


@pytest.fixture(scope="module")
def two_fidelities(corpus_path, tmp_path_factory):
    """A knowledge base of 4 real datasets: 5 pool configurations on 2,000 rows, and 3 of them on
    2,500 rows as its second fidelity (``rows-2500/``)."""
    from autometa.knowledge import build_metafeature_table

    folder = tmp_path_factory.mktemp("fidelity")
    first = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{folder / 'a.db'}",
        out=str(folder / "kb"),
        n_configs=4,
    )
    collect(first, names=NAMES, progress=False)
    build_metafeature_table(first.out, corpus_path, progress=False)
    second = Plan(
        **{
            **first.__dict__,
            "storage": f"sqlite:///{folder / 'b.db'}",
            "out": str(folder / "kb" / "rows-2500"),
            "max_rows": 2500,
            "config_ids": SUBSET,
        }
    )
    collect(second, names=NAMES, progress=False)
    return folder


def test_a_large_dataset_is_advised_from_the_fidelity_nearest_its_size(two_fidelities, corpus_path):
    import autometa
    from autometa import DataError
    from autometa._suggest import load_metamodel
    from autometa.knowledge import KnowledgeBase
    from autometa.metamodel import MetaData, MetaModel, fidelity_folder

    kb = KnowledgeBase(two_fidelities / "kb")
    metadata = MetaData.from_knowledge_base(kb, "lightgbm", rows=2500)
    assert sorted(metadata.datasets) == sorted(NAMES) and list(metadata.scores.columns) == list(SUBSET)
    assert metadata.groups.notna().all() and metadata.costs.notna().all().all()
    with pytest.raises(DataError, match="no fidelity of 9999 rows; it has \\[2500\\]"):
        MetaData.from_knowledge_base(kb, "lightgbm", rows=9999)

    folder = two_fidelities / "model"
    main = MetaModel.from_knowledge_base(kb, "lightgbm", neighbours=2).save(folder)
    sized = MetaModel.from_knowledge_base(kb, "lightgbm", neighbours=2, rows=2500).save(folder / "rows-2500")
    assert MetaModel.load(sized).provenance_["knowledge_base"]["max_rows"] == 2500
    assert MetaModel.load(main).provenance_["knowledge_base"]["max_rows"] == 2000
    # Nearest on a log scale; larger than every cap: the largest; no row count: the main model.
    assert fidelity_folder(folder, 100) == folder and fidelity_folder(folder, 2200) == folder
    assert fidelity_folder(folder, 2300) == folder / "rows-2500"
    assert fidelity_folder(folder, 10**6) == folder / "rows-2500" and fidelity_folder(folder, None) == folder
    assert fidelity_folder(folder / "rows-2500", 10) == folder / "rows-2500"  # no subfolders of its own

    # suggest on a 5,404-row dataset: the fidelity's meta-model, choosing among its 3 configurations.
    report = autometa.explain(corpus_path / "phoneme.tsv.gz", n=5, metamodel=str(folder))
    assert report["metamodel"]["max_rows"] == 2500 and len(report["suggestions"]) == 3
    pool = metadata.configs
    chosen = {tuple(round(float(s.params[p]), 6) for p in pool.columns) for s in report["suggestions"]}
    assert chosen == {tuple(round(float(v), 6) for v in pool.loc[c]) for c in SUBSET}
    # A 1,000-row dataset: the main model, which knows all 5.
    small = autometa.explain(corpus_path / "credit_g.tsv.gz", n=5, metamodel=str(folder))
    assert small["metamodel"]["max_rows"] == 2000 and len(small["suggestions"]) == 5
    # A task kind the fidelity never saw: the main model's advice (it refuses too, plainly).
    assert fidelity_folder(folder, 10**6, "regression") == folder
    with pytest.raises(DataError, match="learned from binary datasets only, not multiclass"):
        autometa.explain(corpus_path / "letter.tsv.gz", n=5, metamodel=str(folder))
    # The sampler role never switches: samplers work on the main pool.
    assert load_metamodel(str(folder), "lightgbm", rows=10**6).provenance_["knowledge_base"]["max_rows"] == 2500
    sampler = load_metamodel(str(folder), "lightgbm", role="sampler", rows=10**6)
    assert sampler.provenance_["knowledge_base"]["max_rows"] == 2000
    assert Path(folder / "rows-2500" / "metamodel.json").is_file()


def test_metamodel_fit_cli_learns_from_a_fidelity(two_fidelities, capsys):
    from autometa.cli import main
    from autometa.metamodel import MetaModel

    out = two_fidelities / "cli-model" / "rows-2500"
    args = ["metamodel", "fit", "--location", str(two_fidelities / "kb"), "--fidelity", "2500"]
    assert main([*args, "--neighbours", "2", "--out", str(out)]) == 0
    assert "fitted on 4 datasets" in capsys.readouterr().out
    assert MetaModel.load(out).provenance_["knowledge_base"]["max_rows"] == 2500


@pytest.mark.parametrize("sampler", ["transfer+deepkernel", "deepkernel", "tpe"])
def test_tune_takes_its_first_trials_from_the_fidelity_nearest_the_rows_it_cross_validates(
    two_fidelities, corpus_path, sampler
):
    """tune on 5,404 rows starts where the 2,500-row meta-model advises; capped at 1,000 rows,
    where the 2,000-row one does (the sampler after it learns on the main pool either way)."""
    pytest.importorskip("torch") if "deepkernel" in sampler else None
    from autometa._suggest import load_metamodel
    from autometa._tune import tune
    from autometa.datasets import load_dataset
    from autometa.knowledge import KnowledgeBase
    from autometa.metamodel import MetaModel

    kb, folder = KnowledgeBase(two_fidelities / "kb"), two_fidelities / f"tune-{sampler}"
    MetaModel.from_knowledge_base(kb, "lightgbm", neighbours=2).save(folder)
    MetaModel.from_knowledge_base(kb, "lightgbm", neighbours=2, rows=2500).save(folder / "rows-2500")
    data = load_dataset(corpus_path / "phoneme.tsv.gz")
    tops = {}
    for cap, expected in ((None, 2500), (1000, 2000)):
        result = tune(data, trials=2, folds=2, max_rows=cap, metamodel=str(folder), sampler=sampler, progress=False)
        assert result["advice_max_rows"] == expected and result["rows"] == min(data.n_rows, cap or data.n_rows)
        model = load_metamodel(str(folder), "lightgbm", rows=result["rows"], task=data.task)
        assert model.max_rows == expected
        top = tops[expected] = model.suggest_configs(model.describe(data), 1)[0].params
        # The first trial is that model's top suggestion (tune reports the learner's parameters of
        # its best trial; a 2-trial study run again with trials=1 gives the first one).
        first = tune(data, trials=1, folds=2, max_rows=cap, metamodel=str(folder), sampler=sampler, progress=False)
        assert first["best_trial"] == 0
        for name, value in top.items():
            assert first["best_params"][name] == pytest.approx(value, rel=1e-6), name
    assert tops[2500] != tops[2000]  # else the check above could not tell the two models apart
