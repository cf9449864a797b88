"""What the crisis classifier reads in a message: its meaning (e5) and its spelling (hashed n-grams).

Two views of one message, side by side in one vector:

- **meaning**: the multilingual-e5-small sentence vector (ariane.knowledge.e5), 384 numbers,
  scaled by `E5_WEIGHT` so that it weighs about as much as the n-grams in a linear model;
- **spelling**: character n-grams (2 to 5 letters, inside word boundaries) and word unigrams and
  bigrams of the normalised text (`ariane.safety.text.normalise`: case, accents, leetspeak,
  repeated letters undone), hashed into `BUCKETS` columns (crc32, so the same in every process),
  counted as 1 + log(count) and scaled to unit length.

The spelling view tells "hang a picture" from "hang myself", which sit close in e5's space; the
meaning view carries what no word list has seen ("I won't be needing my savings"). Training
(ariane.safety.train) and serving build the vector with this one module, so they cannot drift.

Example:
    >>> cols, vals = ngrams("Je veux en finir")
    >>> len(cols) == len(vals) and abs(float((vals ** 2).sum()) - 1) < 1e-6
    True
"""

from __future__ import annotations

import zlib

import numpy as np

from ariane.safety.text import normalise

BUCKETS = 1 << 18  # hashed n-gram columns (262,144: few collisions for ~10^5 distinct n-grams)
CHAR_N = (2, 3, 4, 5)  # character n-gram lengths, inside " word " boundaries
E5_WEIGHT = 1.0  # scale of the unit e5 vector next to the unit n-gram vector (leave-one-writer-out: 0.5, 1, 1.5, 3, 6 tried; 1 best)
MAX_CHARS = 4000  # only the first 4,000 normalised characters are read (bounds the cost)


def _grams(text: str) -> list[str]:
    words = text.split()
    out = [f"w:{w}" for w in words]
    out += [f"b:{a} {b}" for a, b in zip(words, words[1:])]
    for w in words:
        padded = f" {w} "
        for n in CHAR_N:
            out += [padded[i : i + n] for i in range(max(len(padded) - n + 1, 0))]
    return out


def ngrams(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(column indices, values) of the message's hashed n-gram vector, unit length."""
    counts: dict[int, int] = {}
    for g in _grams(normalise(text)[:MAX_CHARS]):
        col = zlib.crc32(g.encode("utf-8")) % BUCKETS
        counts[col] = counts.get(col, 0) + 1
    if not counts:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    cols = np.fromiter(counts.keys(), np.int64, len(counts))
    vals = 1.0 + np.log(np.fromiter(counts.values(), np.float32, len(counts)))
    return cols, (vals / np.linalg.norm(vals)).astype(np.float32)


def matrix(vectors: np.ndarray, texts: list[str]):
    """The training matrix, scipy CSR (len(texts), 384 + BUCKETS): e5 vectors then n-grams."""
    from scipy.sparse import csr_matrix, hstack

    rows, cols, vals = [], [], []
    for i, t in enumerate(texts):
        c, v = ngrams(t)
        rows.append(np.full(len(c), i))
        cols.append(c)
        vals.append(v)
    grams = csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(texts), BUCKETS))
    return hstack([csr_matrix(np.asarray(vectors, np.float32) * E5_WEIGHT), grams]).tocsr()


def scores(weights: np.ndarray, bias: np.ndarray, vector: np.ndarray, text: str) -> np.ndarray:
    """Linear scores of one message: weights (heads, 384 + BUCKETS), bias (heads,) -> (heads,)."""
    dim = vector.shape[0]
    cols, vals = ngrams(text)
    return bias + weights[:, :dim] @ (vector * E5_WEIGHT) + weights[:, dim + cols] @ vals
