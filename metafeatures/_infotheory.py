"""Information-theoretic metafeatures (on the subsample), in bits.

Numeric columns are discretized into ``floor(n ** (1/3))`` equal-frequency bins (pymfe's
default); categorical columns are used as they are, a missing cell being its own value. A
regression target is discretized the same way, so every feature here exists for regression too.
"""

from __future__ import annotations

import numpy as np

from metafeatures._base import Failed, Group, Metafeature
from metafeatures._input import Prepared

STATLOG = "Michie et al. 1994 (StatLog)"
KALOUSIS = "Kalousis and Hilario 2001"


def equal_frequency_bins(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index of each value; edges are the upper quantiles, repeated edges merged; NaN -> -1."""
    present = ~np.isnan(values)
    out = np.full(values.shape, -1, dtype=np.int64)
    if not present.any():
        return out
    edges = np.unique(np.quantile(values[present], np.linspace(0, 1, n_bins + 1)[1:]))
    out[present] = np.digitize(values[present], edges, right=True)
    return out


def _entropy(codes: np.ndarray) -> float:
    _, counts = np.unique(codes, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _joint_entropy(a: np.ndarray, b: np.ndarray) -> float:
    return _entropy(a.astype(np.int64) * (int(b.max()) + 2) + (b.astype(np.int64) + 1))


def _compute(data: Prepared) -> dict:
    n_bins = max(2, int(data.n_rows ** (1 / 3)))
    columns = [equal_frequency_bins(col, n_bins) for col in data.numeric.T] + list(data.categorical.T)
    if not columns:
        return {}
    target = data.y if data.classification else equal_frequency_bins(data.y, n_bins)
    target_ent = _entropy(target)
    attr_ent = np.array([_entropy(c) for c in columns])
    joint_ent = np.array([_joint_entropy(c, target) for c in columns])
    mut_inf = np.maximum(attr_ent + target_ent - joint_ent, 0.0)
    mean_mi = float(mut_inf.mean())
    with np.errstate(invalid="ignore", divide="ignore"):
        norm_attr_ent = np.array(
            [e / np.log2(np.unique(c).size) if np.unique(c).size > 1 else np.nan for e, c in zip(attr_ent, columns)]
        )
    no_info = Failed("mean mutual information is 0")
    return {
        "attr_ent": attr_ent,
        "attr_ent_norm": norm_attr_ent,
        "joint_ent": joint_ent,
        "mut_inf": mut_inf,
        "target_ent": target_ent,
        "eq_num_attr": target_ent / mean_mi if mean_mi > 0 else no_info,
        "ns_ratio": (float(attr_ent.mean()) - mean_mi) / mean_mi if mean_mi > 0 else no_info,
        "max_mut_inf_norm": float(mut_inf.max() / target_ent) if target_ent > 0 else Failed("target entropy is 0"),
    }


INFO_THEORY = Group(
    name="info-theory",
    description="Entropies and mutual information of (discretized) columns and target (subsample).",
    compute=_compute,
    features=(
        Metafeature("attr_ent", "Shannon entropy of each (discretized) column.", STATLOG, per_item=True),
        Metafeature("attr_ent_norm", "attr_ent / log2(distinct values) of each column.", KALOUSIS, per_item=True),
        Metafeature("joint_ent", "Joint entropy of each column with the (discretized) target.", STATLOG, per_item=True),
        Metafeature(
            "mut_inf", "Mutual information of each column with the (discretized) target.", STATLOG, per_item=True
        ),
        Metafeature("target_ent", "Entropy of the target (classes, or the discretized regression target).", STATLOG),
        Metafeature("eq_num_attr", "target_ent / mean(mut_inf): columns needed to explain the target.", STATLOG),
        Metafeature("ns_ratio", "(mean(attr_ent) - mean(mut_inf)) / mean(mut_inf): noise-signal ratio.", STATLOG),
        Metafeature(
            "max_mut_inf_norm",
            "max(mut_inf) / target_ent: share of the target's entropy explained by the best column.",
            KALOUSIS,
        ),
    ),
)
