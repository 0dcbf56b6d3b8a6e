"""Statistical metafeatures of the numeric columns (on the subsample).

As in pymfe's default, categorical columns take part through the dummies of their (at most 10
most frequent) levels, so the group is defined on all-categorical data too.

Skewness and kurtosis use pymfe's default estimator (method 3: ``m3 / s**3`` and
``m4 / s**4 - 3`` with ``s`` the ddof=1 standard deviation); missing cells are ignored per
column. Correlations and PCA use median-imputed columns, at most 200 (seeded random) of
wider data.
"""

from __future__ import annotations

import numpy as np

from metafeatures._base import Failed, Group, Metafeature
from metafeatures._input import Prepared

STATLOG = "Michie et al. 1994 (StatLog)"
CASTIELLO = "Castiello et al. 2005"
RIVOLLI = "Rivolli et al. 2022"
LORENA = "Lorena et al. 2019 (complexity measures)"


def _moments(numeric: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column: count, mean, ddof=1 sd, and centred values (NaN kept)."""
    count = np.sum(~np.isnan(numeric), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(numeric, axis=0) / count
        centred = numeric - mean
        sd = np.sqrt(np.nansum(centred**2, axis=0) / (count - 1))
    return count, mean, sd, centred


def _target_association(x: np.ndarray, y: np.ndarray, classification: bool) -> np.ndarray:
    """|Pearson correlation| with a regression target, or the correlation ratio (eta) with classes."""
    if classification:
        overall = x.mean(axis=0)
        total = ((x - overall) ** 2).sum(axis=0)
        between = np.zeros(x.shape[1])
        for c in np.unique(y):
            rows = x[y == c]
            between += rows.shape[0] * (rows.mean(axis=0) - overall) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(between / total)
    xc, yc = x - x.mean(axis=0), y - y.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(xc.T @ yc) / np.sqrt((xc**2).sum(axis=0) * (yc**2).sum())


def _compute(data: Prepared) -> dict:
    numeric = data.numeric_view
    if numeric.shape[1] == 0:
        return {}  # every feature: NaN, "not returned" -> reason below in extractor
    count, mean, sd, centred = _moments(numeric)
    with np.errstate(invalid="ignore", divide="ignore"):
        m3 = np.nansum(centred**3, axis=0) / count
        m4 = np.nansum(centred**4, axis=0) / count
        usable = sd > 0
        skewness = np.where(usable, m3 / sd**3, np.nan)
        kurtosis = np.where(usable, m4 / sd**4 - 3.0, np.nan)
        cv = np.where(np.abs(mean) > 0, sd / np.abs(mean), np.nan)
    q1, median, q3 = np.nanquantile(numeric, [0.25, 0.5, 0.75], axis=0) if numeric.size else (None,) * 3
    iqr = q3 - q1
    outside = (numeric < (q1 - 1.5 * iqr)) | (numeric > (q3 + 1.5 * iqr))
    nr_outliers = int(np.sum(np.any(outside, axis=0)))
    unique_share = np.array([np.unique(col[~np.isnan(col)]).size for col in numeric.T]) / np.maximum(count, 1)
    out: dict = {
        "skewness": skewness,
        "kurtosis": kurtosis,
        "sd": sd,
        "iq_range": iqr,
        "cv": cv,
        "unique_share": unique_share,
        "outlier_share": outside.sum(axis=0) / np.maximum(count, 1),
        "nr_outliers": float(nr_outliers),
        "outlier_cols_share": nr_outliers / numeric.shape[1],
    }
    imputed = np.hstack([data.numeric_imputed, np.nan_to_num(data.one_hot, nan=0.0)])
    varying = imputed[:, imputed.std(axis=0) > 0] if imputed.size else imputed
    out["target_assoc"] = (
        _target_association(varying, data.y, data.classification)
        if varying.shape[1]
        else Failed("no varying numeric column")
    )
    varying_capped = data.capped_columns(varying)
    if varying.shape[1] >= 2:
        varying = varying_capped
        corr = np.abs(np.corrcoef(varying, rowvar=False))
        pairs = corr[np.tril_indices(corr.shape[0], k=-1)]
        out["cor"] = pairs
        out["nr_cor_attr"] = float(np.mean(pairs >= 0.5))
        scaled = (varying - varying.mean(axis=0)) / varying.std(axis=0)
        singular = np.linalg.svd(scaled, compute_uv=False)
        explained = singular**2 / np.sum(singular**2)
        cumulative = np.cumsum(explained)
        out["pca_95"] = float((np.searchsorted(cumulative, 0.95) + 1) / varying.shape[1])
        out["pca_first"] = float(explained[0])
        out["pca_ent"] = float(
            -(explained[explained > 0] * np.log(explained[explained > 0])).sum() / np.log(explained.size)
        )
    else:
        reason = Failed("needs at least 2 varying numeric columns")
        out.update({k: reason for k in ("cor", "nr_cor_attr", "pca_95", "pca_first", "pca_ent")})
    return out


STATISTICAL = Group(
    name="statistical",
    description="Distribution shape, spread, outliers, correlation and PCA of numeric columns (subsample).",
    compute=_compute,
    features=(
        Metafeature("skewness", "Skewness of each numeric column, m3 / s^3 (pymfe method 3).", STATLOG, per_item=True),
        Metafeature(
            "kurtosis", "Excess kurtosis of each numeric column, m4 / s^4 - 3 (pymfe method 3).", STATLOG, per_item=True
        ),
        Metafeature("sd", "Standard deviation (ddof=1) of each numeric column.", RIVOLLI, per_item=True),
        Metafeature("iq_range", "Interquartile range of each numeric column.", RIVOLLI, per_item=True),
        Metafeature("cv", "Coefficient of variation sd / |mean| of each numeric column.", RIVOLLI, per_item=True),
        Metafeature(
            "unique_share", "Distinct values / non-missing rows of each numeric column.", RIVOLLI, per_item=True
        ),
        Metafeature(
            "outlier_share",
            "Share of values outside [q1 - 1.5 IQR, q3 + 1.5 IQR], per numeric column.",
            RIVOLLI,
            per_item=True,
        ),
        Metafeature(
            "nr_outliers",
            "Number of numeric columns with at least one value outside the 1.5-IQR whiskers (pymfe's definition).",
            RIVOLLI,
        ),
        Metafeature("outlier_cols_share", "nr_outliers / number of numeric columns.", RIVOLLI),
        Metafeature(
            "target_assoc",
            "Per numeric column: |Pearson r| with a regression target, or the correlation ratio eta with the classes.",
            LORENA,
            per_item=True,
        ),
        Metafeature("cor", "|Pearson correlation| of each pair of numeric columns.", CASTIELLO, per_item=True),
        Metafeature("nr_cor_attr", "Share of numeric column pairs with |correlation| >= 0.5.", RIVOLLI),
        Metafeature(
            "pca_95",
            "Principal components needed for 95% of the variance (standardized columns) / number of columns.",
            LORENA,
        ),
        Metafeature(
            "pca_first", "Share of the variance on the first principal component (standardized columns).", RIVOLLI
        ),
        Metafeature(
            "pca_ent", "Normalized entropy of the PCA explained-variance ratios (1: no dominant direction).", RIVOLLI
        ),
    ),
)
