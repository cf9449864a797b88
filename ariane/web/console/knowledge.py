"""Console tab "Knowledge": search, edit, approve and delete Q&A entries; CSV upload and download."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import gradio as gr

from ariane.i18n import LANGUAGES, NAMES
from ariane.knowledge.entries import CATEGORIES, FIELDS, EntryError
from ariane.web.console.auth import require
from ariane.web.console.strings import frame, headers, t
from ariane.web.strings import label, page_language


def entry_rows(kb, query: str = "", status: str = "all", language: str = "all", lang: str = "en") -> list[list]:
    """The entries matching a search, a status and a language, as table rows (status shown in `lang`)."""
    entries = kb.search_text(query.strip(), limit=500) if query and query.strip() else kb.list()
    if status in ("draft", "approved"):
        entries = [e for e in entries if e.status == status]
    if language in LANGUAGES:
        entries = [e for e in entries if e.language == language]
    return [[e.id, t(f"status_{e.status}", lang), e.category, e.question, e.language, e.updated] for e in entries]


def import_summary(report, lang: str = "en") -> str:
    """`ImportReport.summary()` in `lang`: how many entries were (or would be) added, updated, unchanged."""
    key = "would_import" if report.dry_run else "import_summary"
    return t(key, lang, added=len(report.added), updated=len(report.updated), unchanged=len(report.unchanged))


def import_csv(kb, path, category: str | None = None, dry_run: bool = False):
    """Read a spreadsheet CSV (`ariane.knowledge.importers.read_csv`: detected encoding and
    separator, usual column names) and import it all or nothing (`KnowledgeBase.import_rows`); its ImportReport.

    Raises:
        EntryError: naming the line at fault; nothing was written.
    """
    from ariane.knowledge.importers import read_csv

    rows = read_csv(path, category=category or None)
    name = Path(path).name
    rows = [(where.replace(str(path), name), row) for where, row in rows]  # errors name the file, not the temp path
    return kb.import_rows(rows, dry_run=dry_run)


def export_csv(kb, directory) -> Path:
    """Every entry as a CSV file (paraphrases one per line in their cell), for a spreadsheet."""
    path = Path(directory) / "ariane-knowledge.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for e in kb.list():
            row = e.to_dict()
            row["paraphrases"] = "\n".join(row["paraphrases"])
            writer.writerow(row)
    return path


def build_knowledge(services, unlocked):
    gr.Markdown(label("console_knowledge_help"), elem_id="kb-help")
    statuses = [(label("console_draft"), "draft"), (label("console_approved"), "approved")]
    languages = [(NAMES[lang], lang) for lang in LANGUAGES]
    with gr.Row(equal_height=True):
        query = gr.Textbox(label=label("console_search"), placeholder=label("console_search_placeholder"), elem_id="kb-search", scale=4)
        status_filter = gr.Radio([(label("console_all"), "all"), *statuses], value="all", label=label("console_status"), elem_id="kb-status-filter", scale=2)
        language_filter = gr.Radio([(label("console_all"), "all"), *languages], value="all", label=label("console_language"), elem_id="kb-language-filter", scale=2)
        search = gr.Button(label("console_search"), elem_id="kb-search-button", scale=1)
    table = gr.Dataframe(headers=headers("knowledge", "en"), value=[], interactive=False, label=label("console_entries"), elem_id="kb-table", wrap=True, max_height=360)
    with gr.Row():
        entry_id = gr.Textbox(label=label("console_entry_id"), interactive=False, elem_id="kb-id")
        category = gr.Dropdown(list(CATEGORIES), value=None, label=label("console_category"), allow_custom_value=True, elem_id="kb-category")
        status = gr.Radio(statuses, value="draft", label=label("console_status"), elem_id="kb-status")
        language = gr.Radio(languages, value=LANGUAGES[0], label=label("console_language"), elem_id="kb-language")  # set to the console's at unlock
    question = gr.Textbox(label=label("console_question"), elem_id="kb-question")
    paraphrases = gr.Textbox(label=label("console_paraphrases"), lines=3, elem_id="kb-paraphrases")
    answer = gr.Textbox(label=label("console_answer"), lines=4, elem_id="kb-answer")
    source = gr.Textbox(label=label("console_source"), elem_id="kb-source")
    with gr.Row():
        new = gr.Button(label("console_new_entry"), elem_id="kb-new")
        save = gr.Button(label("console_save"), variant="primary", elem_id="kb-save")
        delete = gr.Button(label("console_delete"), variant="stop", elem_id="kb-delete")
    pending_delete = gr.State(None)  # id awaiting a second click on Delete
    edit_status = gr.Markdown("", elem_id="kb-edit-status")
    gr.Markdown(label("console_spreadsheet"))
    with gr.Row():
        upload = gr.File(label=label("console_upload"), file_types=[".csv"], elem_id="kb-upload")
        download = gr.File(label=label("console_download"), interactive=False, elem_id="kb-download")
    import_category = gr.Dropdown(list(CATEGORIES), value=None, label=label("console_import_category"), allow_custom_value=True, elem_id="kb-import-category")
    with gr.Row():
        check = gr.Button(label("console_check_csv"), elem_id="kb-check")
        do_import = gr.Button(label("console_import_csv"), elem_id="kb-import")
        export = gr.Button(label("console_export_csv"), elem_id="kb-export")
    import_status = gr.Markdown("", elem_id="kb-import-status")
    form = [entry_id, category, status, question, paraphrases, answer, source, language]
    shown_language = gr.State("all")  # the language filter's value, kept server-side: the API's filters stay (query, status)
    filters = [query, status_filter, shown_language]

    def listed(lang, query_, status_, language_):
        return frame("knowledge", entry_rows(services.knowledge, query_ or "", status_, language_ or "all", lang), lang)

    def show_entries(unlocked_, query_, status_, language_, request: gr.Request):
        lang = page_language(request)
        require(unlocked_, lang)
        return listed(lang, query_, status_, language_)

    def show_at_unlock(unlocked_, query_, status_, language_, request: gr.Request):
        """The list, and the console's language as a new entry's."""
        return show_entries(unlocked_, query_, status_, language_, request), page_language(request)

    def filter_language(language_):
        return language_ or "all"

    def open_entry(unlocked_, evt: gr.SelectData, request: gr.Request):
        lang = page_language(request)
        require(unlocked_, lang)
        e = services.knowledge.get(str(evt.row_value[0]))
        if e is None:
            raise gr.Error(t("entry_gone", lang))
        return e.id, e.category, e.status, e.question, "\n".join(e.paraphrases), e.answer, e.source, e.language, None, ""

    def new_entry(unlocked_, request: gr.Request):
        lang = page_language(request)
        require(unlocked_, lang)
        return "", "", "draft", "", "", "", "", lang, None, ""

    def save_entry(unlocked_, id_, category_, status_, question_, paraphrases_, answer_, source_, language_, query_, filter_, language_filter_, request: gr.Request):
        """Add (no id yet) or update the entry in the form."""
        lang = page_language(request)
        require(unlocked_, lang)
        fields = dict(category=category_ or "", status=status_, question=question_ or "", answer=answer_ or "", source=source_ or "",
                      paraphrases=[p.strip() for p in (paraphrases_ or "").splitlines() if p.strip()])  # fmt: skip
        if language_ or not id_:  # a new entry is in the console's language unless the form says otherwise
            fields["language"] = language_ or lang
        kb = services.knowledge
        try:
            entry = kb.update(id_, **fields) if id_ else kb.add(**fields)
        except (KeyError, EntryError) as exc:
            raise gr.Error(t("not_saved", lang, error=str(exc).strip("\"'"))) from None
        saved = t("saved_approved" if entry.status == "approved" else "saved_as_draft", lang, id=entry.id)
        return entry.id, saved, listed(lang, query_, filter_, language_filter_)

    def delete_entry(unlocked_, id_, pending, query_, filter_, language_filter_, request: gr.Request):
        """Delete needs two clicks; the id is retired for good."""
        lang = page_language(request)
        require(unlocked_, lang)
        if not id_:
            raise gr.Error(t("open_first", lang))
        if pending != id_:
            return id_, t("delete_again", lang, id=id_), gr.skip(), *([gr.skip()] * len(form))
        try:
            services.knowledge.delete(id_)
        except KeyError as exc:
            raise gr.Error(t("not_deleted", lang, error=str(exc).strip("\"'"))) from None
        return None, t("deleted", lang, id=id_), listed(lang, query_, filter_, language_filter_), "", "", "draft", "", "", "", "", lang

    def run_import(unlocked_, file, category_, dry_run, query_, filter_, language_filter_, lang):
        require(unlocked_, lang)
        if not file:
            raise gr.Error(t("choose_file", lang))
        try:
            report = import_csv(services.knowledge, file, category_, dry_run=dry_run)
        except (EntryError, ValueError, OSError) as exc:  # the knowledge base's own words (file:line), after a translated lead-in
            hint = t("choose_category", lang) if "no category column" in str(exc) else ""
            return t("nothing_imported", lang, error=exc) + hint, gr.skip()
        if dry_run:
            return t("file_fine", lang, summary=import_summary(report, lang)), gr.skip()
        drafts = t("drafts_note", lang) if report.added else ""
        return t("imported", lang, summary=import_summary(report, lang)) + drafts, listed(lang, query_, filter_, language_filter_)

    def check_csv(unlocked_, file, category_, query_, filter_, language_filter_, request: gr.Request):
        """Dry run: what the import would do, or the first error."""
        return run_import(unlocked_, file, category_, True, query_, filter_, language_filter_, page_language(request))

    def import_file(unlocked_, file, category_, query_, filter_, language_filter_, request: gr.Request):
        """All or nothing: every row is checked before anything is written."""
        return run_import(unlocked_, file, category_, False, query_, filter_, language_filter_, page_language(request))

    def export_entries(unlocked_, request: gr.Request):
        require(unlocked_, page_language(request))
        return str(export_csv(services.knowledge, tempfile.mkdtemp(prefix="ariane-kb-")))

    hidden = dict(api_visibility="undocumented")
    gr.on([search.click, query.submit, status_filter.change], show_entries, [unlocked, *filters], [table], api_name="console_entries", **hidden)
    language_filter.change(filter_language, [language_filter], [shown_language], api_visibility="private").then(
        show_entries, [unlocked, *filters], [table], api_visibility="private"
    )
    table.select(open_entry, [unlocked], [*form, pending_delete, edit_status], **hidden)
    new.click(new_entry, [unlocked], [*form, pending_delete, edit_status], **hidden)
    save.click(save_entry, [unlocked, *form, *filters], [entry_id, edit_status, table], api_name="console_save_entry", **hidden)
    delete.click(delete_entry, [unlocked, entry_id, pending_delete, *filters], [pending_delete, edit_status, table, *form], **hidden)
    check.click(check_csv, [unlocked, upload, import_category, *filters], [import_status, table], **hidden)
    do_import.click(import_file, [unlocked, upload, import_category, *filters], [import_status, table], api_name="console_import", **hidden)
    export.click(export_entries, [unlocked], [download], **hidden)
    return show_at_unlock, [unlocked, *filters], [table, language]
