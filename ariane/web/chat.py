"""The players' page: chat with streaming replies, game context, hints, sources and votes.

Stable element ids (browser tests, the game's own styling): #intro, #ai-notice, #notice-banner,
#room, #puzzle, #hints-used, #chat, #message, #send, #hint, #share-text, #vote-comment,
#send-comment, #vote-status, #privacy, #language-hint.

Labels are Gradio i18n keys (ariane/web/strings.py, English and French: the browser's language,
or Gradio's Settings); what the server writes while the page runs (the game's rooms and hints,
"Hints used", votes' thanks, warnings) is in the browser's language (Accept-Language).
"""

from __future__ import annotations

import logging
import os

import gradio as gr

from ariane.engine import RETRIEVAL_ONLY_NOTICE, Context
from ariane.feedback.store import Vote
from ariane.safety.helplines import locale_from_accept_language
from ariane.session import new_session_id
from ariane.web import history as H
from ariane.web.strings import EXAMPLES, hint_messages, label, page_language, t
from ariane.web.turns import TurnError, hints_used, stream_turn

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

def room_choices(scenario, lang: str = "en") -> list[tuple[str, str]]:
    scenario = scenario.in_language(lang) if scenario else None
    return [(t("no_room", lang), "")] + ([(r.name, r.id) for r in scenario.rooms] if scenario else [])


def puzzle_choices(scenario, room_id: str | None, lang: str = "en") -> list[tuple[str, str]]:
    scenario = scenario.in_language(lang) if scenario else None
    room = scenario.room(room_id) if scenario and room_id else None
    return [(t("no_puzzle", lang), "")] + ([(p.title, p.id) for p in room.puzzles] if room else [])


def intro(scenario, lang: str) -> str:
    """The page's heading and the game's introduction, in `lang`."""
    text = scenario.in_language(lang).intro if scenario else t("intro_default", lang)
    return f"## Ariane\n{text}"


