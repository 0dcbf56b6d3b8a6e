"""General (simple) metafeatures: shape, column kinds, missing values, class balance, target shape.

Computed on the full data (no subsample). References: Michie et al., "Machine Learning,
Neural and Statistical Classification" (StatLog, 1994); Rivolli et al., "Meta-features for
meta-learning" (Knowledge-Based Systems, 2022), whose names pymfe uses and we keep.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from metafeatures._base import Failed, Group, Metafeature
from metafeatures._input import Prepared

STATLOG = "Michie et al. 1994 (StatLog)"
RIVOLLI = "Rivolli et al. 2022"


def class_entropy(counts: np.ndarray) -> float:
    """Shannon entropy (bits) of a distribution given by counts."""
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _compute(data: Prepared) -> dict:
    n = data.n_rows_full
    n_num, n_cat = data.numeric.shape[1], data.categorical.shape[1]
    n_attr = n_num + n_cat
    binary_numeric = data.binary_numeric_full
    out: dict = {
        "nr_inst": float(n),
        "nr_attr": float(n_attr),
        "nr_num": float(n_num),
        "nr_cat": float(n_cat),
        "nr_bin": float(binary_numeric + int(np.sum(data.n_levels == 2))),
        "attr_to_inst": n_attr / n,
        "inst_to_attr": n / n_attr,
        "cat_share": n_cat / n_attr,
        "missing_share": data.missing_share_full,
        "rows_with_missing_share": data.rows_with_missing_full,
        "cols_with_missing_share": data.cols_with_missing_full,
        "cat_levels": data.n_levels.astype(float),
    }
    if data.classification:
        counts = data.class_counts_full
        k = counts.size
        out.update(
            {
                "nr_class": float(k),
                "class_ent": class_entropy(counts),
                "class_ent_norm": class_entropy(counts) / np.log2(k),
                "freq_class": counts / counts.sum(),
                "majority_share": counts.max() / counts.sum(),
                "minority_share": counts.min() / counts.sum(),
                "imbalance_ratio": counts.max() / counts.min(),
            }
        )
    else:
        not_cls = Failed("classification only")
        out.update(
            {
                name: not_cls
                for name in (
                    "nr_class",
                    "class_ent",
                    "class_ent_norm",
                    "freq_class",
                    "majority_share",
                    "minority_share",
                    "imbalance_ratio",
                )
            }
        )
    if data.classification:
        reg_only = Failed("regression only")
        out.update({"target_skewness": reg_only, "target_kurtosis": reg_only, "target_unique_share": reg_only})
    else:
        y = data.y
        out["target_skewness"] = float(stats.skew(y)) if y.std() > 0 else Failed("constant target")
        out["target_kurtosis"] = float(stats.kurtosis(y)) if y.std() > 0 else Failed("constant target")
        out["target_unique_share"] = np.unique(y).size / y.size
    return out


GENERAL = Group(
    name="general",
    description="Shape, column kinds, missing values, class balance and target shape (full data).",
    compute=_compute,
    features=(
        Metafeature("nr_inst", "Number of rows (instances).", STATLOG),
        Metafeature("nr_attr", "Number of feature columns.", STATLOG),
        Metafeature("nr_num", "Number of numeric columns.", RIVOLLI),
        Metafeature("nr_cat", "Number of categorical columns.", RIVOLLI),
        Metafeature("nr_bin", "Number of columns with exactly two distinct values.", RIVOLLI),
        Metafeature("attr_to_inst", "nr_attr / nr_inst (dimensionality).", RIVOLLI),
        Metafeature("inst_to_attr", "nr_inst / nr_attr.", RIVOLLI),
        Metafeature("cat_share", "Share of the columns that are categorical (0 when all are numeric).", RIVOLLI),
        Metafeature("missing_share", "Share of missing cells in the features.", RIVOLLI),
        Metafeature("rows_with_missing_share", "Share of rows with at least one missing cell.", RIVOLLI),
        Metafeature("cols_with_missing_share", "Share of columns with at least one missing cell.", RIVOLLI),
        Metafeature("cat_levels", "Number of levels of each categorical column.", RIVOLLI, per_item=True),
        Metafeature("nr_class", "Number of classes (classification).", STATLOG),
        Metafeature("class_ent", "Shannon entropy (bits) of the class distribution.", STATLOG),
        Metafeature("class_ent_norm", "class_ent / log2(nr_class): 1 for balanced classes.", RIVOLLI),
        Metafeature("freq_class", "Relative frequency of each class.", RIVOLLI, per_item=True),
        Metafeature("majority_share", "Relative frequency of the most frequent class.", RIVOLLI),
        Metafeature("minority_share", "Relative frequency of the least frequent class.", RIVOLLI),
        Metafeature("imbalance_ratio", "Majority class count / minority class count.", RIVOLLI),
        Metafeature("target_skewness", "Skewness (Fisher-Pearson, biased) of a regression target.", RIVOLLI),
        Metafeature("target_kurtosis", "Excess kurtosis (biased) of a regression target.", RIVOLLI),
        Metafeature("target_unique_share", "Distinct regression target values / rows.", RIVOLLI),
    ),
)
