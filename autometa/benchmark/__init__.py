"""``autometa benchmark``: a leakage-free comparison of warm-start methods and peers.

- :func:`benchmark`: one whole run and its report, as ``autometa benchmark`` runs it.
- :func:`run_discrete`: HPO-B-style, over the knowledge base (methods choose among a held-out
  dataset's evaluated pool; folds of near-duplicate groups; no model trained).
- :func:`run_live`: real Optuna studies of real cross-validated fits on the datasets you give.
- :func:`write_report`: the CSV of every run, a markdown summary, and PNG figures;
  :func:`read_report` and :func:`merge_curves` add methods to an earlier report.
"""

from autometa.benchmark._discrete import METHODS, MethodUnavailable, dataset_bounds, run_discrete, sampler_method
from autometa.benchmark._live import LIVE_METHODS, run_live
from autometa.benchmark._metrics import (
    average_rank,
    best_so_far_regret,
    paired_difference,
    regret_at_time,
    trials_to_reach,
    win_tie_loss,
)
from autometa.benchmark._report import (
    curves_from_runs,
    markdown_table,
    mean_curves,
    mean_sd,
    merge_curves,
    read_context,
    read_report,
    speed_up,
    summary_markdown,
    write_report,
)
from autometa.benchmark._run import benchmark, run_context, shipped_method, shipped_settings

__all__ = [
    "curves_from_runs",
    "markdown_table",
    "paired_difference",
    "benchmark",
    "shipped_method",
    "shipped_settings",
    "dataset_bounds",
    "read_context",
    "run_context",
    "LIVE_METHODS",
    "METHODS",
    "MethodUnavailable",
    "average_rank",
    "best_so_far_regret",
    "mean_curves",
    "mean_sd",
    "merge_curves",
    "read_report",
    "regret_at_time",
    "run_discrete",
    "run_live",
    "speed_up",
    "summary_markdown",
    "sampler_method",
    "trials_to_reach",
    "win_tie_loss",
    "write_report",
]
