"""One turn of conversation through the engine, for the page and the API alike."""

from __future__ import annotations

import logging
from typing import Iterator

from ariane.engine import Context, Delta, Done
from ariane.i18n import language_of_locale
from ariane.web.replies import ReplyRecord
from ariane.web.strings import t

log = logging.getLogger(__name__)

HINT_MESSAGE = t("hint_message", "en")  # what the API puts as the player's message for hint=true with no text


class TurnError(Exception):
    """A turn that cannot run, with a message for the player."""


def stream_turn(services, conversation: list[dict], context: Context) -> Iterator[tuple[str, object]]:
    """Stream the reply to the last message of `conversation`.

    Yields (text so far, None) while the reply streams, then (final text, Reply). The final text
    is `reply.text`: it replaces what streamed when a guard acted. The reply is remembered under
    (context.session_id, len(conversation)) so that a vote on it carries its metadata.
    """
    lang = language_of_locale(context.locale)
    if not conversation or conversation[-1]["role"] != "user" or not conversation[-1]["content"].strip():
        raise TurnError(t("type_first", lang))
    text = ""
    try:
        for event in services.engine.reply(conversation, context):
            if isinstance(event, Delta):
                text += event.text
                yield text, None
            elif isinstance(event, Done):
                reply = event.reply
                record = ReplyRecord.from_reply(reply, [*conversation, {"role": "assistant", "content": reply.text}], context.room, context.puzzle)
                services.replies.put(context.session_id, len(conversation), record)
                yield reply.text, reply
    except ValueError as exc:  # the engine's messages name what is wrong with the input
        raise TurnError(str(exc)) from None
    except Exception:
        log.exception("the engine failed on a turn")
        raise TurnError(t("engine_failed", lang)) from None


def hints_used(services, session_id: str | None, puzzle: str | None, lang: str = "en") -> str:
    """A line for the page, in `lang`: hints used in this session, and on the current puzzle."""
    if not session_id:
        return t("hints_used", lang, total=0)
    hints = services.engine.sessions.get(session_id).hints or {}
    total = sum(int(v) for v in hints.values() if isinstance(v, (int, float)))
    line = t("hints_used", lang, total=total)
    scenario = services.scenario.in_language(lang) if services.scenario is not None else None
    if puzzle and scenario is not None and puzzle in scenario.puzzles:
        p = scenario.puzzles[puzzle]
        line += t("hints_on_puzzle", lang, title=p.title, used=int(hints.get(puzzle, 0)), total=len(p.hints))
    return line
