"""The retrieval stage: grounding passages from the mediators' knowledge base.

Fills `turn.passages` with the entries that score above the calibrated threshold, best first
(`turn.notes["retrieval"]` keeps the top scores for the feedback log). When nothing passes, a
question that is neither small talk nor about the current puzzle gets the polite fallback
instead of an answer a 124M-parameter model would make up.

Example:
    >>> stage = RetrievalStage.from_settings(Settings.from_env())
    >>> engine = ChatEngine(None, settings, [HintStage(), stage])
    >>> engine.answer([{"role": "user", "content": "What is burnout?"}]).sources
    ['burnout-001']
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ariane.engine import Reply, Turn
from ariane.i18n import say
from ariane.prompt import Passage

EMBEDDINGS_FILE = "embeddings.sqlite"  # under ARIANE_HOME: the MiniLM vector cache
EMBEDDINGS_ENV = "ARIANE_EMBEDDINGS_CACHE"  # another path for that cache (vectors depend only on the text: shareable)

# Greetings, thanks, goodbyes and questions about Ariane herself: the model may answer these
# without grounding. Matched on the whole message (a few trailing words allowed).
SMALL_TALK = re.compile(
    r"^\W*(hi+|hello|hey+|hiya|yo|good (morning|afternoon|evening|night)|thanks?( you)?( so much)?|thank you|cheers|"
    r"ok(ay)?|cool|great|nice|bye|goodbye|see you|see ya|who are you|what are you|what'?s your name|"
    r"are you (a )?(bot|robot|human|real|an ai)|how are you( doing)?|"
    r"bonjour|bonsoir|salut|coucou|merci( beaucoup| bien)?|au revoir|bonne (journ[ée]e|soir[ée]e)|[àa] plus|d'?accord|"
    r"qui es[- ]tu|t'?es qui|qui [êe]tes[- ]vous|tu es (un )?(robot|humaine?|une ia)|(comment )?[çc]a va)\b[\w\s,!.?'’àâçéèêëîïôûù]{0,20}$",
    re.I,
)


def embeddings_path(settings) -> Path:
    """The MiniLM vector cache: $ARIANE_EMBEDDINGS_CACHE, else ARIANE_HOME/embeddings.sqlite."""
    return Path(os.environ.get(EMBEDDINGS_ENV) or Path(settings.home) / EMBEDDINGS_FILE)


def is_small_talk(text: str) -> bool:
    """True for a short greeting, thanks, goodbye or "who are you" (English or French)."""
    return bool(SMALL_TALK.match(text.strip())) and len(text.split()) <= 8


class RetrievalStage:
    """Engine stage "retrieval".

    Args:
        retrieval: ariane.knowledge.retrieval.Retrieval (a Retriever per language), or one
            Retriever (every question searched in its language).
        k: int. Most passages given to the prompt (the prompt format keeps at most 3).
    """

    name = "retrieval"

    def __init__(self, retrieval, k: int = 3):
        from ariane.knowledge.retrieval import Retrieval, Retriever

        if isinstance(retrieval, Retriever):
            retrieval = Retrieval(retrieval.kb, {retrieval.language: retrieval}, default=retrieval.language)
        self.retrieval = retrieval
        self.k = k

    @property
    def kb(self):
        """The KnowledgeBase behind the retriever (the mediators' console edits it)."""
        return self.retrieval.kb

    @classmethod
    def from_settings(cls, settings) -> "RetrievalStage":
        """The stage over `ARIANE_HOME/knowledge.sqlite` (seeded from data/qa on first use).

        Cheap to call: the index is built on the first question, from cached vectors.
        """
        from ariane.i18n import LANGUAGES
        from ariane.knowledge.embed import load_retrieval_embedder
        from ariane.knowledge.retrieval import Retrieval, Retriever
        from ariane.knowledge.store import KnowledgeBase

        kb = KnowledgeBase.open(settings)
        cache = embeddings_path(settings)
        retrievers = {lang: Retriever(kb, load_retrieval_embedder(lang, cache), language=lang) for lang in LANGUAGES}
        return cls(Retrieval(kb, retrievers, default=LANGUAGES[0]))

    def __call__(self, turn: Turn) -> Reply | None:
        text = (turn.text or "").strip()
        if not text:
            return None
        retriever = self.retrieval.for_language(turn.language)
        hits = retriever.search(text, k=self.k)
        threshold = retriever.threshold
        turn.notes["retrieval"] = {"language": retriever.language, "threshold": round(threshold, 4), "top": [[h.entry_id, round(h.score, 4)] for h in hits]}
        turn.passages = [Passage(h.entry_id, h.entry.question, h.entry.answer, round(h.score, 4)) for h in hits if h.score >= threshold]
        if is_small_talk(text):
            turn.notes["small_talk"] = True  # the model answers it; without one, the engine greets
            return None
        if turn.passages or turn.game is not None:
            return None
        return Reply(say("fallback", turn.language), "fallback", details={"reason": "no knowledge entry scored above the threshold"})
