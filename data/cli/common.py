"""Helpers shared by the data commands."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path


def settings():
    from ariane.settings import Settings

    return Settings.from_env()


@contextlib.contextmanager
def shipped_retriever(embedder: bool = True):
    """A Retriever over the shipped data/qa entries in a throw-away base, with the embedding cache
    of ARIANE_HOME (so measuring twice computes the vectors once)."""
    from ariane.knowledge.adapter import ADAPTER_FILE
    from ariane.knowledge.embed import load_embedder
    from ariane.knowledge.retrieval import Retriever
    from ariane.knowledge.stage import embeddings_path
    from ariane.knowledge.store import KnowledgeBase

    with tempfile.TemporaryDirectory(prefix="ariane-kb-") as tmp:
        kb = KnowledgeBase(Path(tmp) / "knowledge.sqlite")
        try:
            yield Retriever(kb, load_embedder(embeddings_path(settings()), adapter=ADAPTER_FILE) if embedder else None)
        finally:
            kb.close()
