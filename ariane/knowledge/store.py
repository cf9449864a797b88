"""The knowledge base mediators edit: Q&A entries in SQLite at `ARIANE_HOME/knowledge.sqlite`.

Seeded from data/qa on first use. Every change (add, update, delete, approve, import) bumps
`version` in the same transaction, so the retrieval index sees it on the next question.
`import_rows` is all or nothing: every row is checked before anything is written, and the
writes happen in one transaction. Rows without an id are matched on their question, so
importing the same spreadsheet twice changes nothing.

Example:
    >>> kb = KnowledgeBase.open(Settings.from_env())     # seeds from data/qa the first time
    >>> entry = kb.add(category="stress", question="Is stress contagious?", answer="...")
    >>> entry.status, kb.approve(entry.id).status
    ('draft', 'approved')
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ariane.db import Store
from ariane.knowledge.entries import FIELDS, QA_DIR, Entry, EntryError, entry_from_dict, load_entries, write_jsonl

log = logging.getLogger(__name__)

DB_FILE = "knowledge.sqlite"  # under ARIANE_HOME


class ImportFailed(EntryError):
    """A file or row cannot be imported; nothing was written."""


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do)."""

    added: list = field(default_factory=list)  # new entry ids
    updated: list = field(default_factory=list)  # ids whose content changed
    unchanged: list = field(default_factory=list)  # ids already identical
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would add" if self.dry_run else "added"
        return f"{verb} {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}"


def question_key(text: str) -> str:
    """How questions are compared for duplicates: case, spacing and punctuation ignored."""
    return " ".join(re.sub(r"[^\w\s]+", " ", str(text).casefold()).split())


def _today() -> str:
    return datetime.date.today().isoformat()


