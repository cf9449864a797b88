"""Between Gradio's chat history and Ariane's conversation (`{"role", "content"}` messages).

The page's history holds what is *displayed*: message text with `& < >` escaped, so that
anything a player (or a model) writes shows as text and never as HTML, plus collapsible
"Sources" messages (`metadata={"title": ...}`) under grounded answers. `conversation()` turns
it back into the plain messages the engine, the feedback log and the API use, and
`conversation_index()` maps a position in the history to a position in that conversation
(the message index a vote is stored under).
"""

from __future__ import annotations

import html

from ariane.messages import normalize, text_of

SOURCES_TITLE = "Sources"


def shown(text: str) -> str:
    """Text as the Chatbot displays it: HTML special characters escaped (markdown still renders)."""
    return html.escape(text or "", quote=False)


def unshown(text: str) -> str:
    """The inverse of `shown` (exact for any text)."""
    return html.unescape(text or "")


def is_extra(message) -> bool:
    """True for messages that are not part of the conversation (sources, notices)."""
    metadata = message.get("metadata") if isinstance(message, dict) else getattr(message, "metadata", None)
    return bool(metadata and metadata.get("title"))


def conversation(history) -> list[dict]:
    """Plain `{"role", "content"}` messages of a Chatbot value (extras dropped, text unescaped)."""
    plain = [m for m in (history or []) if not is_extra(m)]
    return [{"role": m["role"], "content": unshown(m["content"])} for m in normalize(plain, where="history")]


def conversation_index(history, index: int) -> int:
    """Conversation index of the reply a like at history position `index` refers to.

    A like on a group (answer + its sources) reports the group's last message; the vote goes
    to the nearest conversation message at or before it.
    """
    while index > 0 and is_extra(history[index]):
        index -= 1
    return sum(1 for m in history[:index] if not is_extra(m))


def history_index(history, conv_index: int) -> int | None:
    """Position in the history of conversation message `conv_index` (None if absent)."""
    seen = -1
    for i, m in enumerate(history or []):
        if not is_extra(m):
            seen += 1
            if seen == conv_index:
                return i
    return None


def user_message(text: str) -> dict:
    return {"role": "user", "content": shown(text)}


def assistant_message(text: str) -> dict:
    return {"role": "assistant", "content": shown(text)}


def sources_message(titles, title: str = SOURCES_TITLE) -> dict:
    """A collapsed message listing the knowledge entries an answer came from.

    Args:
        titles: list of (entry id, question, category).
        title: str. The fold's title in the page's language ("Sources" in both).
    """
    lines = [f"- {shown(question)} — *{shown(category)}*" if category else f"- {shown(question)}" for _, question, category in titles]
    return {"role": "assistant", "content": "\n".join(lines), "metadata": {"title": f"{title} ({len(titles)})", "status": "done"}}


def content_text(message) -> str:
    return unshown(text_of(message.get("content")))
