"""The dataset layer: one `Dataset` value, many sources (see :func:`load_dataset`)."""

from autometa.datasets._corpus import (
    GROUP_RULES,
    CorpusEntry,
    Grouping,
    add_to_corpus,
    corpus_grouping,
    corpus_groups,
    corpus_name,
    fingerprint,
    load_corpus,
    name_family,
    near_duplicate_groups,
    read_corpus_index,
    target_signature,
)
from autometa.datasets._dataset import TASKS, Dataset, build_dataset
from autometa.datasets._openml import openml_suite_dataset_ids
from autometa.datasets._sources import load_dataset

__all__ = [
    "GROUP_RULES",
    "TASKS",
    "CorpusEntry",
    "Grouping",
    "add_to_corpus",
    "corpus_grouping",
    "corpus_name",
    "Dataset",
    "build_dataset",
    "corpus_groups",
    "fingerprint",
    "load_corpus",
    "load_dataset",
    "name_family",
    "near_duplicate_groups",
    "openml_suite_dataset_ids",
    "target_signature",
    "read_corpus_index",
]