class KnowledgeBase(Store):
    """Q&A entries in SQLite; a `version` counter that every change bumps.

    Args:
        path: str | Path. The SQLite file (created if missing).
        seed: str | Path | None. Folder of `<category>.jsonl` loaded into an empty, never-seeded
            base (default data/qa); None = start empty.
    """

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS entries (
        id TEXT PRIMARY KEY,
        category TEXT NOT NULL,
        question TEXT NOT NULL,
        question_key TEXT NOT NULL,           -- question_key(question): duplicate detection
        paraphrases TEXT NOT NULL,            -- JSON list of strings
        answer TEXT NOT NULL,
        language TEXT NOT NULL,
        source TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('draft', 'approved')),
        updated TEXT NOT NULL                 -- YYYY-MM-DD
    );
    CREATE UNIQUE INDEX IF NOT EXISTS entries_question_key ON entries (question_key);
    CREATE TABLE IF NOT EXISTS retired_ids (id TEXT PRIMARY KEY);  -- deleted ids are never reused
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """

    def __init__(self, path, seed=QA_DIR):
        super().__init__(path)
        if seed is None:
            return
        if self._meta("seeded") is None:
            self.sync(seed)
        elif self._meta("seed_ids") != _ids_digest(seed):  # the shipped data gained entries (e.g. a new language)
            try:
                self.sync(seed)
            except EntryError as exc:  # the base as it was still serves; the mediators' edits stay
                log.warning("%s: the shipped entries could not be added (%s); run `python -m data import data/qa/<file>.jsonl --format jsonl`", path, exc)

    @classmethod
    def open(cls, settings) -> "KnowledgeBase":
        """The base of `settings.home` (ARIANE_HOME), seeded from data/qa on first use."""
        return cls(Path(settings.home) / DB_FILE)

    def close(self) -> None:
        """Close this thread's connection (SQLite then folds the WAL back into the file)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # ---- reading -----------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Bumped by every change; the retrieval index rebuilds when it moves."""
        return int(self._meta("version") or 0)

    def get(self, entry_id: str) -> Entry | None:
        row = self.conn.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return _entry(row) if row else None

    def list(self, category: str | None = None, status: str | None = None) -> list[Entry]:
        """Entries sorted by id, optionally of one category and/or status."""
        sql, args = "SELECT * FROM entries WHERE 1=1", []
        if category:
            sql, args = sql + " AND category = ?", args + [category]
        if status:
            sql, args = sql + " AND status = ?", args + [status]
        return [_entry(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def approved(self) -> list[Entry]:
        return self.list(status="approved")

    def search_text(self, text: str, limit: int = 50) -> list[Entry]:
        """Entries whose id, question, paraphrases or answer contain `text` (case-insensitive)."""
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.conn.execute(
            "SELECT * FROM entries WHERE id LIKE ?1 ESCAPE '\\' OR question LIKE ?1 ESCAPE '\\' "
            "OR paraphrases LIKE ?1 ESCAPE '\\' OR answer LIKE ?1 ESCAPE '\\' ORDER BY id LIMIT ?2",
            (like, limit),
        )
        return [_entry(r) for r in rows]

    # ---- editing -----------------------------------------------------------------------------
    def add(self, entry: Entry | None = None, **fields_) -> Entry:
        """Add an entry (a draft unless `status` says otherwise); a missing id is assigned.

        Args:
            entry: Entry | None. A whole entry, or give its fields as keywords instead.
            **fields_: category, question, answer (required), paraphrases, source, status, ...

        Raises:
            EntryError: a field is missing/invalid, or the id or question already exists.
        """
        data = entry.to_dict() if entry is not None else {"status": "draft", **fields_}
        with self.transaction() as conn:
            data.setdefault("id", None)
            if not data["id"]:
                data["id"] = self._next_id(conn, str(data.get("category") or "entry"))
            new = entry_from_dict(data, f"new entry {data['id']}", strict=False)
            if self._get(conn, new.id) is not None or self._is_retired(conn, new.id):
                raise EntryError(f"new entry {new.id}: this id is already used; leave the id empty to get a new one")
            self._check_question_free(conn, new, f"new entry {new.id}")
            self._write(conn, new)
        return new

    def update(self, entry_id: str, **changes) -> Entry:
        """Change some fields of an entry; `updated` becomes today unless given.

        Raises:
            KeyError: no entry has this id.
            EntryError: the result is invalid or its question duplicates another entry's.
        """
        with self.transaction() as conn:
            old = self._get(conn, entry_id)
            if old is None:
                raise KeyError(f"no knowledge entry {entry_id!r}; list them with `python -m data export`")
            if "id" in changes and changes["id"] != entry_id:
                raise EntryError(f"entry {entry_id}: an id cannot change; delete it and add a new entry")
            data = {**old.to_dict(), **changes}
            if "updated" not in changes:
                data["updated"] = _today()
            new = entry_from_dict(data, f"entry {entry_id}", strict=False)
            self._check_question_free(conn, new, f"entry {entry_id}")
            self._write(conn, new, replace=True)
        return new

    def approve(self, entry_id: str) -> Entry:
        """draft → approved: from now on retrieval can answer with it."""
        return self.update(entry_id, status="approved")

    def delete(self, entry_id: str) -> None:
        """Remove an entry for good; its id is retired and never given again."""
        with self.transaction() as conn:
            if conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,)).rowcount == 0:
                raise KeyError(f"no knowledge entry {entry_id!r}")
            conn.execute("INSERT OR IGNORE INTO retired_ids (id) VALUES (?)", (entry_id,))
            self._bump(conn)

    # ---- bulk --------------------------------------------------------------------------------
    def import_rows(self, rows, *, dry_run: bool = False, default_status: str = "draft") -> ImportReport:
        """Add or update many entries at once, all or nothing.

        A row with an `id` updates that entry (or adds it); a row without one updates the entry
        with the same question (case, spacing and punctuation ignored) or gets a new id.
        Rows identical to what is stored change nothing, so re-importing a file is harmless.

        Args:
            rows: iterable of (where, dict) — `where` like "faq.csv:12" names the row in errors —
                or of Entry.
            dry_run: bool. Check and report without writing.
            default_status: str. Status of rows that do not say ("draft": a mediator approves).

        Raises:
            ImportFailed: naming every bad row (the first 50, then how many more); nothing was
                written.
        """

        def failed(errors: list[str]) -> ImportFailed:  # one error a line, as importers.error_list
            listed = errors[:50] + ([f"... and {len(errors) - 50} more"] if len(errors) > 50 else [])
            return ImportFailed(errors[0] if len(errors) == 1 else f"{len(errors)} rows to fix:\n  - " + "\n  - ".join(listed))

        report = ImportReport(dry_run=dry_run)
        items = [(f"entry {r.id}", r.to_dict()) if isinstance(r, Entry) else r for r in rows]
        with self.transaction() as conn:  # a write lock for the whole check-then-write
            seen_ids: dict[str, str] = {}
            seen_questions: dict[str, str] = {}
            planned: list[Entry] = []
            errors: list[str] = []  # every bad row is reported, not only the first
            for where, data in items:
                try:
                    entry, old = self._plan_row(conn, dict(data), where, default_status, seen_ids)
                except EntryError as exc:
                    errors.append(str(exc))
                    continue
                key = question_key(entry.question)
                if key in seen_questions:
                    errors.append(f"{where}: the same question is already on {seen_questions[key]}; keep one of them")
                    continue
                if entry.id in seen_ids:
                    errors.append(f"{where}: id {entry.id} is already on {seen_ids[entry.id]}; ids are unique")
                    continue
                seen_questions[key], seen_ids[entry.id] = where, where
                if old is None:
                    report.added.append(entry.id)
                elif _same(old, entry):
                    report.unchanged.append(entry.id)
                    continue
                else:
                    report.updated.append(entry.id)
                planned.append(entry)
            rewritten = {entry.id for entry in planned}  # their old questions go, so a swap does not collide
            for entry in planned:
                other = conn.execute("SELECT id FROM entries WHERE question_key = ?", (question_key(entry.question),)).fetchone()
                if other is not None and other["id"] not in rewritten:
                    errors.append(f"{seen_ids[entry.id]}: entry {entry.id}'s question is already entry {other['id']}'s; keep one of them")
            if errors:
                raise failed(errors)
            if dry_run or not planned:
                return report
            for entry in planned:
                conn.execute("DELETE FROM entries WHERE id = ?", (entry.id,))
            for entry in planned:
                self._write(conn, entry, bump=False)
            self._bump(conn)
        return report

    def sync(self, directory=QA_DIR, overwrite: bool = False) -> ImportReport:
        """Bring in the shipped entries of `directory` (data/qa): new ones are added; with
        `overwrite`, shipped entries also replace mediators' edits of the same id."""
        shipped = load_entries(directory)
        with self.transaction() as conn:
            retired = {r[0] for r in conn.execute("SELECT id FROM retired_ids")}  # a mediator deleted them: stay deleted
        rows = [(f"{directory}/{e.category}.jsonl ({e.id})", e.to_dict()) for e in shipped
                if e.id not in retired and (overwrite or self.get(e.id) is None)]
        rows = [r for r in rows if self._question_owner(r[1]) in (None, r[1]["id"]) or overwrite]
        report = self.import_rows(rows)
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seeded', ?)", (str(directory),))
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seed_ids', ?)", (_ids_digest(directory, shipped),))
        return report

    def export(self, directory, status: str | None = None) -> list:
        """Write entries back as `<category>.jsonl` files (the format of data/qa)."""
        return write_jsonl(self.list(status=status), directory)

    # ---- internals ---------------------------------------------------------------------------
    def _plan_row(self, conn, data: dict, where: str, default_status: str, seen_ids: dict):
        data = {k: v for k, v in data.items() if v not in (None, "") or k in ("question", "answer")}
        unknown = set(data) - set(FIELDS)
        if unknown:
            raise EntryError(f"{where}: unknown column(s) {sorted(unknown)}; use --map to name question/answer/category columns")
        old = self._get(conn, data["id"]) if data.get("id") else None
        if old is None and not data.get("id"):
            row = conn.execute("SELECT * FROM entries WHERE question_key = ?", (question_key(data.get("question") or ""),)).fetchone()
            old = _entry(row) if row else None
        if old is not None:
            merged = {**old.to_dict(), **data, "updated": data.get("updated") or old.updated}
            entry = entry_from_dict(merged, where, strict=False)
            if not _same(old, entry) and not data.get("updated"):
                entry = entry.with_(updated=_today())
            return entry, old
        if not data.get("category"):
            raise EntryError(f"{where}: no category; add a category column or pass --category NAME")
        data.setdefault("status", default_status)
        if not data.get("language"):  # a spreadsheet without a language column: the text says it
            from ariane.safety.text import guess_language

            data["language"] = guess_language(f"{data.get('question') or ''} {data.get('answer') or ''}")
        if not data.get("id"):
            taken = set(seen_ids)
            data["id"] = self._next_id(conn, str(data["category"]).strip(), taken)
        elif self._is_retired(conn, data["id"]):
            raise EntryError(f"{where}: id {data['id']} belonged to a deleted entry and is never reused; leave the id empty")
        return entry_from_dict(data, where, strict=False), None

    def _question_owner(self, data: dict) -> str | None:
        row = self.conn.execute("SELECT id FROM entries WHERE question_key = ?", (question_key(data["question"]),)).fetchone()
        return row["id"] if row else None

    def _check_question_free(self, conn, entry: Entry, where: str) -> None:
        row = conn.execute("SELECT id FROM entries WHERE question_key = ? AND id != ?", (question_key(entry.question), entry.id)).fetchone()
        if row is not None:
            raise EntryError(f"{where}: entry {row['id']} already asks this question; edit that one instead")

    def _next_id(self, conn, category: str, taken=()) -> str:
        pattern = re.compile(rf"^{re.escape(category)}-(\d+)(?:-[a-z]{{2}})?$")  # counterparts' numbers are taken too
        ids = [r[0] for r in conn.execute("SELECT id FROM entries UNION SELECT id FROM retired_ids")] + list(taken)
        numbers = [int(m.group(1)) for m in map(pattern.match, ids) if m]
        return f"{category}-{max(numbers, default=0) + 1:03d}"

    def _get(self, conn, entry_id: str) -> Entry | None:
        row = conn.execute("SELECT * FROM entries WHERE id = ?", (entry_id,)).fetchone()
        return _entry(row) if row else None

    def _is_retired(self, conn, entry_id: str) -> bool:
        return conn.execute("SELECT 1 FROM retired_ids WHERE id = ?", (entry_id,)).fetchone() is not None

    def _write(self, conn, e: Entry, *, replace: bool = False, bump: bool = True) -> None:
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        conn.execute(
            f"{verb} INTO entries (id, category, question, question_key, paraphrases, answer, language, source, status, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e.id, e.category, e.question, question_key(e.question), json.dumps(list(e.paraphrases), ensure_ascii=False),
             e.answer, e.language, e.source, e.status, e.updated),
        )  # fmt: skip
        if bump:
            self._bump(conn)

    def _bump(self, conn) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('version', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else None


def _ids_digest(directory, entries=None) -> str:
    """A digest of the shipped entries' ids: it changes when the shipped data gains an entry."""
    import hashlib

    ids = sorted(e.id for e in (entries if entries is not None else load_entries(directory)))
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]


def _entry(row) -> Entry:
    return Entry(
        id=row["id"], category=row["category"], question=row["question"], paraphrases=tuple(json.loads(row["paraphrases"])),
        answer=row["answer"], language=row["language"], source=row["source"], status=row["status"], updated=row["updated"],
    )  # fmt: skip


def _same(a: Entry, b: Entry) -> bool:
    """Equal in everything but the date."""
    return a.with_(updated="") == b.with_(updated="")
