"""A small real knowledge base, collected once for the meta-model tests."""

import pytest

from autometa.collect import Plan, collect
from autometa.knowledge import KnowledgeBase, build_metafeature_table
from autometa.metamodel import MetaData

NAMES = ["iris", "pima", "1027_ESL", "postoperative_patient_data", "analcatdata_boxing1", "192_vineyard",
         "monk1", "hayes_roth"]


@pytest.fixture(scope="session")
def metadata(corpus_path, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kb")
    plan = Plan(corpus=str(corpus_path), space="lightgbm", storage=f"sqlite:///{folder / 's.db'}",
                out=str(folder / "kb"), n_configs=16)
    collect(plan, names=NAMES, progress=False)
    build_metafeature_table(plan.out, corpus_path, progress=False)
    kb = KnowledgeBase(plan.out)
    return MetaData.from_knowledge_base(kb, "lightgbm"), kb.manifest("lightgbm")["space"]["params"], plan.out