def build_chat(services) -> dict:
    """Lay out the players' page inside the current Blocks and wire its events; returns the components."""
    scenario = services.scenario
    notice = getattr(services.engine, "notice", None)
    heading = gr.Markdown(intro(scenario, "en"), elem_id="intro")  # the page's language is set at load
    gr.Markdown(label("ai_notice"), elem_id="ai-notice")
    banner = label("retrieval_only") if notice == RETRIEVAL_ONLY_NOTICE else f"⚠️ {notice}"
    gr.Markdown(banner, visible=bool(notice), elem_id="notice-banner")
    session = gr.State(None)  # random id from load_page; server-side only
    last_vote = gr.State(None)  # conversation index of this page's latest vote (the comment goes there)
    with gr.Row(equal_height=True):
        room = gr.Dropdown(room_choices(scenario), value="", label=label("room"), elem_id="room", interactive=True)
        puzzle = gr.Dropdown(puzzle_choices(scenario, None), value="", label=label("puzzle"), elem_id="puzzle", interactive=True)
        hints = gr.Markdown(t("hints_used", "en", total=0), elem_id="hints-used")
    chatbot = gr.Chatbot(
        label="Ariane", elem_id="chat", height=440, sanitize_html=True, render_markdown=True, allow_tags=False,
        feedback_options=("Like", "Dislike"), buttons=["copy"], group_consecutive_messages=True,
        placeholder=label("chat_placeholder"),
    )  # fmt: skip
    with gr.Row(equal_height=True):
        message = gr.Textbox(label=label("message"), placeholder=label("message_placeholder"), elem_id="message", scale=5, max_lines=6, autofocus=True)
        send = gr.Button(label("send"), variant="primary", elem_id="send", scale=1)
        hint = gr.Button(label("hint"), elem_id="hint", scale=1)
    examples = {lang: gr.Examples(EXAMPLES[lang], inputs=[message], label=label("examples"), cache_examples=False).dataset for lang in EXAMPLES}
    share = gr.Checkbox(False, label=label("share"), elem_id="share-text")
    with gr.Row(equal_height=True):
        comment = gr.Textbox(label=label("comment"), max_length=1000, elem_id="vote-comment", scale=5, interactive=False)
        send_comment = gr.Button(label("send_comment"), elem_id="send-comment", scale=1, interactive=False)
    vote_status = gr.Markdown("", elem_id="vote-status")
    gr.Markdown(label("privacy"), elem_id="privacy")
    gr.Markdown(label("language_hint"), elem_id="language-hint")

    # ---- handlers ---------------------------------------------------------------------------
    def load_page(request: gr.Request):
        """A fresh session; room and puzzle from the URL (`?room=…&puzzle=…`) when valid; the
        game's texts and the examples in the browser's language."""
        sid = new_session_id()
        lang = page_language(request)
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
        shown = [gr.Dataset(visible=other == lang) for other in examples]
        return (sid, gr.Dropdown(choices=room_choices(scenario, lang), value=room_id), gr.Dropdown(choices=puzzle_choices(scenario, room_id, lang), value=puzzle_id),
                hints_used(services, sid, puzzle_id, lang), intro(scenario, lang), *shown)  # fmt: skip

    def change_room(room_id, request: gr.Request):
        return gr.Dropdown(choices=puzzle_choices(scenario, room_id, page_language(request)), value="")

    def change_puzzle(puzzle_id, sid, request: gr.Request):
        return hints_used(services, sid, puzzle_id, page_language(request))

    def _answer(history, room_id, puzzle_id, sid, hint_: bool, request=None):
        """Stream the reply to the last user message of `history` (shared by send, hint and retry).
        The browser's language and region (Accept-Language) are the turn's locale: a crisis reply
        gives the helplines of the player's country."""
        convo = H.conversation(history)
        headers = getattr(request, "headers", None) or {}
        locale = locale_from_accept_language(headers.get("accept-language"))
        lang = page_language(request)
        ctx = Context(session_id=sid, room=room_id or None, puzzle=puzzle_id or None, hint=hint_, locale=locale or lang)
        history = [*history, H.assistant_message("")]
        try:
            for text, reply in stream_turn(services, convo, ctx):
                history[-1] = H.assistant_message(text)
                if reply is not None and reply.sources:
                    history.append(H.sources_message(services.source_titles(reply.sources), t("sources", lang)))
                if reply is not None and reply.mode == "refused" and reply.details.get("reason") == "rate_limited":
                    gr.Warning(reply.text)  # "please wait N seconds", also as a toast
                yield history, hints_used(services, sid, puzzle_id, lang)
        except TurnError as exc:
            history.pop()
            gr.Warning(str(exc))
            yield history, hints_used(services, sid, puzzle_id, lang)

    def respond(text, history, room_id, puzzle_id, sid, request: gr.Request):
        """The player sent a message: show it, then stream the reply."""
        if not (text or "").strip():
            gr.Warning(t("type_first", page_language(request)))
            yield history, text, gr.skip()
            return
        history = [*(history or []), H.user_message(text)]
        yield history, "", gr.skip()
        for history_, hints_ in _answer(history, room_id, puzzle_id, sid, False, request):
            yield history_, gr.skip(), hints_

    def ask_hint(history, room_id, puzzle_id, sid, request: gr.Request):
        """The player pressed "Hint": the next hint level of the chosen puzzle."""
        lang = page_language(request)
        if not puzzle_id:
            gr.Warning(t("choose_puzzle", lang))
            yield history, gr.skip()
            return
        history = [*(history or []), H.user_message(t("hint_message", lang))]
        yield history, gr.skip()
        yield from _answer(history, room_id, puzzle_id, sid, True, request)

    def retry(history, room_id, puzzle_id, sid, data: gr.RetryData, request: gr.Request):
        """Ask again from the retried user message (a hint request asks for the next hint)."""
        history = list(history[: data.index + 1])
        is_hint = H.content_text(history[-1]) in hint_messages() and bool(puzzle_id)
        yield from _answer(history, room_id, puzzle_id, sid, is_hint, request)

    def undo(history, data: gr.UndoData):
        """Remove the last exchange and put the player's message back in the box."""
        return history[: data.index], H.content_text(history[data.index])

    def handle_like(history, sid, share_text, data: gr.LikeData, request: gr.Request):
        """A 👍/👎 (or its withdrawal) on a reply: stored at once, upserted on change."""
        lang = page_language(request)
        if not sid or not isinstance(data.index, int) or data.index >= len(history or []):
            return gr.skip(), gr.skip(), gr.skip(), t("vote_failed", lang)
        index = H.conversation_index(history, data.index)
        vote = {True: "up", False: "down"}.get(data.liked)  # "" = the vote was withdrawn
        convo = H.conversation(history)[: index + 1] if share_text else None
        record = services.replies.get(sid, index)
        try:
            services.feedback.vote(_vote(sid, index, vote, record, convo))
        except (OSError, ValueError) as exc:
            log.exception("could not store a vote")
            raise gr.Error(t("vote_error", lang, error=exc)) from None
        if vote is None:
            return None, gr.Textbox(value="", interactive=False), gr.Button(interactive=False), t("vote_withdrawn", lang)
        thanks = t("thanks_up" if vote == "up" else "thanks_down", lang)
        return index, gr.Textbox(interactive=True), gr.Button(interactive=True), thanks

    def handle_comment(text, sid, index, request: gr.Request):
        """The optional comment on this page's latest vote."""
        lang = page_language(request)
        if index is None or not sid:
            return gr.skip(), t("vote_first", lang)
        row = services.feedback.comment(sid, index, text or "")
        return "", t("comment_saved" if row else "vote_first", lang)

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
    return dict(load=(load_page, [], [session, room, puzzle, hints, heading, *examples.values()]), chatbot=chatbot, message=message, session=session, room=room, puzzle=puzzle)


def _vote(sid, index, vote, record, convo) -> Vote:
    """A Vote with the remembered reply's metadata (or without, if the server forgot it)."""
    meta = {}
    if record is not None:
        meta = dict(mode=record.mode, sources=record.sources, model=record.model, prompt_format=record.prompt_format, room=record.room, puzzle=record.puzzle)
    reply = convo[-1]["content"] if convo else None
    return Vote(sid, index, vote, conversation=convo, reply=reply, **meta)
