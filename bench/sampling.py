"""CPU time of choosing one token (ariane.sampling.next_token) vs the plain computation (full
`np.unique` of the seen tokens, full `argpartition` for top-k), at the served defaults (run by hand).

With batching the decoding thread samples every row after each step, so 8 streams pay this
8 times per ~10 ms step.

    .venv/bin/python bench/sampling.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ariane.sampling import SeenTokens, apply_repetition_penalty, next_token  # noqa: E402
from ariane.settings import GenerationConfig  # noqa: E402


def plain_next_token(logits, seen, config, rng) -> int:
    """The textbook sampler Ariane's must match token for token (tests/test_sampling.py)."""
    logits = apply_repetition_penalty(np.asarray(logits, np.float32), list(seen), config.repetition_penalty) / config.temperature
    cand = np.argpartition(logits, -config.top_k)[-config.top_k :]
    cl = logits[cand]
    order = np.argsort(-cl)
    cand, cl = cand[order], cl[order]
    probs = np.exp(cl - cl[0])
    probs /= probs.sum()
    keep = int(np.searchsorted(np.cumsum(probs), config.top_p) + 1)
    return int(cand[:keep][rng.choice(keep, p=probs[:keep] / probs[:keep].sum())])


def cpu_us(fn, rows, seen, cfg, repeats: int = 30) -> float:
    rng = np.random.default_rng(0)
    t = time.thread_time()  # CPU time of this thread: not inflated by other processes
    for _ in range(repeats):
        for row in rows:
            fn(row, seen, cfg, rng)
    return (time.thread_time() - t) / (repeats * len(rows)) * 1e6


def main() -> int:
    cfg = GenerationConfig()
    rng = np.random.default_rng(0)
    print(f"served defaults: temperature {cfg.temperature}, top-k {cfg.top_k}, top-p {cfg.top_p}, repetition penalty {cfg.repetition_penalty}")
    print("| logits spread (std) | seen tokens | plain (us/row) | Ariane (us/row) | speed-up |\n|---|---|---|---|---|")
    for spread in (1.0, 3.0, 10.0):
        rows = (rng.standard_normal((8, 50257)) * spread).astype(np.float32)
        ids = rng.integers(0, 50257, 400).tolist()
        plain = cpu_us(plain_next_token, rows, ids, cfg)
        ours = cpu_us(next_token, rows, SeenTokens(ids), cfg)
        print(f"| {spread} | {len(ids)} | {plain:.0f} | {ours:.0f} | {plain / ours:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
