"""Static greedy portfolio (auto-sklearn 2.0 / TabRepo style): no metafeatures.

Configurations are added one at a time, each time the one that most lowers the mean over the
training datasets of the best-so-far regret ``min(regret of the chosen)``; ties go to the lower
config id, so the portfolio is deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def greedy_portfolio(regret: pd.DataFrame, size: int) -> list[int]:
    """Config ids (columns of `regret`, datasets x configs) of a greedy portfolio of `size`."""
    values = regret.to_numpy(dtype=float)
    columns = list(regret.columns)
    current = np.ones(values.shape[0])
    chosen: list[int] = []
    for _ in range(min(size, len(columns))):
        candidate_regret = np.minimum(current[:, None], values).mean(axis=0)
        candidate_regret[[columns.index(c) for c in chosen]] = np.inf
        best = int(np.argmin(candidate_regret))
        chosen.append(columns[best])
        current = np.minimum(current, values[:, best])
    return chosen
