"""Everything the page's handlers use, built once per app: engine, stores, scenario, password.

Stores are opened lazily (first use), so building the UI has no side effects beyond what the
caller passes in, and a store that cannot be opened is reported where it is needed.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import dataclass, field

from ariane.web.replies import ReplyCache

log = logging.getLogger(__name__)

PASSWORD_ENV = "ARIANE_MEDIATOR_PASSWORD"


@dataclass
class Services:
    """The app's collaborators.

    Args:
        engine: ariane.engine.ChatEngine.
        settings: ariane.settings.Settings.
        feedback: ariane.feedback.log.FeedbackLog.
        password: str | None. The mediators' password; None disables the console.
        replies: ReplyCache. Recent replies, for votes.
    """

    engine: object
    settings: object
    feedback: object
    password: str | None = None
    replies: ReplyCache = field(default_factory=ReplyCache)

    @classmethod
    def create(cls, engine=None, settings=None, feedback=None, password: str | None = None) -> "Services":
        from ariane.feedback.log import FeedbackLog
        from ariane.settings import Settings

        settings = settings or (engine.settings if engine is not None else Settings.from_env())
        if engine is None:
            from ariane.pipeline import build_engine

            engine = build_engine(settings)
        feedback = feedback or FeedbackLog.open(settings)
        password = password if password is not None else (os.environ.get(PASSWORD_ENV) or None)
        return cls(engine, settings, feedback, password)

    @functools.cached_property
    def scenario(self):
        """The escape game's rooms and puzzles, or None (logged) if data/scenario.yaml is unreadable."""
        from ariane.knowledge.scenario import load_scenario

        try:
            return load_scenario()
        except ValueError as exc:
            log.warning("no room/puzzle selector: %s", exc)
            return None

    @functools.cached_property
    def knowledge(self):
        """The mediators' KnowledgeBase: the one retrieval reads (`RetrievalStage.kb`), else
        ARIANE_HOME/knowledge.sqlite. Edits bump its version; retrieval follows at once."""
        for stage in getattr(self.engine, "stages", ()):
            if getattr(stage, "kb", None) is not None:
                return stage.kb
        from ariane.knowledge.store import KnowledgeBase

        return KnowledgeBase.open(self.settings)

    @functools.cached_property
    def escalations(self):
        """The safety engineer's EscalationStore, or None when this build has none."""
        try:
            from ariane.safety.escalations import EscalationStore
        except ImportError:
            return None
        return EscalationStore.open(self.settings)

    def warm_up(self) -> None:
        """Answer one question before serving, so the first player does not wait for the
        retrieval index to be built or the model to be compiled."""
        from ariane.engine import Context

        t = time.perf_counter()
        for question in ("What is burnout?", "Qu'est-ce que le burn-out ?"):  # each language's index and encoder
            self.engine.answer([{"role": "user", "content": question}], Context(session_id="warm-up"))
        generator = getattr(self.engine, "generator", None)
        log.info("warmed up in %.1f s (%s)", time.perf_counter() - t, generator.name if generator is not None else "no model: knowledge base only")

    def source_titles(self, entry_ids) -> list[tuple[str, str, str]]:
        """(id, question, category) of each knowledge entry; unknown ids keep only their id."""
        out = []
        for entry_id in entry_ids:
            try:
                e = self.knowledge.get(entry_id)
            except Exception:  # noqa: BLE001 - sources are a courtesy; never break a reply for them
                log.exception("cannot read knowledge entry %s", entry_id)
                e = None
            out.append((entry_id, e.question, e.category) if e else (entry_id, entry_id, ""))
        return out
