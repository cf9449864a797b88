"""The MiniLM vectors shipped in data/minilm_vectors.npz: complete, exact, and used at start-up."""

import functools
import time

import numpy as np

from ariane.knowledge.adapter import ADAPTER_FILE
from ariane.knowledge.embed import SEED_FILE, EmbeddingCache, SeedVectors, load_embedder
from data.cli.vectors import shipped_texts


@functools.cache
def model_id() -> str:
    return load_embedder(None, adapter=ADAPTER_FILE).model_id


def key(text: str) -> str:
    """The cache key of retrieval's English vectors: MiniLM + the shipped adapter."""
    return EmbeddingCache.key(text, model_id())


def test_every_shipped_text_has_a_shipped_vector():
    seed = SeedVectors()
    keys = [key(t) for t in shipped_texts()]
    missing = len(set(keys)) - len(seed.get_many(keys))
    assert missing == 0, f"{missing} texts have no shipped vector: run `python -m data vectors`"


def test_shipped_vectors_equal_computed_ones():
    texts = shipped_texts()[::400]
    shipped = SeedVectors().get_many([key(t) for t in texts])
    computed = load_embedder(None, adapter=ADAPTER_FILE).model.embed(texts)
    np.testing.assert_allclose(np.stack([shipped[key(t)] for t in texts]), computed, atol=1e-5)


def test_a_fresh_cache_is_filled_from_the_shipped_vectors(tmp_path):
    embedder = load_embedder(tmp_path / "embeddings.sqlite", adapter=ADAPTER_FILE)
    texts = shipped_texts()
    t = time.perf_counter()
    vectors = embedder.embed(texts)
    assert vectors.shape == (len(texts), 384)
    assert time.perf_counter() - t < 30  # computing them would take minutes on 2 cores
    assert len(embedder.cache.get_many([key(x) for x in texts[:50]])) == 50
    assert SEED_FILE.stat().st_size < 8_000_000
