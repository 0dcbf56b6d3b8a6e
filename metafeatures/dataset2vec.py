"""Dataset2Vec: learned dataset metafeatures (Jomaa, Schmidt-Thieme, Grabocka, DMKD 2021).

Needs PyTorch (``pip install "autometa[torch]"``); ``import metafeatures`` does not import it.

A dataset is the set of (feature value, target indicator) pairs of a subsample (see
:mod:`metafeatures._d2v_input` for the encoding). Three networks of width ``width``:

- f maps each pair (x_ij, y_ic) to a vector; the mean over instances i gives one vector per
  (feature j, target c);
- g maps each of those; the mean over (j, c) gives one vector per subsample;
- h maps it to the embedding.

f and h are a dense layer, ``blocks`` residual blocks of ``layers`` dense layers, and a dense
layer; g is ``g_layers`` dense layers; ReLU throughout (paper: width 32, 8 blocks of 4 layers,
about 75k parameters: :meth:`Architecture.paper`).

Training (the paper's task): a pair of subsamples is positive when both come from the same
dataset, negative when they come from datasets of different near-duplicate groups. Similarity
``exp(-||a - b||)``; log-loss with negatives weighted ``negative_weight``; Adam; gradient norm
clipped; early stopping on the same-dataset AUC of held-out validation datasets. The embedding of
a dataset is the mean over ``subsamples`` subsamples drawn with ``random_state``: deterministic.

    >>> from metafeatures.dataset2vec import Dataset2Vec
    >>> encoder = Dataset2Vec().fit({"name": (X, y), ...}, groups={"name": "group", ...})
    >>> encoder.transform(X, y)                  # pandas.Series d2v.0 ... d2v.31
    >>> encoder.save("folder"); Dataset2Vec.load("folder")
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError("Dataset2Vec needs PyTorch: pip install 'autometa[torch]' (or pip install torch).") from error

from metafeatures._d2v_input import SUBSAMPLE_FEATURES, SUBSAMPLE_ROWS, EncodedTable, encode_table
from metafeatures.exceptions import MetafeatureInputError

FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "config.json"


@dataclasses.dataclass(frozen=True)
class Architecture:
    width: int = 32
    blocks: int = 2  # residual blocks of f and of h
    layers: int = 2  # dense layers per residual block
    g_layers: int = 2
    rows: int = 64  # rows of one subsample (paper: 256; 64 measured 4x cheaper on CPU)
    features: int = SUBSAMPLE_FEATURES  # features of one subsample

    @classmethod
    def paper(cls) -> Architecture:
        return cls(width=32, blocks=8, layers=4, g_layers=4, rows=SUBSAMPLE_ROWS, features=SUBSAMPLE_FEATURES)


@dataclasses.dataclass(frozen=True)
class Training:
    steps_per_epoch: int = 100
    max_epochs: int = 30
    patience: int = 4  # epochs without a better validation AUC before stopping
    batch_pairs: int = 16  # pairs of subsamples per step, half of them positive
    learning_rate: float = 1e-3
    clip_norm: float = 1.0
    negative_weight: float = 2.0
    validation_share: float = 0.1  # of the near-duplicate groups, held out for early stopping
    validation_pairs: int = 256
    # Negatives drawn among datasets whose subsamples have the same shape (features, target
    # columns) when there are any: otherwise shape alone tells most pairs apart (validation AUC
    # 0.96-0.98 after only 10 training steps on the corpus) and little else is learned.
    hard_negatives: bool = True


class _Residual(nn.Module):
    def __init__(self, width: int, layers: int):
        super().__init__()
        self.body = nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width), nn.ReLU())])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _tower(inputs: int, width: int, blocks: int, layers: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inputs, width), nn.ReLU(), *[_Residual(width, layers) for _ in range(blocks)], nn.Linear(width, width)
    )


class Dataset2VecNet(nn.Module):
    """f, g, h of the paper; input: a list of subsamples (x: rows x features, y: rows x targets)."""

    def __init__(self, architecture: Architecture):
        super().__init__()
        a = architecture
        self.f = _tower(2, a.width, a.blocks, a.layers)
        self.g = nn.Sequential(*[m for _ in range(a.g_layers) for m in (nn.Linear(a.width, a.width), nn.ReLU())])
        self.h = _tower(a.width, a.width, a.blocks, a.layers)

    def forward(self, subsamples: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        # Every (instance, feature, target) pair of every subsample goes through f in one batch.
        pairs, shapes = [], []
        for x, y in subsamples:
            rows, features = x.shape
            targets = y.shape[1]
            grid = torch.stack(torch.broadcast_tensors(x[:, :, None], y[:, None, :]), dim=-1)
            pairs.append(grid.reshape(-1, 2))
            shapes.append((rows, features * targets))
        encoded = self.f(torch.cat(pairs))
        per_cell = [
            chunk.reshape(rows, cells, -1).mean(dim=0)
            for chunk, (rows, cells) in zip(encoded.split([r * c for r, c in shapes]), shapes)
        ]
        mapped = self.g(torch.cat(per_cell))
        pooled = torch.stack([chunk.mean(dim=0) for chunk in mapped.split([c for _, c in shapes])])
        return self.h(pooled)


def resolve_device(device: str | None) -> torch.device:
    """ "auto"/None: CUDA when available, else CPU; or any torch device string."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise MetafeatureInputError(
            f"device={device!r} was asked for, but torch sees no CUDA device; use 'cpu' or 'auto'."
        )
    return resolved


