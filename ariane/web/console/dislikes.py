"""Console tab "Dislikes": read a disliked answer, write the corrected one, approve it.

The correction becomes a draft knowledge entry; approving it bumps the knowledge base's
version, so retrieval serves it from the next question, and `python -m data export` (and the
next fine-tune built from it) includes it.
"""

from __future__ import annotations

import gradio as gr

from ariane.i18n import language_of
from ariane.knowledge.entries import CATEGORIES, EntryError
from ariane.web import history as H
from ariane.web.console.auth import require
from ariane.web.console.strings import frame, headers, t
from ariane.web.strings import label, page_language


def dislike_rows(store, limit: int = 50, lang: str = "en") -> list[list]:
    yes, no = t("yes", lang), t("no", lang)
    return [
        [r["id"], r["updated_at"][:16].replace("T", " "), r["mode"] or "", ", ".join(r["sources"]), r["comment"] or "",
         yes if r["conversation"] is not None else no, r["reviewed_entry"] or ""]
        for r in store.rows(vote="down", limit=limit, newest_first=True)
    ]  # fmt: skip


def conversation_view(conversation) -> list[dict]:
    return [H.user_message(m["content"]) if m["role"] == "user" else H.assistant_message(m["content"]) for m in conversation or []]


def build_dislikes(services, unlocked):
    store = services.feedback.store
    gr.Markdown(label("console_dislikes_help"), elem_id="dislikes-help")
    refresh = gr.Button(label("console_refresh"), size="sm", elem_id="dislikes-refresh")
    table = gr.Dataframe(headers=headers("dislikes", "en"), value=[], interactive=False, label=label("console_latest_dislikes"), elem_id="dislikes-table", wrap=True)
    with gr.Row(equal_height=True):
        selected = gr.Number(None, label=label("console_vote_number"), precision=0, interactive=False, elem_id="review-vote", scale=1)  # the feedback row under review
        details = gr.Markdown("", elem_id="dislike-details")
    convo = gr.Chatbot(label=label("console_conversation"), height=260, elem_id="dislike-conversation", sanitize_html=True, allow_tags=False, feedback_options=None)
    with gr.Row():
        category = gr.Dropdown(list(CATEGORIES), value=None, label=label("console_category"), allow_custom_value=True, elem_id="review-category")
        question = gr.Textbox(label=label("console_question_as_asked"), elem_id="review-question", scale=3)
    answer = gr.Textbox(label=label("console_corrected_answer"), lines=4, elem_id="review-answer")
    with gr.Row():
        save = gr.Button(label("console_save_draft"), elem_id="review-save")
        draft = gr.Textbox(label=label("console_draft_id"), interactive=False, elem_id="review-draft")
        approve = gr.Button(label("console_approve"), variant="primary", elem_id="review-approve")
    status = gr.Markdown("", elem_id="review-status")

    def show_dislikes(unlocked_, request: gr.Request):
        lang = page_language(request)
        require(unlocked_, lang)
        return frame("dislikes", dislike_rows(store, lang=lang), lang)

    def open_dislike(unlocked_, evt: gr.SelectData, request: gr.Request):
        """A row was clicked: show its conversation and prefill the correction form."""
        lang = page_language(request)
        require(unlocked_, lang)
        row = store.get_id(int(evt.row_value[0]))
        if row is None:
            raise gr.Error(t("vote_gone", lang))
        conversation = row["conversation"]
        user_text = next((m["content"] for m in reversed(conversation or []) if m["role"] == "user"), "")
        sources = services.source_titles(row["sources"])
        cat = next((c for _, _, c in sources if c), "")
        listed = ", ".join(f"{i} ({q})" for i, q, _ in sources) or t("none", lang)
        info = t("vote_info", lang, id=row["id"], mode=row["mode"], model=row["model"] or t("none", lang), sources=listed, comment=row["comment"] or "—")
        if conversation is None:
            info += "\n\n" + t("not_shared", lang)
        return row["id"], info, conversation_view(conversation), cat, user_text, "", row["reviewed_entry"] or "", ""

    def save_draft(unlocked_, row_id, category_, question_, answer_, request: gr.Request):
        """The corrected answer becomes a draft knowledge entry (not served until approved), in
        the language its text is written in (the console's when the text does not say)."""
        lang = page_language(request)
        require(unlocked_, lang)
        try:
            source = f"Mediator correction of disliked answer #{row_id}" if row_id else "Mediator correction"
            language = language_of(f"{question_ or ''} {answer_ or ''}", lang)
            entry = services.knowledge.add(category=(category_ or "").strip(), question=question_ or "", answer=answer_ or "", language=language, source=source, status="draft")
        except EntryError as exc:
            raise gr.Error(t("not_saved", lang, error=exc)) from None
        if row_id:
            store.mark_reviewed(int(row_id), entry.id)
        return entry.id, t("saved_draft", lang, id=entry.id), frame("dislikes", dislike_rows(store, lang=lang), lang)

    def approve_draft(unlocked_, entry_id, request: gr.Request):
        """Approve the draft: retrieval serves it from the next question."""
        lang = page_language(request)
        require(unlocked_, lang)
        if not entry_id:
            raise gr.Error(t("save_first", lang))
        try:
            entry = services.knowledge.approve(entry_id)
        except (KeyError, EntryError) as exc:
            raise gr.Error(t("not_approved", lang, error=str(exc).strip("\"'"))) from None
        return t("approved", lang, id=entry.id)

    hidden = dict(api_visibility="undocumented")
    refresh.click(show_dislikes, [unlocked], [table], api_name="console_dislikes", **hidden)
    table.select(open_dislike, [unlocked], [selected, details, convo, category, question, answer, draft, status], **hidden)
    save.click(save_draft, [unlocked, selected, category, question, answer], [draft, status, table], api_name="console_save_draft", **hidden)
    approve.click(approve_draft, [unlocked, draft], [status], api_name="console_approve", **hidden)
    return show_dislikes, [unlocked], [table]
