"""all-MiniLM-L6-v2's forward pass in NumPy (no torch), optionally with a LoRA retrieval adapter.

A 6-layer BERT (hidden 384, 12 heads), mean pooling over real tokens, L2 normalisation, as
sentence-transformers computes it. Weights are read from `model.safetensors` with safetensors'
NumPy API, the WordPiece tokenizer from `tokenizer.json` with `tokenizers`. The model runs layer
by layer (`embeddings`, `layer`), so `ariane.knowledge.tune` can keep the frozen lower layers'
states; `adapted(adapter)` adds the adapter's low-rank products (ariane.knowledge.adapter).

The cache, the shipped vectors and `load_embedder` are in ariane.knowledge.embed.

Example:
    >>> from ariane.knowledge.embed import model_dir
    >>> model = MiniLM(model_dir())
    >>> model.embed(["I can't sleep"]).shape
    (1, 384)
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from pathlib import Path

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2"  # in every cache key (with the adapter's id when there is one)
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model; longer texts are cut
BATCH_SIZE = 32  # texts per forward pass (sorted by length so padding stays small)
BLAS_THREADS = 1  # on a busy 2-core machine (the app also runs GPT-2) one OpenBLAS thread is 2-10x
# faster than two fighting for the cores: measured 31 ms vs 260 ms for a query, 2.5 s vs 6.5 s for 300 texts


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
