"""GPT-2's forward pass as plain TensorFlow functions, laid out for serving.

`DecoderWeights.from_backbone` copies a KerasHub GPT-2 backbone's weights into the layout a
decode step wants (q, k and v fused into one [d, 3d] matrix per layer). `serving_functions` builds:

- `prefill(x [1, T, d], last [])`
  -> logits [1, V] at position `last`, and k, v [layers, 1, heads, T, head_dim] for the cache.
- `decode(x [S, d], positions [S], k_cache_0..k_cache_{layers-1}, v_cache_0.. [S, heads, L, head_dim])`
  -> logits [S, V], and the step's k, v [layers, S, heads, head_dim].
- `step_0(x)` -> qkv, `step_i(x, o)` -> x, qkv (0 < i < layers), `step_{layers}(x, o)` -> logits:
  the same decode step cut around its attention, which then runs outside the model on an int8
  cache (`ariane.kv_cache`). qkv [S, 3d] is layer i's query, key and value of each row's token,
  o [S, d] the attention output of layer i - 1, x [S, d] the residual stream entering layer i.

The cache is an input and the step's own keys/values are outputs: the runtime writes them in
place at `positions` (`ariane.litert`), so no step copies the cache. Row s attends to cache
positions < positions[s] plus itself, so rows (conversations) of different lengths share one
step and never see each other. `x` is the token embedding plus the position embedding, which the
caller looks up (`LiteRTDecoder.embed`, one row copy per token): the [V, d] table stays out of
the compiled graph, which keeps only its transpose for the logits.

Example:
    >>> w = DecoderWeights.from_backbone(model.lm.backbone)          # doctest: +SKIP
    >>> fns = serving_functions(w)          # {"prefill": ..., "decode": ..., "step_0": ...}  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

LAYER_KEYS = ("ln1_g", "ln1_b", "w_qkv", "b_qkv", "w_o", "b_o", "ln2_g", "ln2_b", "w_fc", "b_fc", "w_proj", "b_proj")
GRAPH_VERSION = "4"  # bump when the functions below change: cached compiled models are keyed on it
LN_EPSILON = 1e-5  # GPT-2's layer norm epsilon (KerasHub GPT2Backbone)
MASKED = -1e9  # attention logit of a cache position a row must not see


@dataclass
class DecoderWeights:
    """A GPT-2's weights as float32 NumPy arrays, in decode order.

    Args:
        layers: list of dict. Per transformer block: LAYER_KEYS -> array.
        wte: np.ndarray. Token embeddings [V, d] (looked up by the caller).
        wpe: np.ndarray. Position embeddings [max_positions, d].
        lnf_g: np.ndarray. Final layer norm scale [d].
        lnf_b: np.ndarray. Final layer norm offset [d].
        num_heads: int. Attention heads.
    """

    layers: list
    wte: np.ndarray
    wpe: np.ndarray
    lnf_g: np.ndarray
    lnf_b: np.ndarray
    num_heads: int

    @property
    def hidden_dim(self) -> int:
        return int(self.wte.shape[1])

    @property
    def head_dim(self) -> int:
        return self.hidden_dim // self.num_heads

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def max_positions(self) -> int:
        return int(self.wpe.shape[0])

    @classmethod
    def from_backbone(cls, backbone) -> "DecoderWeights":
        """Copy the weights of a `keras_hub.models.GPT2Backbone` (LoRA deltas merged in)."""
        d = int(backbone.hidden_dim)

        def arr(v, shape=None):
            a = np.asarray(v)
            if not np.issubdtype(a.dtype, np.floating):
                raise ValueError(
                    f"the model holds {a.dtype} weights (a Keras-quantized model?); load the float "
                    "model and pick the precision with Generator(model, precision=...) instead"
                )
            a = a.astype(np.float32)
            return a.reshape(shape) if shape else a

        layers = []
        for block in backbone.transformer_layers:
            att = block._self_attention_layer
            q, k, v = att._query_dense, att._key_dense, att._value_dense
            layers.append({
                "ln1_g": arr(block._self_attention_layer_norm.gamma),
                "ln1_b": arr(block._self_attention_layer_norm.beta),
                "w_qkv": np.concatenate([arr(x.kernel, (d, d)) for x in (q, k, v)], axis=1),
                "b_qkv": np.concatenate([arr(x.bias, (d,)) for x in (q, k, v)]),
                "w_o": arr(att._output_dense.kernel, (d, d)),
                "b_o": arr(att._output_dense.bias, (d,)),
                "ln2_g": arr(block._feedforward_layer_norm.gamma),
                "ln2_b": arr(block._feedforward_layer_norm.beta),
                "w_fc": arr(block._feedforward_intermediate_dense.kernel),
                "b_fc": arr(block._feedforward_intermediate_dense.bias),
                "w_proj": arr(block._feedforward_output_dense.kernel),
                "b_proj": arr(block._feedforward_output_dense.bias),
            })
        return cls(
            layers=layers,
            wte=arr(backbone.token_embedding.embeddings),
            wpe=arr(backbone.position_embedding.position_embeddings),
            lnf_g=arr(backbone.layer_norm.gamma),
            lnf_b=arr(backbone.layer_norm.beta),
            num_heads=int(backbone.num_heads),
        )

    @property
    def num_params(self) -> int:
        return sum(a.size for a in [self.wte, self.wpe, self.lnf_g, self.lnf_b] + [l[k] for l in self.layers for k in LAYER_KEYS])

    def fingerprint(self) -> str:
        """A hash of every weight and of GRAPH_VERSION: the key of a cached compiled model."""
        h = hashlib.blake2b(digest_size=16)
        h.update(f"v{GRAPH_VERSION} h{self.num_heads}".encode())
        for a in [self.wte, self.wpe, self.lnf_g, self.lnf_b] + [l[k] for l in self.layers for k in LAYER_KEYS]:
            h.update(str(a.shape).encode())
            h.update(np.ascontiguousarray(a).data)
        return h.hexdigest()


def _layer_norm(tf, x, g, b):
    mean = tf.reduce_mean(x, -1, keepdims=True)
    var = tf.reduce_mean(tf.square(x - mean), -1, keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + LN_EPSILON) * g + b


def _dense(tf, x, w_t, b=None):
    """x @ w + b with w stored transposed, [out, in]: the layout of LiteRT's FULLY_CONNECTED, so
    the converter has no constant to transpose (that halves the conversion time)."""
    y = tf.matmul(x, w_t, transpose_b=True)
    return y if b is None else y + b


def _mlp(tf, x, p):
    h = _layer_norm(tf, x, p["ln2_g"], p["ln2_b"])
    h = tf.nn.gelu(_dense(tf, h, p["w_fc"], p["b_fc"]), approximate=True)
    return x + _dense(tf, h, p["w_proj"], p["b_proj"])


def serving_functions(weights: DecoderWeights, variables: list | None = None) -> dict:
    """Every function of the module doc, by signature name, over one copy of the weights:
    "prefill", "decode", and "step_0" .. "step_{layers}".

    Cutting the step around attention costs ~nothing: for GPT-2 124M, its 13 invokes back to back
    took as long as one step without attention in an ad hoc run (the weights are read once per
    step either way).

    Args:
        variables: list | None. None: the weights are graph constants. A list: they become
            tf.Variables, appended to it (to save the functions as a SavedModel: the LiteRT
            converter reads variables from a SavedModel much faster than constants from a graph).
    """
    import tensorflow as tf

    def const(a):
        if variables is None:
            return tf.constant(a)
        variables.append(tf.Variable(a, trainable=False))
        return variables[-1]

    H, D, d, NL = weights.num_heads, weights.head_dim, weights.hidden_dim, weights.num_layers
    scale = 1.0 / float(np.sqrt(D))
    layers = [{k: const(np.ascontiguousarray(p[k].T) if p[k].ndim == 2 else p[k]) for k in LAYER_KEYS} for p in weights.layers]
    wte = const(weights.wte)  # [V, d]: already the [out, in] layout of the tied output projection
    lnf_g, lnf_b = const(weights.lnf_g), const(weights.lnf_b)

    def logits(x):
        return _dense(tf, _layer_norm(tf, x, lnf_g, lnf_b), wte)

    @tf.function(input_signature=[tf.TensorSpec([1, None, d], tf.float32), tf.TensorSpec([], tf.int32)])
    def prefill(x, last):
        T = tf.shape(x)[1]
        causal = tf.range(T)[:, None] >= tf.range(T)[None, :]
        bias = tf.expand_dims(tf.where(causal, 0.0, MASKED), 0)  # [1, T, T]
        x = x[0]
        ks, vs = [], []
        for p in layers:
            h = _layer_norm(tf, x, p["ln1_g"], p["ln1_b"])
            q, k, v = tf.split(_dense(tf, h, p["w_qkv"], p["b_qkv"]), 3, axis=-1)
            q, k, v = (tf.transpose(tf.reshape(t, [T, H, D]), [1, 0, 2]) for t in (q, k, v))  # [H, T, D]
            att = tf.nn.softmax(tf.matmul(q * scale, k, transpose_b=True) + bias)
            o = tf.reshape(tf.transpose(tf.matmul(att, v), [1, 0, 2]), [T, d])
            x = _mlp(tf, x + _dense(tf, o, p["w_o"], p["b_o"]), p)
            ks.append(k)
            vs.append(v)
        out = logits(tf.gather(x, tf.reshape(last, [1])))
        return {"logits": out, "k": tf.expand_dims(tf.stack(ks), 1), "v": tf.expand_dims(tf.stack(vs), 1)}

    cache_spec = [tf.TensorSpec([None, H, None, D], tf.float32, name=f"{kv}_cache_{i}") for kv in "kv" for i in range(NL)]

    @tf.function(input_signature=[tf.TensorSpec([None, d], tf.float32), tf.TensorSpec([None], tf.int32), *cache_spec])
    def decode(x, positions, *caches):
        k_caches, v_caches = caches[:NL], caches[NL:]
        S, L = tf.shape(x)[0], tf.shape(k_caches[0])[2]
        seen = tf.range(L)[None, :] < positions[:, None]  # [S, L]: cache entries this row may attend to
        bias = tf.expand_dims(tf.where(seen, 0.0, MASKED), 1)  # [S, 1, L]
        ks, vs = [], []
        for p, k_cache, v_cache in zip(layers, k_caches, v_caches):
            h = _layer_norm(tf, x, p["ln1_g"], p["ln1_b"])
            q, k, v = tf.split(_dense(tf, h, p["w_qkv"], p["b_qkv"]), 3, axis=-1)
            q, k, v = (tf.reshape(t, [S, H, 1, D]) for t in (q, k, v))
            q = q * scale
            # One query per row: multiply-and-sum reads the cache once, faster on LiteRT than a
            # batched matmul of [1, D] x [D, L] products (measured: 10 vs 7 GB/s).
            scores = tf.concat([tf.reduce_sum(q * k_cache, -1) + bias, tf.reduce_sum(q * k, -1)], -1)
            att = tf.nn.softmax(scores)  # [S, H, L + 1]: the cache, then the token itself
            o = tf.reduce_sum(tf.expand_dims(att[..., :L], -1) * v_cache, 2) + att[..., L:] * v[:, :, 0]
            x = _mlp(tf, x + _dense(tf, tf.reshape(o, [S, d]), p["w_o"], p["b_o"]), p)
            ks.append(tf.reshape(k, [S, H, D]))
            vs.append(tf.reshape(v, [S, H, D]))
        return {"logits": logits(x), "k": tf.stack(ks), "v": tf.stack(vs)}

    def qkv(x, p):
        return _dense(tf, _layer_norm(tf, x, p["ln1_g"], p["ln1_b"]), p["w_qkv"], p["b_qkv"])

    spec = tf.TensorSpec([None, d], tf.float32)

    @tf.function(input_signature=[spec])
    def step_0(x):
        return {"qkv": qkv(x, layers[0])}

    def step_after(i):
        @tf.function(input_signature=[spec, spec])
        def step(x, o):
            p = layers[i - 1]
            x = _mlp(tf, x + _dense(tf, o, p["w_o"], p["b_o"]), p)
            if i == NL:
                return {"logits": logits(x)}
            return {"x": x, "qkv": qkv(x, layers[i])}

        return step

    return {"prefill": prefill, "decode": decode, "step_0": step_0, **{f"step_{i}": step_after(i) for i in range(1, NL + 1)}}
