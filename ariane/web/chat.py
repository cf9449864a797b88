"""The players' page: chat with streaming replies, game context, hints, sources and votes.

Stable element ids (browser tests, the game's own styling): #notice-banner, #room, #puzzle,
#hints-used, #chat, #message, #send, #hint, #share-text, #vote-comment, #send-comment,
#vote-status, #privacy.
"""

from __future__ import annotations

import logging
import os

import gradio as gr

from ariane.engine import Context
from ariane.feedback.store import Vote
from ariane.safety.helplines import locale_from_accept_language
from ariane.session import new_session_id
from ariane.web import history as H
from ariane.web.turns import HINT_MESSAGE, TurnError, hints_used, stream_turn

log = logging.getLogger(__name__)

ENGINE = "engine"  # concurrency group of everything that runs the model (page and API share it)
ENGINE_CONCURRENCY = 2  # replies generated at once: one per CPU core of the target machine (2 cores)


def engine_concurrency() -> int:
    """Replies generated at once: ARIANE_ENGINE_CONCURRENCY, else ENGINE_CONCURRENCY (2).

    Not the 8 batch slots of the LiteRT runtime: with 20 players on 2 cores, 8 replies at once gave
    /chat p50 12.8 s against 6.0 s with 2 (bench/RESULTS.md, Load: Gradio's per-token streaming
    and the players' clients share the cores with decoding). Streams that overlap still share
    decode steps. A bigger machine can raise it."""
    raw = os.environ.get("ARIANE_ENGINE_CONCURRENCY", "").strip()
    if not raw:
        return ENGINE_CONCURRENCY
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"ARIANE_ENGINE_CONCURRENCY={raw!r}: expected a whole number of replies at once, at least 1")
    return value

EXAMPLES = [
    "I'm stuck on this puzzle, where should I look?",
    "How can I tell if I'm heading for burnout?",
    "A colleague seems withdrawn lately. What could I do?",
    "I can't switch off from work in the evenings.",
]

PRIVACY = (
    "**Privacy.** Ariane never asks who you are: this page gets a random session id (not linked to "
    "you) and your messages stay in the server's memory only while the game runs. When you rate an "
    "answer with 👍 or 👎 we store the rating, your optional comment and how the answer was made (its "
    "mode, the knowledge entries it used and the model version) so the mediators can improve Ariane. "
    "The text of the conversation is stored with your rating **only if you tick \"Share the conversation "
    "text with my vote\"**; the "
    "mediators may then use it to correct answers and to retrain Ariane. If a message suggests someone "
    "may be in danger, the session's mediator is alerted so they can offer help."
)


def room_choices(scenario) -> list[tuple[str, str]]:
    return [("— no room —", "")] + ([(r.name, r.id) for r in scenario.rooms] if scenario else [])


def puzzle_choices(scenario, room_id: str | None) -> list[tuple[str, str]]:
    room = scenario.room(room_id) if scenario and room_id else None
    return [("— no puzzle —", "")] + ([(p.title, p.id) for p in room.puzzles] if room else [])


