"""A deep-kernel Gaussian process pretrained on the knowledge base: the surrogate of FSBO
(Wistuba & Grabocka, "Few-shot Bayesian optimization with deep kernel surrogates", ICLR 2021),
written from the paper.

- **Model.** A GP with zero mean on standardized targets, whose kernel compares configurations
  through a small feature network: ``k(x, x') = s * exp(-|phi(x) - phi(x')|^2 / 2)``, plus
  observation noise. ``phi`` is an MLP on the unit-scaled configuration; ``s``, the noise and
  ``phi``'s weights are learned.
- **Pretraining.** Every known dataset is a task, its normalized pool scores over the shared pool
  the observations. Each step draws one task and a random batch of its configurations and takes an
  Adam step on the GP's negative log marginal likelihood of that batch, so one kernel learns which
  configurations behave alike on every dataset. As in the paper, targets are rescaled at random
  per batch (task augmentation), then standardized.
- **Fine-tuning.** For a new dataset, a copy of the pretrained kernel takes a few Adam steps on the
  study's own observations; the posterior then scores candidate configurations.

Needs PyTorch (``pip install 'autometa[torch]'``). Runs on CPU, or on CUDA when torch sees a GPU
and ``device="auto"`` or ``"cuda"`` is asked; it is small enough that one CPU thread is the
default. Used by :class:`autometa.optuna.DeepKernelSampler`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import numpy as np

from autometa.exceptions import DataError

# The weight of the neighbours' prior mean that `autometa tune` runs the DeepKernelSampler with
# (``prior=``), chosen on selection data (README, "A prior mean for the deep kernel"); the
# benchmarks' ``autometa+deepkernel+prior`` measures the same.
PRIOR_WEIGHT = 1.0


def require_torch():
    """The torch module, or a clear error saying how to install it."""
    try:
        import torch
    except ImportError as error:
        raise DataError("The deep-kernel surrogate needs PyTorch: pip install 'autometa[torch]'.") from error
    return torch


def _device(device: str | None) -> str:
    torch = require_torch()
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class DeepKernel:
    """A GP on unit-scaled configurations with an MLP feature map (see the module docstring).

    Parameters
    ----------
    dim : the number of configuration parameters (unit scale).
    hidden, features : widths of the MLP's hidden layers and of its output.
    seed : seed of the weights' initialization and of pretraining's draws.
    device : ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
    """

    def __init__(self, dim: int, *, hidden: int = 32, features: int = 16, seed: int = 0, device: str | None = "cpu"):
        torch = require_torch()
        self.dim, self.seed, self.device = int(dim), int(seed), _device(device)
        self.hidden, self.features = int(hidden), int(features)
        generator = torch.Generator().manual_seed(self.seed)
        layers = []
        for fan_in, fan_out in ((dim, hidden), (hidden, hidden), (hidden, features)):
            layer = torch.nn.Linear(fan_in, fan_out)
            torch.nn.init.normal_(layer.weight, std=(1.0 / fan_in) ** 0.5, generator=generator)
            torch.nn.init.zeros_(layer.bias)
            layers += [layer, torch.nn.Tanh()]
        self.network = torch.nn.Sequential(*layers[:-1]).to(self.device, dtype=torch.float64)
        self.log_scale = torch.zeros((), dtype=torch.float64, device=self.device, requires_grad=True)
        self.log_noise = torch.tensor(np.log(0.1), dtype=torch.float64, device=self.device, requires_grad=True)
        self.pretrained_steps = 0

    # -- persistence -----------------------------------------------------------------------------
    def save(self, path, *, fingerprint: str = "") -> None:
        """Writes the kernel's weights to an ``.npz`` file (no pickle), with the `fingerprint` of
        what it was pretrained on (:func:`pretraining_fingerprint`)."""
        arrays = {f"network.{k}": v.detach().cpu().numpy() for k, v in self.network.state_dict().items()}
        arrays["log_scale"] = self.log_scale.detach().cpu().numpy()
        arrays["log_noise"] = self.log_noise.detach().cpu().numpy()
        about = dict(dim=self.dim, hidden=self.hidden, features=self.features, seed=self.seed)
        about.update(pretrained_steps=self.pretrained_steps, fingerprint=fingerprint)
        np.savez(path, about=np.array(json.dumps(about)), **arrays)

    @classmethod
    def load(cls, path, *, device: str | None = "cpu") -> tuple[DeepKernel, str]:
        """(the kernel, its pretraining fingerprint) from a file :meth:`save` wrote."""
        torch = require_torch()
        with np.load(path, allow_pickle=False) as saved:
            about = json.loads(str(saved["about"]))
            kernel = cls(
                about["dim"], hidden=about["hidden"], features=about["features"], seed=about["seed"], device=device
            )
            state = {
                k.removeprefix("network."): torch.from_numpy(saved[k]) for k in saved.files if k.startswith("network.")
            }
            kernel.network.load_state_dict(state)
            with torch.no_grad():
                kernel.log_scale.copy_(torch.from_numpy(saved["log_scale"]))
                kernel.log_noise.copy_(torch.from_numpy(saved["log_noise"]))
        kernel.pretrained_steps = int(about["pretrained_steps"])
        return kernel, str(about["fingerprint"])

    # -- the GP ----------------------------------------------------------------------------------
    def parameters(self) -> list:
        return [*self.network.parameters(), self.log_scale, self.log_noise]

    def _tensor(self, values) -> Any:
        torch = require_torch()
        return torch.tensor(np.array(values, dtype=float), dtype=torch.float64, device=self.device)

    def _kernel(self, a, b):
        torch = require_torch()
        fa = self.network(a)
        fb = fa if b is a else self.network(b)  # one pass of the network for k(x, x)
        return torch.exp(self.log_scale) * torch.exp(-0.5 * torch.cdist(fa, fb).square())

    def _cholesky(self, x):
        torch = require_torch()
        noise = torch.exp(self.log_noise) + 1e-6
        matrix = self._kernel(x, x) + noise * torch.eye(len(x), dtype=x.dtype, device=x.device)
        return torch.linalg.cholesky(matrix)

    def _nll(self, x, y):
        """Negative log marginal likelihood per observation."""
        torch = require_torch()
        chol = self._cholesky(x)
        alpha = torch.cholesky_solve(y[:, None], chol)[:, 0]
        return (0.5 * y @ alpha + torch.log(torch.diagonal(chol)).sum()) / len(y) + 0.5 * np.log(2 * np.pi)

    def _adam(self, batches, steps: int, lr: float) -> None:
        torch = require_torch()
        parameters = self.parameters()
        # fused: one kernel per step for all parameters (a fine-tuning step is ~1 ms, mostly overhead)
        optimizer = torch.optim.Adam(parameters, lr=lr, fused=True)
        for x, y in batches(steps):
            for parameter in parameters:  # what zero_grad() does, without its per-call wrapping
                parameter.grad = None
            loss = self._nll(x, y)
            if not torch.isfinite(loss):
                continue
            loss.backward()
            optimizer.step()

    # -- learning --------------------------------------------------------------------------------
    def pretrain(self, units: np.ndarray, scores: np.ndarray, *, steps: int = 10000, batch: int = 64, lr: float = 1e-3):
        """Fit the kernel on every task: `units` (configurations x dim, unit scale) and `scores`
        (tasks x configurations, higher = better, NaN = not evaluated). Returns self."""
        units = np.asarray(units, dtype=float)
        scores = np.asarray(scores, dtype=float)
        if units.ndim != 2 or units.shape[1] != self.dim or scores.shape[1] != len(units):
            raise DataError(
                f"pretrain expects units of shape (configurations, {self.dim}) and scores of shape "
                f"(tasks, configurations); got {units.shape} and {scores.shape}."
            )
        rng = np.random.default_rng(self.seed)
        usable = [np.flatnonzero(np.isfinite(row)) for row in scores]
        tasks = [i for i, columns in enumerate(usable) if len(columns) >= 4 and np.ptp(scores[i, columns]) > 0]
        if not tasks:
            raise DataError("pretrain needs at least one task with 4 or more distinct finite scores.")
        x_all = self._tensor(units)

        def batches(n: int):
            for _ in range(n):
                task = tasks[rng.integers(len(tasks))]
                columns = rng.choice(usable[task], size=min(batch, len(usable[task])), replace=False)
                y = scores[task, columns] * rng.uniform(0.1, 1.0)  # task augmentation: a random scale
                y = (y - y.mean()) / (y.std() + 1e-9)
                yield x_all[columns], self._tensor(y)

        self._adam(batches, steps, lr)
        self.pretrained_steps += steps
        return self

    def fine_tuned(self, x: np.ndarray, y: np.ndarray, *, steps: int = 50, lr: float = 1e-3) -> DeepKernel:
        """A copy, fine-tuned on observations `x` (n x dim, unit scale) and `y` (higher = better)."""
        tuned = copy.deepcopy(self)
        xs, ys = tuned._tensor(x), tuned._tensor(_standardize(y))
        if len(ys) >= 2 and steps > 0:
            tuned._adam(lambda n: ((xs, ys) for _ in range(n)), steps, lr)
        return tuned

    def predict(self, x: np.ndarray, y: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior (mean, sd) at `candidates`, in the units of standardized `y`."""
        torch = require_torch()
        with torch.no_grad():
            xs, ys, cs = self._tensor(x), self._tensor(_standardize(y)), self._tensor(candidates)
            chol = self._cholesky(xs)
            cross = self._kernel(cs, xs)
            mean = cross @ torch.cholesky_solve(ys[:, None], chol)[:, 0]
            v = torch.linalg.solve_triangular(chol, cross.T, upper=False)
            variance = torch.exp(self.log_scale) - v.square().sum(dim=0)
            return mean.cpu().numpy(), np.sqrt(np.maximum(variance.cpu().numpy(), 1e-12))


def pretraining_fingerprint(units: np.ndarray, scores: np.ndarray, **settings: Any) -> str:
    """A digest of what :meth:`DeepKernel.pretrain` learns from (the configurations, the scores
    and the settings): a saved kernel is reused only where it matches."""
    digest = hashlib.sha256()
    for values in (units, scores):
        values = np.round(np.asarray(values, dtype=float), 10)
        digest.update(repr(values.shape).encode())
        digest.update(np.nan_to_num(values, nan=-1e300).tobytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def _standardize(y) -> np.ndarray:
    y = np.asarray(y, dtype=float)
    return (y - y.mean()) / (y.std() + 1e-9) if len(y) > 1 else y - y.mean()


def expected_improvement(mean: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    """Expected improvement over `best` (maximization) of a Gaussian posterior."""
    from scipy.stats import norm

    z = (mean - best) / sd
    return (mean - best) * norm.cdf(z) + sd * norm.pdf(z)