def _distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(((a - b) ** 2).sum(dim=-1) + 1e-12)


def pair_loss(distance: torch.Tensor, same: torch.Tensor, negative_weight: float) -> torch.Tensor:
    """Weighted log-loss of similarity exp(-d): -log s = d; -log(1 - s) = -log(-expm1(-d))."""
    positive = distance
    negative = -torch.log(-torch.expm1(-distance.clamp(min=1e-6)))
    return torch.where(same, positive, negative_weight * negative).mean()


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


class Dataset2Vec:
    """Learned metafeatures: ``fit`` on a corpus, ``transform`` a dataset, ``save``/``load``.

    Parameters
    ----------
    architecture, training : see :class:`Architecture` and :class:`Training`.
    subsamples : subsamples averaged into one embedding at inference.
    device : "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ...
    random_state : seed of initialization, pair sampling and inference subsamples.
    """

    def __init__(
        self,
        architecture: Architecture | None = None,
        training: Training | None = None,
        *,
        subsamples: int = 16,
        device: str | None = "auto",
        random_state: int = 0,
    ):
        self.architecture = architecture or Architecture()
        self.training = training or Training()
        self.subsamples = subsamples
        self.device = device
        self.random_state = random_state
        self.net_: Dataset2VecNet | None = None
        self.history_: list[dict[str, float]] = []
        self.provenance_: dict[str, Any] = {}
        self.sha256: str | None = None  # of the saved weights (set by save and load)

    # -- training ----------------------------------------------------------------------------
    def fit(
        self,
        datasets: Mapping[str, Any],
        groups: Mapping[str, str] | None = None,
        *,
        progress: bool = False,
        log: Callable[[str], None] | None = None,
    ) -> Dataset2Vec:
        """Train on `datasets` (name -> (X, y), a Dataset-like object or an EncodedTable).

        groups : name -> near-duplicate group; datasets of one group never form a negative pair
            and are held out for validation together. Default: every dataset its own group.
        """
        tables = {name: self._encoded(value) for name, value in datasets.items()}
        if len(tables) < 4:
            raise MetafeatureInputError(f"Dataset2Vec needs at least 4 training datasets, got {len(tables)}.")
        groups = {name: str((groups or {}).get(name, name)) for name in tables}
        rng = np.random.default_rng(self.random_state)
        torch.manual_seed(self.random_state)
        device = resolve_device(self.device)
        names = sorted(tables)
        distinct = sorted(set(groups.values()))
        held = set(
            rng.choice(distinct, size=max(2, round(len(distinct) * self.training.validation_share)), replace=False)
        )
        train = [n for n in names if groups[n] not in held]
        valid = [n for n in names if groups[n] in held]
        if len({groups[n] for n in train}) < 2:
            raise MetafeatureInputError("Dataset2Vec needs training datasets from at least 2 near-duplicate groups.")
        valid_pairs = self._pairs(
            valid if len({groups[n] for n in valid}) >= 2 else train,
            tables,
            groups,
            self.training.validation_pairs,
            np.random.default_rng(self.random_state + 1),
        )

        self.net_ = Dataset2VecNet(self.architecture).to(device)
        optimizer = torch.optim.Adam(self.net_.parameters(), lr=self.training.learning_rate)
        best_auc, best_state, stale = -np.inf, None, 0
        self.history_ = []
        start = time.perf_counter()
        bar = _progress(progress, self.training.max_epochs)
        for epoch in range(self.training.max_epochs):
            self.net_.train()
            losses = []
            epoch_start = time.perf_counter()
            for _ in range(self.training.steps_per_epoch):
                batch = self._pairs(train, tables, groups, self.training.batch_pairs, rng)
                loss = self._loss(batch, device)
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.net_.parameters(), self.training.clip_norm)
                optimizer.step()
                losses.append(float(loss.detach()))
            auc = self._pair_auc(valid_pairs, device)
            seconds = time.perf_counter() - epoch_start
            self.history_.append(
                {
                    "epoch": epoch + 1,
                    "loss": float(np.mean(losses)),
                    "validation_auc": auc,
                    "seconds": seconds,
                    "pairs_per_second": self.training.steps_per_epoch * self.training.batch_pairs / seconds,
                }
            )
            if log:
                log(f"epoch {epoch + 1}: loss {np.mean(losses):.4f}, validation AUC {auc:.4f}, {seconds:.1f} s")
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{np.mean(losses):.3f}", auc=f"{auc:.3f}")
            if auc > best_auc:
                best_auc, stale = auc, 0
                best_state = {k: v.detach().clone() for k, v in self.net_.state_dict().items()}
            else:
                stale += 1
                if stale >= self.training.patience:
                    break
        if bar is not None:
            bar.close()
        self.net_.load_state_dict(best_state)
        self.net_.eval()
        self.provenance_ = {
            "training_datasets": train,
            "validation_datasets": valid,
            "corpus_fingerprint": _fingerprint(names),
            "epochs": len(self.history_),
            "best_validation_auc": best_auc,
            "seconds": time.perf_counter() - start,
            "device": str(device),
            "torch": torch.__version__,
        }
        return self

    @staticmethod
    def _encoded(value: Any) -> EncodedTable:
        if isinstance(value, EncodedTable):
            return value
        if isinstance(value, tuple) and len(value) == 2:
            return encode_table(*value)
        return encode_table(value)

    def _shape(self, table: EncodedTable) -> tuple[int, int]:
        return min(table.x.shape[1], self.architecture.features), table.y.shape[1]

    def _pairs(
        self,
        names: list[str],
        tables: Mapping[str, EncodedTable],
        groups: Mapping[str, str],
        count: int,
        rng: np.random.Generator,
        hard: bool | None = None,
    ) -> list[tuple[tuple, tuple, bool]]:
        """`count` pairs of subsamples, half from one dataset, half from two of different groups
        (of the same subsample shape when `hard` and possible)."""
        arch = self.architecture
        hard = self.training.hard_negatives if hard is None else hard
        pairs = []
        for i in range(count):
            first = names[rng.integers(len(names))]
            same = i % 2 == 0
            if same:
                second = first
            else:
                others = [n for n in names if groups[n] != groups[first]]
                alike = [n for n in others if self._shape(tables[n]) == self._shape(tables[first])] if hard else []
                others = alike or others
                second = others[rng.integers(len(others))]
            pairs.append(
                (
                    tables[first].subsample(rng, arch.rows, arch.features),
                    tables[second].subsample(rng, arch.rows, arch.features),
                    same,
                )
            )
        return pairs

    def _embed_subsamples(self, subsamples: list[tuple[np.ndarray, np.ndarray]], device: torch.device) -> torch.Tensor:
        tensors = [(torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)) for x, y in subsamples]
        return self.net_(tensors)

    def _loss(self, pairs: list, device: torch.device) -> torch.Tensor:
        embedded = self._embed_subsamples([p[0] for p in pairs] + [p[1] for p in pairs], device)
        a, b = embedded[: len(pairs)], embedded[len(pairs) :]
        same = torch.tensor([p[2] for p in pairs], device=device)
        return pair_loss(_distances(a, b), same, self.training.negative_weight)

    @torch.no_grad()
    def _pair_auc(self, pairs: list, device: torch.device) -> float:
        self.net_.eval()
        distances = []
        for start in range(0, len(pairs), 64):
            chunk = pairs[start : start + 64]
            embedded = self._embed_subsamples([p[0] for p in chunk] + [p[1] for p in chunk], device)
            distances.append(_distances(embedded[: len(chunk)], embedded[len(chunk) :]).cpu().numpy())
        self.net_.train()
        return _auc(-np.concatenate(distances), np.array([p[2] for p in pairs]))

    def same_dataset_auc(
        self,
        datasets: Mapping[str, Any],
        groups: Mapping[str, str] | None = None,
        pairs: int = 512,
        hard: bool = False,
        random_state: int = 12345,
    ) -> float:
        """The paper's check: AUC of telling same-dataset from different-dataset subsample pairs
        (negatives of any shape; with `hard`, of the same subsample shape where possible)."""
        self._check_fitted()
        tables = {name: self._encoded(value) for name, value in datasets.items()}
        groups = {name: str((groups or {}).get(name, name)) for name in tables}
        sampled = self._pairs(sorted(tables), tables, groups, pairs, np.random.default_rng(random_state), hard=hard)
        return self._pair_auc(sampled, next(self.net_.parameters()).device)

    # -- inference ---------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [f"d2v.{i}" for i in range(self.architecture.width)]

    @torch.no_grad()
    def transform(self, X: Any, y: Any = None, *, task: str | None = None) -> pd.Series:
        """The embedding of one dataset (X and y, a Dataset-like object, or an EncodedTable)."""
        self._check_fitted()
        table = X if isinstance(X, EncodedTable) else encode_table(X, y, task=task, random_state=self.random_state)
        rng = np.random.default_rng(self.random_state)
        arch = self.architecture
        subsamples = [table.subsample(rng, arch.rows, arch.features) for _ in range(self.subsamples)]
        self.net_.eval()
        embedding = self._embed_subsamples(subsamples, next(self.net_.parameters()).device).mean(dim=0)
        return pd.Series(embedding.cpu().numpy().astype(float), index=self.names)

    def transform_many(self, datasets: Mapping[str, Any]) -> pd.DataFrame:
        """Embeddings of several datasets (name -> anything :meth:`transform` takes), one row each."""
        rows = {
            name: self.transform(*value) if isinstance(value, tuple) else self.transform(value)
            for name, value in datasets.items()
        }
        return pd.DataFrame(rows).T.reindex(columns=self.names)

    def _check_fitted(self) -> None:
        if self.net_ is None:
            raise MetafeatureInputError(
                "This Dataset2Vec is not fitted: call fit(datasets) or Dataset2Vec.load(folder)."
            )

    # -- persistence -------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        from safetensors.torch import save_file

        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.net_.state_dict().items()}
        save_file(state, str(folder / WEIGHTS_FILE))
        config = {
            "format_version": FORMAT_VERSION,
            "model": "Dataset2Vec",
            "architecture": dataclasses.asdict(self.architecture),
            "training": dataclasses.asdict(self.training),
            "subsamples": self.subsamples,
            "random_state": self.random_state,
            "parameters": sum(v.numel() for v in state.values()),
            "sha256": hashlib.sha256((folder / WEIGHTS_FILE).read_bytes()).hexdigest(),
            "history": self.history_,
            "provenance": self.provenance_,
        }
        config["document_sha256"] = _document_digest(config)
        (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1))
        self.sha256 = config["sha256"]
        return folder

    @classmethod
    def load(cls, folder: str | Path, device: str | None = "auto") -> Dataset2Vec:
        from safetensors.torch import load_file

        folder = Path(folder)
        try:
            config = json.loads((folder / CONFIG_FILE).read_text())
            weights = (folder / WEIGHTS_FILE).read_bytes()
        except (OSError, ValueError) as error:
            raise MetafeatureInputError(f"Cannot read a Dataset2Vec encoder from {str(folder)!r}: {error}") from error
        if not isinstance(config, dict) or config.get("document_sha256") != _document_digest(config):
            raise MetafeatureInputError(
                f"{str(folder / CONFIG_FILE)!r} does not match its own checksum "
                "(document_sha256): the file was changed after it was saved. Re-train or "
                "re-install the encoder."
            )
        if config.get("format_version") != FORMAT_VERSION:
            raise MetafeatureInputError(
                f"{str(folder)!r} has format version {config.get('format_version')!r}; "
                f"this version reads {FORMAT_VERSION}."
            )
        if hashlib.sha256(weights).hexdigest() != config.get("sha256"):
            raise MetafeatureInputError(
                f"{str(folder / WEIGHTS_FILE)!r} does not match the sha256 in {CONFIG_FILE}: "
                "the file is truncated or was changed. Re-train or re-install the encoder."
            )
        encoder = cls(
            Architecture(**config["architecture"]),
            Training(**config["training"]),
            subsamples=config["subsamples"],
            device=device,
            random_state=config["random_state"],
        )
        net = Dataset2VecNet(encoder.architecture)
        net.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
        encoder.net_ = net.to(resolve_device(device)).eval()
        encoder.history_ = config.get("history", [])
        encoder.provenance_ = config.get("provenance", {})
        encoder.sha256 = config["sha256"]
        return encoder


def _document_digest(document: dict[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "document_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _fingerprint(names: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:16]


def _progress(enabled: bool, total: int):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="train Dataset2Vec", unit="epoch")
