"""The sampler's shortcuts (ariane.sampling) choose exactly what the plain computation chooses."""

import numpy as np
import pytest

from ariane.sampling import SeenTokens, apply_repetition_penalty, next_token, top_k_ids
from ariane.settings import GenerationConfig
from bench.sampling import plain_next_token as _plain


@pytest.mark.parametrize("spread", [0.05, 1.0, 30.0])  # nearly flat (full partition), GPT-2-like, one clear winner
def test_top_k_ids_selects_the_k_largest(spread):
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = (rng.standard_normal(50257) * spread).astype(np.float32)
        for k in (1, 40, 1000):
            assert set(top_k_ids(x, k).tolist()) == set(np.argpartition(x, -k)[-k:].tolist())


def test_top_k_ids_with_k_above_the_vocabulary_keeps_everything():
    assert top_k_ids(np.zeros(5, np.float32), 9).tolist() == [0, 1, 2, 3, 4]


def test_next_token_matches_the_plain_sampler_token_for_token():
    cfg = GenerationConfig()  # the served defaults: temperature, top-k, top-p and repetition penalty
    rng = np.random.default_rng(1)
    for t in range(300):
        x = (rng.standard_normal(50257) * rng.choice([0.5, 3.0, 12.0])).astype(np.float32)
        seen = rng.integers(0, 50257, 200).tolist()
        assert next_token(x, SeenTokens(seen), cfg, np.random.default_rng(t)) == _plain(x, seen, cfg, np.random.default_rng(t))


def test_seen_tokens_keeps_distinct_ids_as_tokens_arrive():
    seen = SeenTokens([4, 4, 2])
    for t in (9, 2, 9, 11):
        seen.add(t)
    assert sorted(seen.ids.tolist()) == [2, 4, 9, 11] and len(seen) == 4
    x = np.arange(12, dtype=np.float32) - 5.0
    assert np.array_equal(apply_repetition_penalty(x, seen, 1.3), apply_repetition_penalty(x, [4, 2, 9, 11, 11], 1.3))


def test_top_k_ids_falls_back_to_the_whole_row_when_the_sample_misleads():
    x = np.random.default_rng(2).standard_normal(50257).astype(np.float32)
    step = 50257 // 1024
    x[: 90 * step : step] = 10.0  # the strided sample sees 90 huge logits: its threshold lets only those 90 through
    assert set(top_k_ids(x, 1000).tolist()) == set(np.argpartition(x, -1000)[-1000:].tolist())
