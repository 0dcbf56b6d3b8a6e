"""One conformance suite over every registered meta-model method, and the one-implementation checks:
the validation scores what the shipped MetaModel suggests, and each space owns its names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autometa.exceptions import NotFittedError
from autometa.metamodel import CANDIDATES, METHODS, Candidate, MetaModel, leave_group_out


@pytest.fixture(scope="module", params=sorted(METHODS))
def fitted(request, metadata):
    data, space, _ = metadata
    return request.param, MetaModel("lightgbm", request.param, members=2).fit(data, space)


def test_every_method_ranks_distinct_pool_configurations(fitted, metadata, corpus_path):
    import metafeatures
    from autometa.datasets import load_dataset

    name, model = fitted
    data, _, _ = metadata
    values = metafeatures.extract(load_dataset(corpus_path / "diabetes.tsv.gz"), random_state=0)
    ids, _ = model.rank_pool(values, 5)
    assert ids and len(ids) == len(set(ids)) and set(ids) <= set(data.configs.index), name
    assert len(ids) == (1 if name == "defaults" else 5)
    suggestions = model.suggest_configs(values, 3, random_state=0)
    assert suggestions and all(s.because for s in suggestions), name


def test_every_method_round_trips_through_its_files(fitted, metadata, tmp_path):
    name, model = fitted
    data, _, _ = metadata
    folder = model.save(tmp_path / name)
    loaded = MetaModel.load(folder)
    assert loaded.method == name and type(loaded.method_) is type(model.method_)
    for dataset in data.datasets[:4]:
        values = data.metafeatures.loc[dataset]
        assert loaded.rank_pool(values, 5) == model.rank_pool(values, 5), (name, dataset)
        assert [s.params for s in loaded.suggest_configs(values, 2, random_state=1)] == [
            s.params for s in model.suggest_configs(values, 2, random_state=1)
        ], (name, dataset)


def test_an_unfitted_metamodel_says_so():
    model = MetaModel("lightgbm")
    assert model.method == "knn_portfolio"  # the shipped default is everyone's default
    with pytest.raises(NotFittedError, match="not fitted yet.*MetaModel.load"):
        model.rank_pool(pd.Series(dtype=float), 1)
    with pytest.raises(AttributeError):  # generic handlers keep working
        model.save("never-written")


def test_validation_scores_exactly_what_the_shipped_metamodel_suggests(metadata):
    """leave_group_out's regret equals the regret of the configurations MetaModel.suggest_configs
    (what autometa.suggest returns) gives, fitted on the same training folds."""
    from autometa.groups import group_folds

    data, space, _ = metadata
    candidates = {name: CANDIDATES[name] for name in ("knn_portfolio", "knn", "portfolio")}
    candidates["surrogate"] = Candidate("surrogate", members=2)
    table = leave_group_out(data, space, candidates, budgets=(1, 3), folds=4).set_index(["dataset", "method"])
    regret = data.regret()
    configs = data.configs.astype(float)
    for held_out in group_folds(data, 4):
        train = data.subset([d for d in data.datasets if d not in held_out])
        for name, candidate in candidates.items():
            model = MetaModel("lightgbm", candidate.method, members=candidate.members).fit(train, space)
            for dataset in held_out:
                suggested = []
                for suggestion in model.suggest_configs(data.metafeatures.loc[dataset], 3):
                    row = np.array([float(suggestion.params[k]) for k in configs.columns])
                    matches = configs.index[np.isclose(configs.to_numpy(), row, rtol=1e-9, atol=0).all(axis=1)]
                    suggested.append(int(matches[0]) if len(matches) else None)
                if name == "surrogate":  # suggest also ranks fresh samples: compare the pool ranking
                    suggested = model.rank_pool(data.metafeatures.loc[dataset], 3)[0]
                for k in (1, 3):
                    expected = regret.loc[dataset, [c for c in suggested[:k]]].min()
                    assert table.loc[(dataset, name), f"regret@{k}"] == pytest.approx(expected), (name, dataset, k)


def test_a_space_owns_its_names():
    from autometa.spaces import get_space

    lightgbm, hgb = get_space("lightgbm"), get_space("hist_gradient_boosting")
    assert lightgbm.canonical({"eta": 0.1, "max_leaf_nodes": 7, "feature_fraction": 0.5}) == {
        "learning_rate": 0.1,
        "num_leaves": 7,
        "colsample_bytree": 0.5,
    }
    # LightGBM's names are not HistGradientBoosting's: nothing of one maps onto the other.
    assert hgb.canonical({"num_leaves": 7, "n_estimators": 50, "max_leaf_nodes": 9}) == {"max_leaf_nodes": 9}
    assert lightgbm.canonical({"max_features": 0.5}) == {}
    for space in (lightgbm, hgb):
        pool = pd.DataFrame(space.pool(8, seed=3))
        back = space.to_unit(pool)
        again = pd.DataFrame(
            [{k: p.from_unit(float(u)) for (k, p), u in zip(space.params.items(), row)} for row in back.to_numpy()]
        )
        pd.testing.assert_frame_equal(again, pool, check_dtype=False)


def test_the_hist_gradient_boosting_metasampler_reads_every_parameter(corpus_path, tmp_path_factory):
    """The surrogate of an HGB MetaSampler sees each HGB parameter of a candidate (not the defaults):
    the global LightGBM alias table used to rename max_iter, max_leaf_nodes, ... and drop them."""
    from autometa.collect import Plan, collect
    from autometa.knowledge import KnowledgeBase, build_metafeature_table
    from autometa.metamodel import MetaData
    from autometa.optuna import MetaSampler

    folder = tmp_path_factory.mktemp("hgb")
    plan = Plan(
        corpus=str(corpus_path),
        space="hist_gradient_boosting",
        storage=f"sqlite:///{folder / 's.db'}",
        out=str(folder / "kb"),
        n_configs=4,
        max_rows=150,
    )
    collect(plan, names=["iris", "pima", "monk1", "hayes_roth"], progress=False)
    build_metafeature_table(plan.out, corpus_path, progress=False)
    kb = KnowledgeBase(plan.out)
    data = MetaData.from_knowledge_base(kb, "hist_gradient_boosting")
    model = MetaModel("hist_gradient_boosting", "surrogate", members=1).fit(data, kb.space("hist_gradient_boosting"))
    sampler = MetaSampler(space="hist_gradient_boosting", metamodel=model, metafeatures=data.metafeatures.iloc[0])
    candidate = {
        "max_iter": 300,
        "learning_rate": 0.02,
        "max_leaf_nodes": 5,
        "min_samples_leaf": 90,
        "max_features": 0.3,
        "l2_regularization": 1.5,
    }
    seen = sampler.configurations([candidate]).iloc[0].to_dict()
    assert seen == pytest.approx(candidate)
    defaults = model.space_.defaults
    assert all(seen[k] != defaults[k] for k in candidate)
    # Each parameter moves the surrogate's input: the design differs from the defaults' in every column.
    assert sampler.predict([candidate, defaults]).shape == (2,)


def test_recorded_parameter_order_is_kept(metadata):
    """A space read from a manifest keeps the manifest's parameter order: a surrogate trained on
    columns in that order is asked in the same order after a save and a load."""
    from autometa.spaces import get_space

    data, space, _ = metadata
    recorded = {name: space.params[name].as_dict() for name in sorted(space.params)}
    ordered = get_space("lightgbm").with_ranges(recorded)
    assert list(ordered.params) == sorted(space.params)
    assert list(ordered.to_unit(data.configs).columns) == sorted(space.params)
