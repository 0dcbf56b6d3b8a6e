"""Shared fixtures. Tests never touch the network; real data comes from ../shared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "datasets" / "pmlb"
OPENML_CACHE = SHARED / "openml-cache"


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    if not (CORPUS / "index.csv").is_file():
        pytest.fail(f"The shared corpus is missing at {CORPUS}; tests and CI expect ../shared beside the project.")
    return CORPUS


@pytest.fixture
def openml_cache(tmp_path: Path):
    """The openml client pointed at a private copy of the shared cache (the client writes into it).

    The server is a closed port on loopback, so a cache miss fails at once and never reaches out.
    """
    import openml

    copy = tmp_path / "openml-cache"
    shutil.copytree(OPENML_CACHE, copy)
    before = (openml.config.get_cache_directory(), openml.config.server)
    root_before = openml.config._root_cache_directory
    openml.config.set_root_cache_directory(copy)
    openml.config.server = "https://test.openml.org/api/v1/xml"
    yield copy
    openml.config.set_root_cache_directory(root_before)
    openml.config.server = before[1]


# -- a small real knowledge base, collected once per test session (meta-model and benchmark tests) --
NAMES = [
    "iris",
    "pima",
    "1027_ESL",
    "postoperative_patient_data",
    "analcatdata_boxing1",
    "192_vineyard",
    "monk1",
    "hayes_roth",
]


@pytest.fixture(scope="session")
def metadata(corpus_path, tmp_path_factory):
    """(MetaData, the SearchSpace with the ranges it was collected on, the knowledge-base folder) of 8 real
    datasets x 17 configs."""
    from autometa.collect import Plan, collect
    from autometa.knowledge import KnowledgeBase, build_metafeature_table
    from autometa.metamodel import MetaData

    folder = tmp_path_factory.mktemp("kb")
    plan = Plan(
        corpus=str(corpus_path),
        space="lightgbm",
        storage=f"sqlite:///{folder / 's.db'}",
        out=str(folder / "kb"),
        n_configs=16,
    )
    collect(plan, names=NAMES, progress=False)
    build_metafeature_table(plan.out, corpus_path, progress=False)
    kb = KnowledgeBase(plan.out)
    return MetaData.from_knowledge_base(kb, "lightgbm"), kb.space("lightgbm"), plan.out
