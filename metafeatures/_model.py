"""Model-based metafeatures: the shape of one decision tree grown on (at most 2,000 rows of) the subsample.

The tree is scikit-learn's CART (gini / squared error), fully grown except that a leaf needs at
least ``MIN_LEAF_SHARE`` of the rows (so the shape reflects the data, not the sample size), on
numeric columns (median-imputed) and categorical codes. Reference: Bensusan, Giraud-Carrier and
Kennedy, "A higher-order approach to meta-learning" (2000); Peng et al. (2002).
"""

from __future__ import annotations

import numpy as np

from metafeatures._base import Failed, Group, Metafeature
from metafeatures._input import Prepared

BENSUSAN = "Bensusan et al. 2000"
PENG = "Peng et al. 2002"
MIN_LEAF_SHARE = 0.005


def _compute(data: Prepared) -> dict:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    X, y = data.ordinal_design[data.learner_rows], data.learner_target()
    if X.shape[1] == 0:
        return {f.name: Failed("no column with values") for f in MODEL_BASED.features}
    n_rows = X.shape[0]
    learner = DecisionTreeClassifier if data.classification else DecisionTreeRegressor
    min_leaf = max(1, int(MIN_LEAF_SHARE * n_rows))
    tree = learner(min_samples_leaf=min_leaf, random_state=data.random_state).fit(X, y).tree_
    is_leaf = tree.children_left == -1
    depth = np.zeros(tree.node_count, dtype=int)
    for node in range(tree.node_count):  # parents come before children in sklearn's layout
        for child in (tree.children_left[node], tree.children_right[node]):
            if child != -1:
                depth[child] = depth[node] + 1
    leaves = int(is_leaf.sum())
    used = np.unique(tree.feature[~is_leaf])
    importance = tree.compute_feature_importances(normalize=True) if tree.node_count > 1 else np.zeros(X.shape[1])
    return {
        "leaves": float(leaves),
        "nodes": float(tree.node_count - leaves),
        "tree_depth": float(depth.max()),
        "nodes_per_attr": (tree.node_count - leaves) / X.shape[1],
        "leaves_per_inst": leaves / n_rows,
        "leaves_branch": depth[is_leaf].astype(float),
        "leaves_corrob": tree.n_node_samples[is_leaf] / n_rows,
        "var_importance": importance,
        "attr_used_share": used.size / X.shape[1],
    }


MODEL_BASED = Group(
    name="model-based",
    description="Shape of a CART decision tree grown on at most 2,000 rows of the subsample.",
    compute=_compute,
    features=(
        Metafeature("leaves", "Number of leaves.", BENSUSAN),
        Metafeature("nodes", "Number of internal (split) nodes.", BENSUSAN),
        Metafeature("tree_depth", "Depth of the tree.", BENSUSAN),
        Metafeature("nodes_per_attr", "nodes / number of columns.", BENSUSAN),
        Metafeature("leaves_per_inst", "leaves / rows the tree was grown on.", PENG),
        Metafeature("leaves_branch", "Depth of each leaf.", BENSUSAN, per_item=True),
        Metafeature("leaves_corrob", "Share of the rows in each leaf.", PENG, per_item=True),
        Metafeature("var_importance", "Gini / variance-reduction importance of each column.", PENG, per_item=True),
        Metafeature("attr_used_share", "Share of columns used in at least one split.", PENG),
    ),
)
