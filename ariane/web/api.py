"""The API other front ends call with gradio_client: `/chat` (streaming) and `/feedback`.

    from gradio_client import Client

    client = Client("http://127.0.0.1:7860/")  # or a Space: Client("your-org/ariane")
    history, session = [], ""  # the conversation so far; "" = a new session
    message = "I can't sleep because of work worries."
    job = client.submit(message=message, history=history, room="open-space", puzzle="", session=session, api_name="/chat")
    for text, info in job:  # the reply grows as it streams
        print(text)
    text, info = job.result()  # info: session, message_index, mode, sources, escalated, model, notice, reason
    session = info["session"]
    history += [{"role": "user", "content": message}, {"role": "assistant", "content": text}]
    client.predict(session=session, message_index=info["message_index"], vote="down", comment="too vague",
                   share=False, api_name="/feedback")

A reply's `message_index` is its position in the conversation (`len(history) + 1`), so send the
real history with every turn: two replies of one session with the same index are one vote.
"""

from __future__ import annotations

from typing import Iterator

import gradio as gr

from ariane.engine import Context
from ariane.feedback.store import Vote
from ariane.messages import normalize
from ariane.session import new_session_id
from ariane.web.turns import HINT_MESSAGE, TurnError, stream_turn

FEEDBACK_CONCURRENCY = 8  # votes are one small SQLite write each; they must not wait behind replies


def build_api(services, engine_concurrency: int, engine_group: str) -> None:
    """Register /chat and /feedback in the current Blocks."""

    def chat(message: str, history: list[dict] | None = None, room: str = "", puzzle: str = "", session: str = "", hint: bool = False, locale: str = "") -> Iterator[tuple[str, dict]]:
        """Stream Ariane's reply to `message`.

        Args:
            message: the player's message ("" with hint=true: the Hint button).
            history: the conversation so far, as {"role": "user"|"assistant", "content": str} messages.
            room: escape-game room id ("" if unknown).
            puzzle: puzzle id ("" if unknown).
            session: the id returned by a previous call ("" starts a new session).
            hint: true to ask for the next hint level of `puzzle`.
            locale: the player's language-REGION, e.g. "fr-FR" ("" = unknown: a crisis reply then
                gives the deployment's helplines, and those of the message's language if it differs).

        Yields (reply text so far, {}) while streaming, then (reply text, info) where info has
        session, message_index (the index to vote on), mode, sources, escalated, model, notice
        and reason (why a reply was refused or fell back, e.g. "rate_limited"; else null).
        """
        sid = session or new_session_id()
        try:
            text = str(message or "").strip() or (HINT_MESSAGE if hint else "")
            convo = [*normalize(history or [], where="history"), {"role": "user", "content": text}]
            for text, reply in stream_turn(services, convo, Context(session_id=sid, room=room or None, puzzle=puzzle or None, hint=bool(hint), locale=(locale or "").strip() or None)):
                if reply is None:
                    yield text, {}
                else:
                    yield text, {
                        "session": sid, "message_index": len(convo), "mode": reply.mode, "sources": list(reply.sources),
                        "escalated": reply.escalated, "model": reply.model, "notice": reply.notice,
                        "reason": reply.details.get("reason"),  # why a reply was refused or fell back, e.g. "rate_limited"
                    }  # fmt: skip
        except (TurnError, ValueError) as exc:
            raise gr.Error(str(exc)) from None

    def feedback(session: str, message_index: int, vote: str, comment: str = "", share: bool = False) -> dict:
        """Store a vote on a reply; voting again on the same reply changes the vote.

        Args:
            session: the session id /chat returned.
            message_index: the reply's index in the conversation (/chat's info["message_index"]).
            vote: "up", "down", or "" to withdraw the vote.
            comment: optional short comment.
            share: true to store the conversation text with the vote (the player agreed).
        """
        try:
            index = int(message_index)
            record = services.replies.get(session, index)
            convo = record.conversation if (share and record is not None) else None
            meta = {}
            if record is not None:
                meta = dict(mode=record.mode, sources=record.sources, model=record.model, prompt_format=record.prompt_format, room=record.room, puzzle=record.puzzle)
            row = services.feedback.vote(Vote(session, index, vote or None, comment=comment or None, conversation=convo, reply=record.text if convo else None, **meta))
        except (TypeError, ValueError) as exc:
            raise gr.Error(str(exc)) from None
        return {"stored": True, "session": row["session_id"], "message_index": row["message_index"], "vote": row["vote"], "known_reply": record is not None}

    gr.api(chat, api_name="chat", concurrency_limit=engine_concurrency, concurrency_id=engine_group)
    gr.api(feedback, api_name="feedback", concurrency_limit=FEEDBACK_CONCURRENCY)