def build_chat(services) -> dict:
    """Lay out the players' page inside the current Blocks and wire its events; returns the components."""
    scenario = services.scenario
    notice = getattr(services.engine, "notice", None)
    gr.Markdown(f"## Ariane\n{scenario.intro if scenario else 'Your guide in the escape game.'}", elem_id="intro")
    gr.Markdown(f"⚠️ {notice}", visible=bool(notice), elem_id="notice-banner")
    session = gr.State(None)  # random id from load_page; server-side only
    last_vote = gr.State(None)  # conversation index of this page's latest vote (the comment goes there)
    with gr.Row(equal_height=True):
        room = gr.Dropdown(room_choices(scenario), value="", label="Room", elem_id="room", interactive=True)
        puzzle = gr.Dropdown(puzzle_choices(scenario, None), value="", label="Puzzle", elem_id="puzzle", interactive=True)
        hints = gr.Markdown("Hints used: 0", elem_id="hints-used")
    chatbot = gr.Chatbot(
        label="Ariane", elem_id="chat", height=440, sanitize_html=True, render_markdown=True, allow_tags=False,
        feedback_options=("Like", "Dislike"), buttons=["copy"], group_consecutive_messages=True,
        placeholder="Ask about a puzzle, or about wellbeing at work.",
    )  # fmt: skip
    with gr.Row(equal_height=True):
        message = gr.Textbox(label="Your message", placeholder="Type a message and press Enter", elem_id="message", scale=5, max_lines=6, autofocus=True)
        send = gr.Button("Send", variant="primary", elem_id="send", scale=1)
        hint = gr.Button("Hint", elem_id="hint", scale=1)
    gr.Examples(EXAMPLES, inputs=[message], label="Try asking", cache_examples=False)
    share = gr.Checkbox(False, label="Share the conversation text with my vote", elem_id="share-text")
    with gr.Row(equal_height=True):
        comment = gr.Textbox(label="Comment on your last vote (optional)", max_length=1000, elem_id="vote-comment", scale=5, interactive=False)
        send_comment = gr.Button("Send comment", elem_id="send-comment", scale=1, interactive=False)
    vote_status = gr.Markdown("", elem_id="vote-status")
    gr.Markdown(PRIVACY, elem_id="privacy")

    # ---- handlers ---------------------------------------------------------------------------
    def load_page(request: gr.Request):
        """A fresh session; room and puzzle from the URL (`?room=…&puzzle=…`) when valid."""
        sid = new_session_id()
        params = dict(request.query_params) if request is not None else {}
        room_id, puzzle_id = params.get("room", ""), params.get("puzzle", "")
        if scenario is None:
            room_id = puzzle_id = ""
        else:
            p = scenario.puzzles.get(puzzle_id)
            if p is not None and not room_id:
                room_id = p.room
            if scenario.room(room_id) is None:
                room_id = ""
            if p is None or p.room != room_id:
                puzzle_id = ""
        return sid, room_id, gr.Dropdown(choices=puzzle_choices(scenario, room_id), value=puzzle_id), hints_used(services, sid, puzzle_id)

    def change_room(room_id):
        return gr.Dropdown(choices=puzzle_choices(scenario, room_id), value="")

    def change_puzzle(puzzle_id, sid):
        return hints_used(services, sid, puzzle_id)

    def _answer(history, room_id, puzzle_id, sid, hint_: bool, request=None):
        """Stream the reply to the last user message of `history` (shared by send, hint and retry).
        The browser's language and region (Accept-Language) are the turn's locale: a crisis reply
        gives the helplines of the player's country."""
        convo = H.conversation(history)
        headers = getattr(request, "headers", None) or {}
        locale = locale_from_accept_language(headers.get("accept-language"))
        ctx = Context(session_id=sid, room=room_id or None, puzzle=puzzle_id or None, hint=hint_, locale=locale)
        history = [*history, H.assistant_message("")]
        try:
            for text, reply in stream_turn(services, convo, ctx):
                history[-1] = H.assistant_message(text)
                if reply is not None and reply.sources:
                    history.append(H.sources_message(services.source_titles(reply.sources)))
                if reply is not None and reply.mode == "refused" and reply.details.get("reason") == "rate_limited":
                    gr.Warning(reply.text)  # "please wait N seconds", also as a toast
                yield history, hints_used(services, sid, puzzle_id)
        except TurnError as exc:
            history.pop()
            gr.Warning(str(exc))
            yield history, hints_used(services, sid, puzzle_id)

    def respond(text, history, room_id, puzzle_id, sid, request: gr.Request):
        """The player sent a message: show it, then stream the reply."""
        if not (text or "").strip():
            gr.Warning("Type a message first.")
            yield history, text, gr.skip()
            return
        history = [*(history or []), H.user_message(text)]
        yield history, "", gr.skip()
        for history_, hints_ in _answer(history, room_id, puzzle_id, sid, False, request):
            yield history_, gr.skip(), hints_

    def ask_hint(history, room_id, puzzle_id, sid, request: gr.Request):
        """The player pressed "Hint": the next hint level of the chosen puzzle."""
        if not puzzle_id:
            gr.Warning("Choose the puzzle you are stuck on first (Room, then Puzzle).")
            yield history, gr.skip()
            return
        history = [*(history or []), H.user_message(HINT_MESSAGE)]
        yield history, gr.skip()
        yield from _answer(history, room_id, puzzle_id, sid, True, request)

    def retry(history, room_id, puzzle_id, sid, data: gr.RetryData, request: gr.Request):
        """Ask again from the retried user message (a hint request asks for the next hint)."""
        history = list(history[: data.index + 1])
        is_hint = H.content_text(history[-1]) == HINT_MESSAGE and bool(puzzle_id)
        yield from _answer(history, room_id, puzzle_id, sid, is_hint, request)

    def undo(history, data: gr.UndoData):
        """Remove the last exchange and put the player's message back in the box."""
        return history[: data.index], H.content_text(history[data.index])

    def handle_like(history, sid, share_text, data: gr.LikeData):
        """A 👍/👎 (or its withdrawal) on a reply: stored at once, upserted on change."""
        if not sid or not isinstance(data.index, int) or data.index >= len(history or []):
            return gr.skip(), gr.skip(), gr.skip(), "Your vote could not be stored: reload the page and try again."
        index = H.conversation_index(history, data.index)
        vote = {True: "up", False: "down"}.get(data.liked)  # "" = the vote was withdrawn
        convo = H.conversation(history)[: index + 1] if share_text else None
        record = services.replies.get(sid, index)
        try:
            services.feedback.vote(_vote(sid, index, vote, record, convo))
        except (OSError, ValueError) as exc:
            log.exception("could not store a vote")
            raise gr.Error(f"Your vote could not be stored ({exc}). Please tell your mediator.") from None
        if vote is None:
            return None, gr.Textbox(value="", interactive=False), gr.Button(interactive=False), "Vote withdrawn."
        thanks = "Thanks for the 👍!" if vote == "up" else "Thanks — a mediator will look at this answer. What was wrong with it? (optional)"
        return index, gr.Textbox(interactive=True), gr.Button(interactive=True), thanks

    def handle_comment(text, sid, index):
        """The optional comment on this page's latest vote."""
        if index is None or not sid:
            return gr.skip(), "Vote on an answer first, then add a comment."
        row = services.feedback.comment(sid, index, text or "")
        return "", ("Comment saved. Thank you!" if row else "Vote on an answer first, then add a comment.")

    # ---- wiring -----------------------------------------------------------------------------
    engine_events = dict(concurrency_id=ENGINE, concurrency_limit=engine_concurrency(), api_visibility="private")
    ui = dict(api_visibility="private")
    gr.on([message.submit, send.click], respond, [message, chatbot, room, puzzle, session], [chatbot, message, hints], **engine_events)
    hint.click(ask_hint, [chatbot, room, puzzle, session], [chatbot, hints], **engine_events)
    chatbot.retry(retry, [chatbot, room, puzzle, session], [chatbot, hints], **engine_events)
    chatbot.undo(undo, [chatbot], [chatbot, message], **ui)
    chatbot.like(handle_like, [chatbot, session, share], [last_vote, comment, send_comment, vote_status], **ui)
    gr.on([comment.submit, send_comment.click], handle_comment, [comment, session, last_vote], [comment, vote_status], **ui)
    room.input(change_room, [room], [puzzle], **ui)
    puzzle.change(change_puzzle, [puzzle, session], [hints], **ui)
    return dict(load=(load_page, [], [session, room, puzzle, hints]), chatbot=chatbot, message=message, session=session, room=room, puzzle=puzzle)


def _vote(sid, index, vote, record, convo) -> Vote:
    """A Vote with the remembered reply's metadata (or without, if the server forgot it)."""
    meta = {}
    if record is not None:
        meta = dict(mode=record.mode, sources=record.sources, model=record.model, prompt_format=record.prompt_format, room=record.room, puzzle=record.puzzle)
    reply = convo[-1]["content"] if convo else None
    return Vote(sid, index, vote, conversation=convo, reply=reply, **meta)
