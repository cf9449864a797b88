"""Fine-tune MiniLM for retrieval: LoRA on its upper layers, learnt from the curated phrasings.

Retrieval scores a player's message by its cosine to the mean vector of an entry's phrasings
(question + paraphrases), so training asks exactly that of every phrasing: be closer to the
centroid of its own entry's other phrasings than to any other entry's centroid in the batch
(softmax over cosines / tau). A batch holds whole categories, so the negatives are the near
neighbours that retrieval confuses ("signs of burnout" vs "what is burnout").

Only layers >= `first_layer` get LoRA; the frozen layers below run once, in NumPy, and their
hidden states are kept, so a step pays for the upper layers only.

Honest selection: `cross_validate` holds out one paraphrase per entry (seeded), trains every
candidate on the other phrasings, and measures the held-out paraphrases' top-1 against the
centroids of the rest, every `eval_every` steps. The chosen run's adapter is then interpolated
toward the base model (its correction scaled by a `strength` among STRENGTHS, measured the same
way: WiSE-FT's weight-space ensemble, which for LoRA is a scale on B); a model pulled partly back
to its base often holds up better on wordings unlike its training ones. The best candidate, step
count and strength are then trained again on all phrasings. data/heldout is never read here.

TensorFlow is imported by this module only (`python -m data encoder --train`); the app applies
the result in NumPy (`MiniLM.adapted`).

Example:
    >>> config, report = cross_validate(load_entries(), MiniLM(model_dir()), TuneConfig())
    >>> adapter, history = train(MiniLM(model_dir()), load_entries(), config)
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from ariane.knowledge.adapter import Adapter, validation_split
from ariane.knowledge.minilm import MODEL_ID

TARGETS = ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense")  # every dense layer of a BERT block  # fmt: skip


@dataclass(frozen=True)
class TuneConfig:
    """How the adapter is trained; `cross_validate` picks `lr`, `steps` (CANDIDATES) and `strength` (STRENGTHS)."""

    rank: int = 8  # LoRA rank: 8 x (in + out) floats per adapted layer -> 0.33 M floats on 4 layers
    alpha: float = 16.0  # LoRA scale = alpha / rank = 2
    first_layer: int = 2  # LoRA on layers 2..5 of 6; layers 0-1 stay frozen and run once
    lr: float = 5e-4  # Adam learning rate
    steps: int = 200  # optimiser steps; one step = categories_per_batch categories x per_entry phrasings
    eval_every: int = 25  # steps between validation measures (the step count is chosen among them)
    per_entry: int = 4  # phrasings of each entry per batch: each is an anchor, the others its centroid
    categories_per_batch: int = 2  # ~44 entries a batch (22 per category): the negatives are neighbours
    tau: float = 0.05  # softmax temperature on cosines (sentence-transformers' usual scale of 20)
    seed: int = 0  # validation split, LoRA init and batch order
    threads: int = 1  # TF intra-/inter-op threads: 1 = deterministic and polite on a shared 2-core machine
    strength: float = 1.0  # share of the learnt correction the written adapter keeps (cross-validated: STRENGTHS)


CHUNKS = 4  # a batch runs as 4 forward passes of similar lengths: ~2x less padding than one
CANDIDATES = ({"lr": 3e-4}, {"lr": 1e-3})  # cross-validated; steps: every eval_every up to `steps`
STRENGTHS = (1.0, 0.75, 0.5)  # cross-validated after the step count: 1 = the trained adapter, 0 would be the base


def _phrasings(entries, held: list[int] | None):
    """(texts, owners) used for training and (texts, owners) held out."""
    train, train_owner, val, val_owner = [], [], [], []
    for i, e in enumerate(entries):
        for j, text in enumerate((e.question, *e.paraphrases)):
            if held is not None and j == held[i]:
                val.append(text), val_owner.append(i)
            else:
                train.append(text), train_owner.append(i)
    return train, np.array(train_owner), val, np.array(val_owner, dtype=int)


def _lower_states(base, texts: list[str], first_layer: int) -> list[np.ndarray]:
    """Hidden states (tokens, dim) of each text after the frozen layers, computed once in NumPy."""
    out: list[np.ndarray] = [None] * len(texts)
    encodings = base.tokenizer.encode_batch(list(texts))
    order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
    for start in range(0, len(order), 64):
        idx = order[start : start + 64]
        ids, mask = _pad([np.array(encodings[i].ids) for i in idx])
        x = base.embeddings(ids)
        for layer in range(first_layer):
            x = base.layer(layer, x, mask)
        for row, i in enumerate(idx):
            out[i] = x[row, : len(encodings[i].ids)].astype(np.float32)
    return out


def _pad(rows: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    t = max(len(r) for r in rows)
    mask = np.zeros((len(rows), t), np.float32)
    padded = np.zeros((len(rows), t, *rows[0].shape[1:]), rows[0].dtype)
    for i, r in enumerate(rows):
        padded[i, : len(r)], mask[i, : len(r)] = r, 1.0
    return padded, mask


class _Upper:
    """The upper layers in TensorFlow with trainable LoRA pairs (A random, B zero: starts as the base)."""

    def __init__(self, base, config: TuneConfig):
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(config.threads)
            tf.config.threading.set_inter_op_parallelism_threads(config.threads)
        except RuntimeError:  # TensorFlow already ran in this process (a notebook, the test suite): keep its threads
            pass
        tf.random.set_seed(config.seed)
        self.tf, self.base, self.config = tf, base, config
        self.scale = config.alpha / config.rank
        rng = np.random.default_rng(config.seed)
        layers = range(config.first_layer, base.layers)
        self.w = {k: tf.constant(v) for k, v in base.w.items() if k.startswith("encoder.layer.") and int(k.split(".")[2]) in layers}
        self.names = [f"encoder.layer.{i}.{t}" for i in layers for t in TARGETS]
        self.a, self.b = {}, {}
        for name in self.names:
            fan_in, fan_out = base.w[name + ".weight"].shape
            self.a[name] = tf.Variable(rng.normal(0.0, 1.0 / np.sqrt(fan_in), (fan_in, config.rank)).astype(np.float32))
            self.b[name] = tf.Variable(np.zeros((config.rank, fan_out), np.float32))
        self.variables = [v for n in self.names for v in (self.a[n], self.b[n])]
        self.m = [tf.Variable(tf.zeros_like(v)) for v in self.variables]  # Adam moments
        self.v = [tf.Variable(tf.zeros_like(v)) for v in self.variables]
        self.t = tf.Variable(0.0)
        spec = (tf.TensorSpec([None, None, base.dim], tf.float32), tf.TensorSpec([None, None], tf.float32))
        self.embed = tf.function(self._forward, input_signature=spec, autograph=False)  # plain Python loops: ~30 % faster tracing
        self.step = tf.function(self._step, input_signature=(spec * CHUNKS, tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)), autograph=False)

    def _layer_norm(self, x, name):
        mean, var = self.tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) / self.tf.sqrt(var + self.base.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _forward(self, x, mask):
        tf, h = self.tf, self.base.heads
        b, t, d = tf.shape(x)[0], tf.shape(x)[1], self.base.dim // h
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        for i in range(self.config.first_layer, self.base.layers):
            p = f"encoder.layer.{i}."

            def dense(v, name):
                weight = self.w[p + name + ".weight"]
                flat = tf.reshape(v, [-1, weight.shape[0]])
                out = flat @ weight + self.w[p + name + ".bias"]
                out += (flat @ self.a[p + name]) @ self.b[p + name] * self.scale
                return tf.reshape(out, [b, t, -1])

            def heads(v):
                return tf.transpose(tf.reshape(v, [b, t, h, d]), [0, 2, 1, 3])

            q, k, v = (heads(dense(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
            attn = tf.nn.softmax(q @ tf.transpose(k, [0, 1, 3, 2]) / float(np.sqrt(d)) + bias, axis=-1) @ v
            attn = tf.reshape(tf.transpose(attn, [0, 2, 1, 3]), [b, t, self.base.dim])
            x = self._layer_norm(x + dense(attn, "attention.output.dense"), p + "attention.output.LayerNorm")
            ff = dense(tf.nn.gelu(dense(x, "intermediate.dense"), approximate=False), "output.dense")
            x = self._layer_norm(x + ff, p + "output.LayerNorm")
        m = mask[..., None]
        return tf.math.l2_normalize(tf.reduce_sum(x * m, 1) / tf.maximum(tf.reduce_sum(m, 1), 1e-9), axis=-1)

    def _loss(self, z, owner, n):
        """Softmax over the batch's entry centroids; an anchor's own centroid leaves the anchor out."""
        tf = self.tf
        onehot = tf.one_hot(owner, n)
        sums = tf.transpose(onehot) @ z
        logits = z @ tf.transpose(tf.math.l2_normalize(sums, axis=-1))
        own = tf.reduce_sum(z * tf.math.l2_normalize(tf.gather(sums, owner) - z, axis=-1), -1)
        logits = logits * (1.0 - onehot) + own[:, None] * onehot
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(owner, logits / self.config.tau))

    def _step(self, chunks, owner, n):
        """One Adam step; `chunks` = (x, mask) * CHUNKS, the batch's phrasings by length, in `owner`'s order."""
        tf = self.tf
        with tf.GradientTape() as tape:
            z = tf.concat([self._forward(chunks[i], chunks[i + 1]) for i in range(0, len(chunks), 2)], 0)
            loss = self._loss(z, owner, n)
        grads = tape.gradient(loss, self.variables)
        self.t.assign_add(1.0)
        lr = self.config.lr * tf.sqrt(1.0 - 0.999**self.t) / (1.0 - 0.9**self.t)
        for var, g, m, v in zip(self.variables, grads, self.m, self.v):
            m.assign(0.9 * m + 0.1 * g)
            v.assign(0.999 * v + 0.001 * g * g)
            var.assign_sub(lr * m / (tf.sqrt(v) + 1e-8))
        return loss

    def vectors(self, states: list[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(states), self.base.dim), np.float32)
        order = sorted(range(len(states)), key=lambda i: len(states[i]))
        for start in range(0, len(order), 128):
            idx = order[start : start + 128]
            out[idx] = self.embed(*_pad([states[i] for i in idx])).numpy()
        return out

    def adapter(self, meta: dict) -> Adapter:
        return Adapter({n: (self.a[n].numpy(), self.b[n].numpy() * self.scale) for n in self.names}, meta).scaled(self.config.strength)


def _batches(entries, owners: np.ndarray, config: TuneConfig, rng):
    """Endless batches: `categories_per_batch` whole categories, `per_entry` phrasings of each entry."""
    by_entry = [np.flatnonzero(owners == i) for i in range(len(entries))]
    categories = sorted({e.category for e in entries})
    members = {c: [i for i, e in enumerate(entries) if e.category == c] for c in categories}
    per_batch = min(config.categories_per_batch, len(categories))
    while True:
        order = rng.permutation(len(categories))
        for start in range(0, len(order) - per_batch + 1, per_batch):
            chosen = [i for c in order[start : start + per_batch] for i in members[categories[c]]]
            rows, owner = [], []
            for slot, i in enumerate(chosen):
                picked = rng.choice(by_entry[i], size=min(config.per_entry, len(by_entry[i])), replace=False)
                rows.extend(picked.tolist()), owner.extend([slot] * len(picked))
            yield rows, np.array(owner, np.int32), len(chosen)


def _ranks(vectors: np.ndarray, owners: np.ndarray, queries: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """Top-1 and top-3 of `queries` against the normalised centroids of `vectors` grouped by owner."""
    centroids = np.zeros((int(owners.max()) + 1, vectors.shape[1]), np.float32)
    np.add.at(centroids, owners, vectors)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    top = np.argsort(-(queries @ centroids.T), axis=1, kind="stable")[:, :3]
    return float((top[:, 0] == gold).mean()), float((top == gold[:, None]).any(1).mean())


def train(base, entries, config: TuneConfig, held: list[int] | None = None, say=print, keep_best: bool = False):
    """Train an adapter; with `held` (validation_split), measure the held-out paraphrases as it goes.

    Args:
        base: MiniLM. The frozen base model.
        entries: list of Entry. The approved knowledge entries.
        config: TuneConfig.
        held: list of int | None. Paraphrase held out per entry; None = train on every phrasing.
        say: callable. Progress lines.
        keep_best: bool. Return the adapter at the best validated step instead of the last.

    Returns:
        (Adapter, history): history lists {"step", "loss", "top1", "top3"} per measure.
    """
    started = time.perf_counter()
    texts, owners, val_texts, val_owner = _phrasings(entries, held)
    states = _lower_states(base, texts + val_texts, config.first_layer)
    upper = _Upper(base, config)
    rng = np.random.default_rng(config.seed)
    batches = _batches(entries, owners, config, rng)
    history, losses, best = [], [], None
    meta = {"base": MODEL_ID, "config": asdict(config), "entries": len(entries), "phrasings": len(texts)}
    for step in range(config.steps + 1):
        if held is not None and step % config.eval_every == 0:
            vectors = upper.vectors(states)
            top1, top3 = _ranks(vectors[: len(texts)], owners, vectors[len(texts) :], val_owner)
            history.append({"step": step, "loss": round(float(np.mean(losses)), 4) if losses else None, "top1": round(top1, 4), "top3": round(top3, 4)})
            say(f"  step {step:4d}  loss {history[-1]['loss']}  held-out paraphrases top-1 {top1:.1%}  top-3 {top3:.1%}")
            losses = []
            if keep_best and (best is None or (top1, top3) > best[0]):
                best = ((top1, top3), upper.adapter({**meta, "steps": step}))
        if step == config.steps:
            break
        rows, owner, n = next(batches)
        order = sorted(range(len(rows)), key=lambda r: len(states[rows[r]]))
        chunks = [a for part in np.array_split(order, CHUNKS) for a in _pad([states[rows[r]] for r in part])]
        losses.append(float(upper.step(tuple(chunks), owner[order], np.int32(n))))
        if held is None and (step + 1) % config.eval_every == 0:
            say(f"  step {step + 1:4d}  loss {np.mean(losses):.4f}")
            losses = []
    meta["seconds"] = round(time.perf_counter() - started, 1)
    adapter = best[1] if best is not None else upper.adapter({**meta, "steps": config.steps})
    adapter.meta["seconds"] = meta["seconds"]
    return adapter, history


def cross_validate(base, entries, config: TuneConfig, candidates=CANDIDATES, say=print):
    """Pick the candidate and step count with the best top-1 (then top-3) on held-out paraphrases.

    Returns:
        (TuneConfig, report, Adapter): the chosen config, every candidate's history, and the
        adapter of the chosen run at its chosen step (trained without the held-out paraphrases).
    """
    held = validation_split(entries, config.seed)
    runs, best = [], None
    for candidate in candidates:
        trial = replace(config, **candidate)
        say(f"candidate {candidate}")
        adapter, history = train(base, entries, trial, held, say, keep_best=True)
        top = max(history, key=lambda h: (h["top1"], h["top3"], -h["step"]))
        runs.append({"candidate": candidate, "history": history, "seconds": adapter.meta["seconds"]})
        if best is None or (top["top1"], top["top3"]) > (best[1]["top1"], best[1]["top3"]):
            best = (replace(trial, steps=top["step"]), top, adapter)
    chosen, top, adapter = best
    strengths = choose_strength(base, entries, adapter, held, say=say)
    pick = max(strengths, key=lambda r: (r["top1"], r["top3"], r["strength"]))  # a tie keeps more of the training
    chosen, adapter = replace(chosen, strength=pick["strength"]), adapter.scaled(pick["strength"])
    report = {"validation": "one paraphrase per entry held out (seed %d), top-1/top-3 against the other phrasings' centroids" % config.seed,
              "base": {k: runs[0]["history"][0][k] for k in ("top1", "top3")}, "runs": runs, "strengths": strengths,
              "chosen": {**top, "lr": chosen.lr, "strength": chosen.strength, "top1": pick["top1"], "top3": pick["top3"]}}  # fmt: skip
    adapter.meta["validation"] = report["chosen"]
    return chosen, report, adapter


def choose_strength(base, entries, adapter: Adapter, held: list[int], strengths=STRENGTHS, say=print) -> list[dict]:
    """Held-out paraphrases' top-1/top-3 with `adapter` scaled by each strength (NumPy MiniLM).

    Returns:
        list of {"strength", "top1", "top3"}, one per strength.
    """
    texts, owners, val_texts, val_owner = _phrasings(entries, held)
    out = []
    for strength in strengths:
        vectors = base.adapted(adapter.scaled(strength)).embed(texts + val_texts)
        top1, top3 = _ranks(vectors[: len(texts)], owners, vectors[len(texts) :], val_owner)
        out.append({"strength": strength, "top1": round(top1, 4), "top3": round(top3, 4)})
        say(f"  strength {strength:.2f}  held-out paraphrases top-1 {top1:.1%}  top-3 {top3:.1%}")
    return out
