"""The dataset layer: one `Dataset` value, many sources (see :func:`load_dataset`)."""

from autometa.datasets._corpus import (
    CorpusEntry,
    corpus_groups,
    fingerprint,
    load_corpus,
    near_duplicate_groups,
    read_corpus_index,
)
from autometa.datasets._dataset import TASKS, Dataset, build_dataset
from autometa.datasets._sources import load_dataset

__all__ = [
    "TASKS",
    "CorpusEntry",
    "Dataset",
    "build_dataset",
    "corpus_groups",
    "fingerprint",
    "load_corpus",
    "load_dataset",
    "near_duplicate_groups",
    "read_corpus_index",
]
