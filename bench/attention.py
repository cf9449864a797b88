"""Where an 8-row decode step goes: the served LiteRT int8 step of GPT-2 124M (random weights)
with its key/value cache in float32 (attention in the graph) and in int8 (`ariane.kv_cache`: the
step cut around attention, a C kernel in between), against the same step with attention removed
(each token sees only itself), at 1 and 8 rows and 128 and 512 cached positions, timed
alternately in one process (run by hand, ~3 min).

The difference from "without attention" is what reading each row's cache costs:
rows x positions x 2 x 12 layers x 768 x 4 bytes per step in float32 (75 MB at 8 x 128), a
quarter of that in int8.

    .venv/bin/python bench/attention.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _no_attention_decode(weights, variables):
    """ariane.decoder's decode step with the attention over the cache taken out."""
    import tensorflow as tf

    from ariane.decoder import LAYER_KEYS, _dense, _layer_norm, _mlp

    def const(a):
        variables.append(tf.Variable(a, trainable=False))
        return variables[-1]

    H, D, d, NL = weights.num_heads, weights.head_dim, weights.hidden_dim, weights.num_layers
    layers = [{k: const(np.ascontiguousarray(p[k].T) if p[k].ndim == 2 else p[k]) for k in LAYER_KEYS} for p in weights.layers]
    wte, lnf_g, lnf_b = const(weights.wte), const(weights.lnf_g), const(weights.lnf_b)
    spec = [tf.TensorSpec([None, H, None, D], tf.float32, name=f"{kv}_cache_{i}") for kv in "kv" for i in range(NL)]

    @tf.function(input_signature=[tf.TensorSpec([None, d], tf.float32), tf.TensorSpec([None], tf.int32), *spec])
    def decode(x, positions, *caches):
        S = tf.shape(x)[0]
        ks, vs = [], []
        for p in layers:
            q, k, v = tf.split(_dense(tf, _layer_norm(tf, x, p["ln1_g"], p["ln1_b"]), p["w_qkv"], p["b_qkv"]), 3, axis=-1)
            x = _mlp(tf, x + _dense(tf, v, p["w_o"], p["b_o"]), p)
            ks.append(tf.reshape(k, [S, H, D]))
            vs.append(tf.reshape(v, [S, H, D]))
        return {"logits": _dense(tf, _layer_norm(tf, x, lnf_g, lnf_b), wte), "k": tf.stack(ks), "v": tf.stack(vs)}

    return decode


def _convert_no_attention(weights) -> bytes:
    import tensorflow as tf

    module = tf.Module()
    module.weights = []
    module.decode = _no_attention_decode(weights, module.weights)
    with tempfile.TemporaryDirectory() as tmp:
        tf.saved_model.save(module, tmp, signatures={"decode": module.decode.get_concrete_function()})
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=["decode"])
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()


def _decode_step(blob: bytes, rows: int, length: int, weights):
    """A function running one decode invoke of `blob` (the no-attention model) at rows x length."""
    from ariane.litert import _interpreter_class, default_threads

    it = _interpreter_class()(model_content=blob, num_threads=default_threads())
    w = it._interpreter
    ins = it._get_full_signature_list()["decode"]["inputs"]
    sub = w.GetSubgraphIndexFromSignature("decode")
    H, D, d = weights.num_heads, weights.head_dim, weights.hidden_dim
    shapes = {"x": (rows, d), "positions": (rows,)}
    shapes.update({f"{kv}_cache_{i}": (rows, H, length, D) for kv in "kv" for i in range(weights.num_layers)})
    for name, shape in shapes.items():
        w.ResizeInputTensor(ins[name], np.array(shape, np.int32), False, sub)
    w.AllocateTensors(sub)
    rng = np.random.default_rng(0)
    for name, shape in shapes.items():
        value = np.full(shape, length - 1, np.int32) if name == "positions" else rng.standard_normal(shape).astype(np.float32)
        w.SetTensor(ins[name], value, sub)
    for _ in range(3):
        w.Invoke(sub)
    return it, lambda: w.Invoke(sub)


def _served_step(decoder, rows: int, length: int):
    """A function running one decode step of `decoder` (a LiteRTDecoder) with rows x length cached
    positions (random keys and values, each row at its last position)."""
    rng = np.random.default_rng(0)
    decoder.reserve(rows, length)
    shape = (decoder.num_layers, decoder.num_heads, length - 1, decoder.head_dim)
    for row in range(rows):
        decoder.write(row, rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32))
    tokens, positions = np.arange(rows), np.full(rows, length - 1, np.int32)
    for _ in range(3):
        decoder.decode(tokens, positions)
    return lambda: decoder.decode(tokens, positions)


def main() -> int:
    from ariane.decoder import DecoderWeights
    from ariane.litert import LiteRTDecoder
    from ariane.model import gpt2_124m

    weights = DecoderWeights.from_backbone(gpt2_124m().lm.backbone)
    cache = Path(tempfile.gettempdir()) / "ariane-bench-attention"
    f32 = LiteRTDecoder(weights, "int8", cache_dir=cache, kv_cache="fp32")
    i8 = LiteRTDecoder(weights, "int8", cache_dir=cache, kv_cache="int8")
    bare = _convert_no_attention(weights)
    print("| rows x cached positions | float32 cache (ms) | int8 cache (ms) | without attention (ms) | attention: float32 / int8 | cache read per step: float32 / int8 |")
    print("|---|---|---|---|---|---|")
    for rows, length in ((1, 128), (8, 128), (1, 512), (8, 512)):
        steps = [_served_step(f32, rows, length), _served_step(i8, rows, length), _decode_step(bare, rows, length, weights)[1]]
        times = [[], [], []]
        for _ in range(100):  # alternate, so that a busy moment hits all three
            for j, step in enumerate(steps):
                t = time.perf_counter()
                step()
                times[j].append(time.perf_counter() - t)
        a, b, c = (1000 * float(np.median(t)) for t in times)
        mb = rows * length * 2 * weights.num_layers * weights.hidden_dim * 4 / 1e6
        print(f"| {rows} x {length} | {a:.2f} | {b:.2f} | {c:.2f} | {a - c:.2f} / {b - c:.2f} ms | {mb:.0f} / {mb / 4:.0f} MB |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
