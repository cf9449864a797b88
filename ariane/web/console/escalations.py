"""Console tab "Escalations": crisis messages recorded by the safety checks; read and acknowledge them.

The store keeps the message that raised the escalation; the rest of the conversation is shown
while this server still remembers it (memory only, see ariane/web/replies.py).
"""

from __future__ import annotations

import gradio as gr

from ariane.web.console.auth import require
from ariane.web.console.dislikes import conversation_view
from ariane.web.console.strings import frame, headers, t
from ariane.web.strings import label, page_language


def escalation_rows(store, open_only: bool = False, lang: str = "en") -> list[list]:
    def handled(e) -> str:
        return t("acknowledged_cell", lang, at=e.acknowledged_at[:16].replace("T", " "), by=e.acknowledged_by) if e.acknowledged_at else t("escalation_open", lang)

    return [[e.id, e.created_at[:16].replace("T", " "), e.category, e.message[:80], e.session_id, handled(e)] for e in store.list(open_only=open_only)]


def build_escalations(services, unlocked):
    gr.Markdown(label("console_escalations_help"), elem_id="escalations-help")
    note = gr.Markdown("", elem_id="escalations-note")
    with gr.Row():
        open_only = gr.Checkbox(True, label=label("console_open_only"), elem_id="escalations-open-only")
        refresh = gr.Button(label("console_refresh"), size="sm", elem_id="escalations-refresh")
    table = gr.Dataframe(headers=headers("escalations", "en"), value=[], interactive=False, label=label("console_escalations_table"), elem_id="escalations-table", wrap=True)
    with gr.Row(equal_height=True):
        selected = gr.Number(None, label=label("console_escalation_number"), precision=0, interactive=False, elem_id="escalation-id", scale=1)
        details = gr.Markdown("", elem_id="escalation-details")
    convo = gr.Chatbot(label=label("console_conversation"), height=260, elem_id="escalation-conversation", sanitize_html=True, allow_tags=False, feedback_options=None)
    with gr.Row(equal_height=True):
        by = gr.Textbox(label=label("console_your_name"), elem_id="escalation-by", scale=3)
        ack = gr.Button(label("console_acknowledge"), variant="primary", elem_id="escalation-ack", scale=1)

    def show_escalations(unlocked_, open_only_, request: gr.Request):
        lang = page_language(request)
        require(unlocked_, lang)
        store = services.escalations
        if store is None:
            return t("escalations_unavailable", lang), frame("escalations", [], lang)
        return t("open_count", lang, count=store.count_open()), frame("escalations", escalation_rows(store, bool(open_only_), lang), lang)

    def open_escalation(unlocked_, evt: gr.SelectData, request: gr.Request):
        """Show the escalated message, and the conversation if this server still remembers it."""
        lang = page_language(request)
        require(unlocked_, lang)
        store = services.escalations
        e = store.get(int(evt.row_value[0])) if store is not None else None
        if e is None:
            raise gr.Error(t("escalation_gone", lang))
        info = (
            t("escalation_info", lang, id=e.id, category=e.category, subject=e.subject, created=e.created_at, locale=e.locale)
            + (t("in_room", lang, room=e.room) if e.room else "") + (t("on_puzzle", lang, puzzle=e.puzzle) if e.puzzle else "")
            + ("\n\n" + t("acknowledged_info", lang, at=e.acknowledged_at, by=e.acknowledged_by) if e.acknowledged_at else "")
        )  # fmt: skip
        conversation = services.replies.latest_conversation(e.session_id)
        if not any(m["role"] == "user" and m["content"] == e.message for m in conversation):
            conversation = [{"role": "user", "content": e.message}]
            info += "\n\n" + t("only_message", lang)
        return e.id, info, conversation_view(conversation)

    def acknowledge(unlocked_, escalation_id, by_, open_only_, request: gr.Request):
        lang = page_language(request)
        require(unlocked_, lang)
        store = services.escalations
        if store is None or not escalation_id:
            raise gr.Error(t("open_escalation_first", lang))
        try:
            e = store.acknowledge(int(escalation_id), by_)
        except ValueError as exc:
            raise gr.Error(t("not_acknowledged", lang, error=exc)) from None
        return frame("escalations", escalation_rows(store, bool(open_only_), lang), lang), t("acknowledged", lang, id=e.id, by=e.acknowledged_by)

    hidden = dict(api_visibility="undocumented")
    gr.on([refresh.click, open_only.change], show_escalations, [unlocked, open_only], [note, table], api_name="console_escalations", **hidden)
    table.select(open_escalation, [unlocked], [selected, details, convo], **hidden)
    ack.click(acknowledge, [unlocked, selected, by, open_only], [table, details], api_name="console_acknowledge", **hidden)
    return show_escalations, [unlocked, open_only], [note, table]
