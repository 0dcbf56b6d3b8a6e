"""Dataset2Vec: encoding, learning the same-dataset task, determinism, save/load, no torch needed elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from metafeatures import MetafeatureInputError
from metafeatures._d2v_input import MAX_TARGETS, REGRESSION_BINS, encode_table


def test_encoding_scales_features_and_encodes_targets():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "a": rng.normal(50, 10, 300),
            "b": pd.Categorical(rng.choice(["x", "y", "z"], 300)),
            "c": np.where(rng.random(300) < 0.2, np.nan, rng.random(300)),
        }
    )
    table = encode_table(X, pd.Series(rng.choice(list("abcdefghijkl"), 300)))
    assert table.x.dtype == np.float32 and table.x.shape == (300, 1 + 3 + 1)
    assert table.x.min() >= 0 and table.x.max() <= 1 and not np.isnan(table.x).any()
    assert table.y.shape == (300, MAX_TARGETS)  # 12 classes: the rarest share the last column
    assert np.all(table.y.sum(axis=1) == 1)
    regression = encode_table(X, pd.Series(rng.normal(size=300)), task="regression")
    assert regression.y.shape == (300, REGRESSION_BINS)
    assert np.allclose(regression.y.mean(axis=0), 1 / REGRESSION_BINS, atol=0.01)  # quantile bins


def test_subsample_respects_limits():
    table = encode_table(np.random.default_rng(1).random((1000, 40)), np.arange(1000) % 3)
    x, y = table.subsample(np.random.default_rng(0), rows=64, features=16)
    assert x.shape == (64, 16) and y.shape == (64, 3)


def _family(kind: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Tiny datasets of four clearly different kinds, same shape (so shape alone tells nothing)."""
    rng = np.random.default_rng(seed)
    n = 200
    if kind == 0:
        X = rng.random((n, 4))
        y = (X[:, 0] > 0.5).astype(int)
    elif kind == 1:
        X = rng.exponential(size=(n, 4)) ** 3
        y = rng.integers(0, 2, n)
    elif kind == 2:
        X = rng.integers(0, 2, (n, 4)).astype(float)
        y = (X.sum(axis=1) > 2).astype(int)
    else:
        X = np.sort(rng.normal(size=(n, 4)), axis=0)
        y = (np.arange(n) > n // 2).astype(int)
    return X, y


@pytest.fixture(scope="module")
def tiny_encoder():
    torch = pytest.importorskip("torch")
    pytest.importorskip("safetensors")
    from metafeatures.dataset2vec import Architecture, Dataset2Vec, Training

    torch.set_num_threads(1)
    datasets = {f"d{kind}_{i}": _family(kind, 10 * kind + i) for kind in range(4) for i in range(3)}
    groups = {name: name.split("_")[0] for name in datasets}  # copies of one kind are near-duplicates
    encoder = Dataset2Vec(
        Architecture(width=8, blocks=1, layers=1, g_layers=1, rows=32, features=4),
        Training(steps_per_epoch=100, max_epochs=3, patience=3, batch_pairs=8, validation_share=0.5),
        subsamples=4,
        device="cpu",
        random_state=0,
    )
    return encoder.fit(datasets, groups), datasets, groups


def test_tiny_model_learns_same_dataset_task_above_chance(tiny_encoder):
    """Trained, it tells unseen datasets' subsamples apart clearly better than chance and than its
    own untrained initialization (which already scores about 0.84 on these very different kinds)."""
    import torch

    from metafeatures.dataset2vec import Dataset2Vec, Dataset2VecNet

    encoder, datasets, groups = tiny_encoder
    fresh = {f"n{kind}": _family(kind, 1000 + kind) for kind in range(4)}  # unseen datasets
    trained = encoder.same_dataset_auc(fresh, pairs=256)
    untrained = Dataset2Vec(encoder.architecture, encoder.training, device="cpu")
    torch.manual_seed(0)
    untrained.net_ = Dataset2VecNet(encoder.architecture).eval()
    assert trained > 0.9
    assert trained > untrained.same_dataset_auc(fresh, pairs=256) + 0.04
    assert encoder.history_ and all(np.isfinite(h["loss"]) for h in encoder.history_)


def test_transform_is_deterministic_and_round_trips(tiny_encoder, tmp_path):
    from metafeatures.dataset2vec import Dataset2Vec

    encoder, datasets, _ = tiny_encoder
    X, y = datasets["d0_0"]
    first = encoder.transform(X, y)
    assert list(first.index) == [f"d2v.{i}" for i in range(8)]
    pd.testing.assert_series_equal(first, encoder.transform(X, y))
    encoder.save(tmp_path / "enc")
    config = json.loads((tmp_path / "enc" / "config.json").read_text())
    assert config["architecture"]["width"] == 8 and len(config["sha256"]) == 64
    loaded = Dataset2Vec.load(tmp_path / "enc", device="cpu")
    pd.testing.assert_series_equal(first, loaded.transform(X, y))


def test_tampered_weights_are_refused(tiny_encoder, tmp_path):
    from metafeatures.dataset2vec import Dataset2Vec

    encoder, _, _ = tiny_encoder
    folder = encoder.save(tmp_path / "enc")
    weights = folder / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8])
    with pytest.raises(MetafeatureInputError, match="does not match the sha256"):
        Dataset2Vec.load(folder)
    encoder.save(folder)
    config = json.loads((folder / "config.json").read_text())
    config["architecture"]["width"] = 16
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(MetafeatureInputError, match="config.json.*does not match its own checksum"):
        Dataset2Vec.load(folder)


def test_unfitted_and_bad_device_errors():
    pytest.importorskip("torch")
    from metafeatures.dataset2vec import Dataset2Vec, resolve_device

    with pytest.raises(MetafeatureInputError, match="not fitted"):
        Dataset2Vec().transform(np.zeros((5, 2)), [0, 1, 0, 1, 0])
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(MetafeatureInputError, match="no CUDA device"):
            resolve_device("cuda")
        assert resolve_device("auto").type == "cpu"


@pytest.mark.cuda
def test_cuda_embedding_matches_cpu(tiny_encoder, tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from metafeatures.dataset2vec import Dataset2Vec

    encoder, datasets, _ = tiny_encoder
    folder = encoder.save(tmp_path / "enc")
    X, y = datasets["d1_0"]
    on_gpu = Dataset2Vec.load(folder, device="cuda")
    assert next(on_gpu.net_.parameters()).is_cuda
    np.testing.assert_allclose(on_gpu.transform(X, y), encoder.transform(X, y), atol=1e-4)


def test_everything_else_works_without_torch(corpus_path):
    """With torch unimportable: metafeatures and autometa.suggest work; Dataset2Vec says what to install."""
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "safetensors"):
                    raise ImportError("blocked: " + name)
        sys.meta_path.insert(0, Block())
        import metafeatures, autometa
        suggestions = autometa.suggest({str(corpus_path / "credit_g.tsv.gz")!r}, n=2)
        assert len(suggestions) == 2, suggestions
        try:
            metafeatures.Dataset2Vec
        except ImportError as error:
            assert "autometa[torch]" in str(error), error
        else:
            raise AssertionError("Dataset2Vec imported without torch")
        assert "torch" not in sys.modules
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]
