"""The decoder on LiteRT (TensorFlow Lite) with XNNPACK: Ariane's fast CPU path.

Decoding GPT-2 is memory-bound: each token reads every weight once. LiteRT's int8 "dynamic range"
kernels read int8 weights (per output channel scales, 124 MB for GPT-2 124M instead of 498 MB)
and quantize each activation row on the fly, with VNNI dot products where the CPU has them; its
fp32 kernels (XNNPACK) are the fastest fp32 matrix-vector products we measured under TensorFlow.

`LiteRTDecoder` loads the functions of `ariane.decoder` as one LiteRT model (one signature each,
sharing the weights; converted once per model by `ariane.litert_convert`, shipped in the model's
folder or cached on disk, ~1 s to load) and runs:

- `prefill(token_ids)` -> last logits, and the prompt's keys/values;
- `reserve(slots, length)`, `write(slot, k, v)` -> a key/value cache of `slots` rows (float32: kept
  in the interpreter's own input buffers and written in place through NumPy views, never copied
  per step; int8: below);
- `decode(token_ids, positions)` -> logits [slots, V], one token for every row at once.

Precisions: "fp32" (exact up to float rounding) and "int8" (weights int8 per output channel,
activations int8 per row; see tests/test_speed.py for the fidelity bounds).

Key/value cache ("kv_cache"): "fp32" keeps it in the model's input buffers and attends in the
graph (the `decode` signature). "int8" keeps it in `ariane.kv_cache.Int8KVCache` and runs the step
as `step_0` .. `step_{layers}` with the attention of each layer in between (a C kernel reading a
quarter of the bytes: the step is 1.3x faster at 8 conversations x 128 positions, 2.1x at 8 x 512, see
bench/RESULTS.md). "auto" (the default) is int8 for int8 weights where the kernel builds with
AVX-512 VNNI, else fp32.

Example:
    >>> dec = LiteRTDecoder(DecoderWeights.from_backbone(backbone), "int8")   # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np

from ariane.decoder import DecoderWeights
from ariane.kv_cache import Int8KVCache, build_kernel, kernel_dir, load_kernel, start_loading_kernel, unsupported
from ariane.litert_convert import PRECISIONS, default_cache_dir, load_or_convert  # noqa: F401 - PRECISIONS is part of this API

# int8 fidelity bounds, checked by tests/test_speed.py (2-layer model) and reported for GPT-2 124M
# by bench/generate.py; measured on random weights (tiny / 124M): 1.6% / 3.3% and 98% / 91%.
# They hold for the int8 weights with either key/value cache.
INT8_MAX_LOGIT_ERROR = 0.05  # max ||logits_int8 - logits_fp32|| / ||logits_fp32||
INT8_MIN_GREEDY_AGREEMENT = 0.85  # share of next-token argmaxes equal to fp32's (teacher-forced)


KV_CACHES = ("auto", "int8", "fp32")


def default_threads() -> int:
    """ARIANE_THREADS, else every core this process may use."""
    raw = os.environ.get("ARIANE_THREADS")
    if raw:
        return max(1, int(raw))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _interpreter_class():
    try:  # the maintained home of the interpreter, when installed
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter


class LiteRTDecoder:
    """Prefill and batched decode steps of one GPT-2 on LiteRT.

    Not thread-safe: one caller at a time (`ariane.generate.Generator` serialises them, the
    batch scheduler owns one).

    Args:
        weights: ariane.decoder.DecoderWeights. The model.
        precision: str. "fp32" or "int8".
        threads: int | None. Interpreter threads; None = ARIANE_THREADS or all cores.
        cache_dir: Path | None | False. Where converted models are kept; None = default_cache_dir(),
            False = do not cache.
        model_source: str | None. The model's folder or hf:// repo (`ChatModel.source`): a converted
            file shipped there (`litert/`) is used first (`ariane.litert_convert.load_or_convert`).
        kv_cache: str | None. "auto", "int8" or "fp32" (module doc); None reads ARIANE_KV_CACHE (auto).
            "int8" where the kernel cannot be built raises, saying why.
    """

    def __init__(self, weights: DecoderWeights, precision: str = "int8", threads: int | None = None, cache_dir=None,
                 model_source: str | None = None, kv_cache: str | None = None):
        import warnings

        self.precision = precision
        # Only the embeddings stay in Python (the caller looks tokens up); the rest lives in the model.
        self.wte, self.wpe = weights.wte, weights.wpe
        self.num_layers, self.num_heads, self.head_dim = weights.num_layers, weights.num_heads, weights.head_dim
        self.hidden_dim, self.max_positions = weights.hidden_dim, weights.max_positions
        if cache_dir is None:
            cache_dir = default_cache_dir()
        kv_cache = kv_cache or os.environ.get("ARIANE_KV_CACHE") or "auto"
        if kv_cache not in KV_CACHES:
            raise ValueError(f"kv_cache must be one of {KV_CACHES}, got {kv_cache!r} (ARIANE_KV_CACHE)")
        if kv_cache == "auto" and precision == "int8" and not unsupported(self.num_heads, self.head_dim, self.max_positions):
            start_loading_kernel(str(kernel_dir(cache_dir)))  # cc runs while the converted model is found and loaded
        self._blob = load_or_convert(weights, precision, cache_dir or None, model_source)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite's "moved to ai_edge_litert" notice
            self._interp = _interpreter_class()(model_content=self._blob, num_threads=threads or default_threads())
        self._w = self._interp._interpreter  # the wrapper: per-subgraph resize, set, invoke, in-place views
        sigs = self._interp._get_full_signature_list()
        self._sub = {name: self._w.GetSubgraphIndexFromSignature(name) for name in ("prefill", "decode")}
        self._in = {name: sigs[name]["inputs"] for name in self._sub}
        self._out = {name: sigs[name]["outputs"] for name in self._sub}
        self._shapes: dict = {}  # (signature, input) -> shape last allocated
        self.slots, self.length = 0, 0
        self._kv = self._int8_cache(kv_cache, cache_dir)
        self.kv_cache = "fp32" if self._kv is None else "int8"
        self._x_in = None  # int8 cache: views of the step signatures' buffers (`_size_steps`)
        if self._kv is not None:
            self._steps = [f"step_{i}" for i in range(self.num_layers + 1)]
            for name in self._steps:
                self._sub[name] = self._w.GetSubgraphIndexFromSignature(name)
                self._in[name], self._out[name] = sigs[name]["inputs"], sigs[name]["outputs"]

    def _int8_cache(self, choice: str, cache_dir):
        """The Int8KVCache for kv_cache `choice`, or None for the float32 cache. Its kernel is kept
        beside the converted models (`ariane.kv_cache.kernel_dir`)."""
        why = unsupported(self.num_heads, self.head_dim, self.max_positions)
        if choice == "fp32" or (choice == "auto" and (self.precision != "int8" or why)):
            return None
        if why:
            raise ValueError(why)
        directory = kernel_dir(cache_dir)
        if choice == "auto":
            kernel = load_kernel(str(directory))
            return None if kernel is None else Int8KVCache(self.num_layers, self.num_heads, self.head_dim, kernel)
        try:
            kernel = build_kernel(directory)
        except (RuntimeError, OSError) as exc:
            raise RuntimeError(f"kv_cache='int8' (ARIANE_KV_CACHE) needs its C kernel: {exc}. Use 'auto' or 'fp32' instead") from exc
        return Int8KVCache(self.num_layers, self.num_heads, self.head_dim, kernel)

    def embed(self, token_ids, positions) -> np.ndarray:
        """Token plus position embedding (float32), shaped like `token_ids` + [d]."""
        return self.wte[np.asarray(token_ids)] + self.wpe[np.asarray(positions)]

    # ---- buffers ----------------------------------------------------------------------------
    def _resize(self, sig: str, shapes: dict) -> bool:
        changed = False
        for name, shape in shapes.items():
            shape = tuple(int(s) for s in shape)
            if self._shapes.get((sig, name)) != shape:
                self._w.ResizeInputTensor(self._in[sig][name], np.array(shape, np.int32), False, self._sub[sig])
                self._shapes[(sig, name)] = shape
                changed = True
        if changed:
            self._w.AllocateTensors(self._sub[sig])
        return changed

    def _view(self, sig: str, name: str) -> np.ndarray:
        """The interpreter's own buffer of an input (valid until the next resize)."""
        return self._w.tensor(self._interp, self._in[sig][name], self._sub[sig])

    def cache(self):
        """(k, v): per layer, an in-place view of its decode cache [slots, heads, length, head_dim]."""
        return ([self._view("decode", f"k_cache_{i}") for i in range(self.num_layers)],
                [self._view("decode", f"v_cache_{i}") for i in range(self.num_layers)])  # fmt: skip

    def reserve(self, slots: int, length: int, keep=()) -> None:
        """Size the cache for `slots` rows of `length` positions.

        Args:
            keep: iterable of (new_row, old_row): rows whose cache content moves to the new layout
                (a growing conversation, or rows compacted when others finish). Others start empty.
        """
        keep = list(keep)
        if (slots, length) == (self.slots, self.length) and all(new == old for new, old in keep):
            return
        if slots == 0:  # nothing to decode: keep the buffers for the next rows
            self.slots = 0
            return
        if self._kv is not None:
            self._kv.reserve(slots, length, keep)
            self._size_steps(slots)
            self.slots, self.length = slots, self._kv.length
            return
        saved = []
        if self.slots:
            n = min(length, self.length)
            k, v = self.cache()
            saved = [(new, np.stack([c[old, :, :n] for c in k]), np.stack([c[old, :, :n] for c in v])) for new, old in keep]
        shape = (slots, self.num_heads, length, self.head_dim)
        shapes = {f"{kv}_cache_{i}": shape for kv in "kv" for i in range(self.num_layers)}
        if self._resize("decode", {"x": (slots, self.hidden_dim), "positions": (slots,), **shapes}):
            for caches in self.cache():  # fresh buffers hold garbage; masked positions must still be finite (0 x NaN = NaN)
                for c in caches:
                    c.fill(0.0)
        self.slots, self.length = slots, length
        for new, k_rows, v_rows in saved:
            self.write(new, k_rows, v_rows)

    def _size_steps(self, slots: int) -> None:
        """The step signatures' inputs for `slots` rows, and in-place views of what passes between them."""
        changed = [self._resize(name, {n: (slots, self.hidden_dim) for n in self._in[name]}) for name in self._steps]
        if any(changed) or self._x_in is None:
            def view(name, idx):
                return self._w.tensor(self._interp, idx, self._sub[name])

            self._x_in = [view(n, self._in[n]["x"]) for n in self._steps]
            self._o_in = [None] + [view(n, self._in[n]["o"]) for n in self._steps[1:]]
            self._qkv_out = [view(n, self._out[n]["qkv"]) for n in self._steps[:-1]]
            self._x_out = [None] + [view(n, self._out[n]["x"]) for n in self._steps[1:-1]]

    def write(self, slot: int, k: np.ndarray, v: np.ndarray, start: int = 0) -> None:
        """Copy keys/values [layers, heads, T, head_dim] into row `slot` at positions start.."""
        if self._kv is not None:
            if start:
                raise ValueError("the int8 cache is written from position 0 (a whole prompt)")
            self._kv.write(slot, k, v)
            return
        t = k.shape[2]
        for caches, new in zip(self.cache(), (k, v)):
            for i, c in enumerate(caches):
                c[slot, :, start : start + t] = new[i]

    def prepare(self, slots: int, length: int, prompt_tokens: int) -> None:
        """Run each step once at the largest shapes it will see. The first run at a size that no
        earlier run reached grows LiteRT's buffers and rebuilds XNNPACK's plan: 1.4 s for a decode
        step of GPT-2 124M, 0.2 s for a 300-token prefill. After this, smaller shapes cost nothing."""
        self.prefill(np.zeros(min(prompt_tokens, self.max_positions), np.int64))
        self.reserve(slots, min(length, self.max_positions))
        self.decode(np.zeros(slots, np.int64), np.zeros(slots, np.int32))
        self.reserve(0, 0)

    # ---- steps ------------------------------------------------------------------------------
    def prefill(self, token_ids):
        """(logits [V], k, v [layers, heads, T, head_dim]) for a prompt starting at position 0."""
        ids = np.asarray(token_ids, dtype=np.int64)
        n = len(ids)
        if n == 0 or n > self.max_positions:
            raise ValueError(f"a prompt of {n} tokens does not fit 1..{self.max_positions}")
        sub, ins, outs = self._sub["prefill"], self._in["prefill"], self._out["prefill"]
        self._resize("prefill", {"x": (1, n, self.hidden_dim)})
        self._w.SetTensor(ins["x"], self.embed(ids[None], np.arange(n)[None]), sub)
        self._w.SetTensor(ins["last"], np.array(n - 1, np.int32), sub)
        self._w.Invoke(sub)
        logits = self._w.GetTensor(outs["logits"], sub)[0]
        k = self._w.GetTensor(outs["k"], sub)[:, 0]
        v = self._w.GetTensor(outs["v"], sub)[:, 0]
        return logits, k, v

    def decode(self, token_ids, positions) -> np.ndarray:
        """Logits [slots, V] for one token per row; row r's token sits at positions[r] (< length)
        and attends to its cache below it. The token's keys/values are then written there."""
        positions = np.asarray(positions, dtype=np.int32)
        if len(positions) != self.slots:
            raise ValueError(f"decode got {len(positions)} rows for a cache of {self.slots}")
        if positions.max(initial=0) >= self.length:
            raise ValueError(f"position {positions.max()} is outside the cache ({self.length} positions)")
        if self._kv is not None:
            return self._decode_steps(token_ids, positions)
        sub, ins, outs = self._sub["decode"], self._in["decode"], self._out["decode"]
        self._w.SetTensor(ins["x"], self.embed(token_ids, positions), sub)
        self._w.SetTensor(ins["positions"], positions, sub)
        self._w.Invoke(sub)
        logits = self._w.GetTensor(outs["logits"], sub)
        k_new = self._w.GetTensor(outs["k"], sub)  # [layers, slots, heads, head_dim]
        v_new = self._w.GetTensor(outs["v"], sub)
        rows = np.arange(self.slots)
        for caches, new in zip(self.cache(), (k_new, v_new)):
            for i, c in enumerate(caches):
                c[rows, :, positions] = new[i]  # row r, every head, position positions[r]
        return logits

    def _decode_steps(self, token_ids, positions) -> np.ndarray:
        """`decode` on the int8 cache: the layers' signatures, each layer's attention in between."""
        x = self.embed(token_ids, positions)
        self._kv.positions[:] = positions
        w, sub = self._w, self._sub
        self._x_in[0][...] = x
        w.Invoke(sub["step_0"])
        for i in range(self.num_layers):
            self._kv.attend(i, self._qkv_out[i], self._o_in[i + 1])
            self._x_in[i + 1][...] = x if i == 0 else self._x_out[i]
            w.Invoke(sub[self._steps[i + 1]])
        return w.GetTensor(self._out[self._steps[-1]]["logits"], sub[self._steps[-1]])
