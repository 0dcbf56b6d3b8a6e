"""Benchmark metrics (issue 6 groundwork): regret curves, average ranks, win/tie/loss, speed-up."""

from autometa.benchmark._metrics import average_rank, best_so_far_regret, trials_to_reach, win_tie_loss

__all__ = ["average_rank", "best_so_far_regret", "trials_to_reach", "win_tie_loss"]
