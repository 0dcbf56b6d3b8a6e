"""Agreement with pymfe (the reference extractor) for the features defined the same way.

Runs when pymfe is installed (the `peers` extra; CI installs it). Numeric-only data, no
subsampling (pymfe does not subsample), and pymfe's own summaries (mean, sd).
"""

import pytest

import metafeatures
from autometa import load_dataset

pytest.importorskip("pymfe")

SAME_DEFINITION = {
    # ours: pymfe
    "nr_inst": "nr_inst",
    "nr_attr": "nr_attr",
    "nr_num": "nr_num",
    "nr_class": "nr_class",
    "attr_to_inst": "attr_to_inst",
    "inst_to_attr": "inst_to_attr",
    "class_ent": "class_ent",
    "freq_class.mean": "freq_class.mean",
    "freq_class.sd": "freq_class.sd",
    "skewness.mean": "skewness.mean",
    "skewness.sd": "skewness.sd",
    "kurtosis.mean": "kurtosis.mean",
    "kurtosis.sd": "kurtosis.sd",
    "sd.mean": "sd.mean",
    "sd.sd": "sd.sd",
    "iq_range.mean": "iq_range.mean",
    "cor.mean": "cor.mean",
    "cor.sd": "cor.sd",
    "nr_cor_attr": "nr_cor_attr",
    "nr_outliers": "nr_outliers",
    "attr_ent.mean": "attr_ent.mean",
    "attr_ent.sd": "attr_ent.sd",
    "joint_ent.mean": "joint_ent.mean",
    "mut_inf.mean": "mut_inf.mean",
    "mut_inf.sd": "mut_inf.sd",
    "eq_num_attr": "eq_num_attr",
    "ns_ratio": "ns_ratio",
}
RELATIVE_TOLERANCE = 1e-4


@pytest.mark.parametrize("name", ["pima", "wine_quality_red", "iris", "sonar", "vehicle"])
def test_agrees_with_pymfe(corpus_path, name):
    from pymfe.mfe import MFE

    d = load_dataset(corpus_path / f"{name}.tsv.gz")
    assert not d.categorical  # pymfe one-hot encodes categoricals differently: compare numeric data
    X, y = d.X.to_numpy(dtype=float), d.y.cat.codes.to_numpy()
    ours = metafeatures.extract(d, groups=["general", "statistical", "info-theory"], max_rows=None)
    mfe = MFE(groups=["general", "statistical", "info-theory"], summary=["mean", "sd"], random_state=0)
    mfe.fit(X, y, suppress_warnings=True)
    theirs = dict(zip(*mfe.extract(suppress_warnings=True)))
    for mine, reference in SAME_DEFINITION.items():
        assert ours[mine] == pytest.approx(theirs[reference], rel=RELATIVE_TOLERANCE, abs=1e-9), mine
