"""Where an 8-row decode step goes: the served LiteRT int8 step of GPT-2 124M (random weights)
against the same step with attention removed (each token sees only itself), at 1 and 8 rows and
128 and 512 cached positions, timed alternately in one process (run by hand, ~2 min).

The difference is what reading each row's float32 key/value cache costs:
rows x positions x 2 x 12 layers x 768 x 4 bytes per step (75 MB at 8 x 128).

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
    """A function running one decode invoke of `blob` at rows x length cached positions."""
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


def main() -> int:
    from ariane.decoder import DecoderWeights
    from ariane.litert_convert import load_or_convert
    from ariane.model import gpt2_124m

    weights = DecoderWeights.from_backbone(gpt2_124m().lm.backbone)
    cache = Path(tempfile.gettempdir()) / "ariane-bench-attention"
    served = load_or_convert(weights, "int8", cache)
    bare = _convert_no_attention(weights)
    print("| rows x cached positions | served int8 step (ms) | without attention (ms) | attention share | float32 cache read per step |")
    print("|---|---|---|---|---|")
    for rows, length in ((1, 128), (8, 128), (1, 512), (8, 512)):
        keep = [_decode_step(blob, rows, length, weights) for blob in (served, bare)]
        times = [[], []]
        for _ in range(100):  # alternate, so that a busy moment hits both
            for j, (_, step) in enumerate(keep):
                t = time.perf_counter()
                step()
                times[j].append(time.perf_counter() - t)
        a, b = (1000 * float(np.median(t)) for t in times)
        mb = rows * length * 2 * weights.num_layers * weights.hidden_dim * 4 / 1e6
        print(f"| {rows} x {length} | {a:.2f} | {b:.2f} | {(a - b) / a:.0%} | {mb:.0f} MB |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
