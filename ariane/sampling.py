"""Choosing the next token from logits: greedy, temperature, top-k, top-p, repetition penalty.

Runs in NumPy on one row of logits (50,257 floats, ~0.2 MB), once per token and per stream, in
the decoding thread: with 8 batched streams it runs 8 times per decode step, so it must cost
little next to the step (~10 ms). Two things keep it at ~65 us instead of ~540 us (measured in
bench/sampling.py):

- top-k looks for the k largest logits among those above a threshold first (`top_k_ids`, exact);
- the repetition penalty's set of seen tokens is kept up to date (`SeenTokens`), not rebuilt.
"""

from __future__ import annotations

import numpy as np

from ariane.settings import GenerationConfig

_SAMPLE = 1024  # logits looked at to set top-k's threshold (the result does not depend on it)


class SeenTokens:
    """The tokens of a prompt and its reply so far, and their distinct ids as an array.

    Example:
        >>> seen = SeenTokens([5, 3, 5])
        >>> seen.add(7); seen.ids.tolist()
        [3, 5, 7]
    """

    def __init__(self, token_ids=()):
        self._set = set(int(t) for t in token_ids)
        self._ids = np.array(sorted(self._set), dtype=np.int64)

    def add(self, token: int) -> None:
        token = int(token)
        if token not in self._set:
            self._set.add(token)
            self._ids = np.append(self._ids, token)

    @property
    def ids(self) -> np.ndarray:
        """Distinct token ids (int64), no order promised."""
        return self._ids

    def __len__(self) -> int:
        return len(self._set)


def _distinct(seen) -> np.ndarray:
    if isinstance(seen, SeenTokens):
        return seen.ids
    return np.unique(np.asarray(seen, dtype=np.int64))


def apply_repetition_penalty(logits: np.ndarray, seen, penalty: float) -> np.ndarray:
    """CTRL's penalty (Keskar et al., 2019): divide positive logits of seen tokens, multiply negative ones.

    Args:
        seen: SeenTokens or a sequence of token ids (repeats allowed).
    """
    if penalty == 1.0 or not len(seen):
        return logits
    ids = _distinct(seen)
    vals = logits[ids]
    logits = logits.copy()
    logits[ids] = np.where(vals > 0, vals / penalty, vals * penalty)
    return logits


def top_k_ids(logits: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest logits (any order), the set `np.argpartition(logits, -k)[-k:]`
    selects (up to ties), without partitioning the whole row when it can be avoided.

    Any threshold with at least k logits at or above it has the k largest among those. The
    threshold comes from a strided sample of ~1,000 logits, set so that ~4k logits pass; if fewer
    than k do (an unlucky sample), the whole row is partitioned.

    Example:
        >>> sorted(top_k_ids(np.array([0.1, 5.0, 3.0, -2.0, 4.0]), 2).tolist())
        [1, 4]
    """
    if k >= logits.size:
        return np.arange(logits.size)
    step = max(1, logits.size // _SAMPLE)
    sample = logits[::step]
    m = min(sample.size, 2 + 4 * k // step)
    cand = np.flatnonzero(logits >= np.partition(sample, -m)[-m])
    if len(cand) < k:
        return np.argpartition(logits, -k)[-k:]
    return cand if len(cand) == k else cand[np.argpartition(logits[cand], -k)[-k:]]


def next_token(logits: np.ndarray, seen, config: GenerationConfig, rng: np.random.Generator) -> int:
    """One token id from a 1-D row of logits.

    Args:
        seen: SeenTokens or a sequence of token ids: what the repetition penalty applies to.

    Example:
        >>> cfg = GenerationConfig(temperature=0)
        >>> next_token(np.array([0.1, 2.0, 0.3]), [], cfg, np.random.default_rng(0))
        1
    """
    logits = np.asarray(logits, dtype=np.float32).reshape(-1)
    logits = apply_repetition_penalty(logits, seen, config.repetition_penalty)
    if config.temperature == 0:
        return int(np.argmax(logits))
    if config.top_k and config.top_k < logits.size:  # the order of logits does not change with the temperature
        candidates = top_k_ids(logits, config.top_k)
    else:
        candidates = np.arange(logits.size)
    cand_logits = logits[candidates] / config.temperature
    order = np.argsort(-cand_logits)
    candidates, cand_logits = candidates[order], cand_logits[order]
    probs = np.exp(cand_logits - cand_logits[0])
    probs /= probs.sum()
    if config.top_p < 1.0:
        keep = int(np.searchsorted(np.cumsum(probs), config.top_p) + 1)
        candidates, probs = candidates[:keep], probs[:keep] / probs[:keep].sum()
    return int(candidates[rng.choice(len(candidates), p=probs)])
