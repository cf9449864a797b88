"""Helpers shared by the data commands."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path


def settings():
    from ariane.settings import Settings

    return Settings.from_env()


@contextlib.contextmanager
def shipped_retriever(embedder: bool = True, language: str = "en"):
    """A Retriever over the shipped data/qa entries of `language` in a throw-away base, with the
    embedding cache of ARIANE_HOME (so measuring twice computes the vectors once)."""
    from ariane.knowledge.embed import load_retrieval_embedder
    from ariane.knowledge.retrieval import Retriever
    from ariane.knowledge.stage import embeddings_path
    from ariane.knowledge.store import KnowledgeBase

    with tempfile.TemporaryDirectory(prefix="ariane-kb-") as tmp:
        kb = KnowledgeBase(Path(tmp) / "knowledge.sqlite")
        try:
            found = load_retrieval_embedder(language, embeddings_path(settings())) if embedder else None
            yield Retriever(kb, found, language=language)
        finally:
            kb.close()
