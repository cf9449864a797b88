"""Q&A entries: the `Entry` record and the loaders for `data/qa/<category>.jsonl`.

One JSON object a line (see data/SCHEMA.md). Loading checks every field; an error names the
file and the line and says what to change, e.g.
`data/qa/stress.jsonl:4: 'paraphrases' must be a list of at least 2 strings`.

Example:
    >>> entries = load_entries()            # every category under data/qa
    >>> entries[0].id, entries[0].status
    ('anxiety-001', 'approved')
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ariane.knowledge.scenario import DATA_DIR

QA_DIR = DATA_DIR / "qa"
HELDOUT_DIR = DATA_DIR / "heldout"  # English; other languages in a sub-folder each (data/heldout/fr)
OUT_OF_SCOPE_FILE = HELDOUT_DIR / "out-of-scope.jsonl"


def heldout_dir(language: str = "en") -> Path:
    """Where the held-out rewordings of `language` are."""
    return HELDOUT_DIR if language == "en" else HELDOUT_DIR / language

CATEGORIES = (
    "stress", "burnout", "sleep", "anxiety", "low-mood", "supporting-a-colleague", "managers",
    "work-life-balance", "harassment", "return-to-work", "myths-facts", "getting-help", "game-help",
)  # fmt: skip
STATUSES = ("draft", "approved")  # a draft is never retrieved; a mediator approves it
FIELDS = ("id", "category", "question", "paraphrases", "answer", "language", "source", "status", "updated")
MIN_PARAPHRASES = 2  # SCHEMA.md: at least 2 other ways a player would ask
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-\d{3,}(?:-[a-z]{2})?$")  # <category>-NNN, or <category>-NNN-<lang>
LANGUAGE_SUFFIX = re.compile(r"-([a-z]{2})$")  # "stress-001-fr": the French counterpart of "stress-001"
CATEGORY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # file name = category id


class EntryError(ValueError):
    """An entry (or a line of a file) breaks data/SCHEMA.md."""


@dataclass(frozen=True)
class Entry:
    """One mediator-curated question and its answer."""

    id: str  # "<category>-NNN", unique, never reused
    category: str  # one of CATEGORIES (or a new category a mediator adds)
    question: str  # the canonical question
    paraphrases: tuple = ()  # other ways a player asks it (indexed too)
    answer: str = ""  # 2-5 sentences, general guidance only
    language: str = "en"  # ISO 639-1; a counterpart in another language has the id + "-<language>"
    source: str = ""  # organisation + page title
    status: str = "approved"  # "draft" or "approved"; only approved entries are retrieved
    updated: str = field(default_factory=lambda: datetime.date.today().isoformat())  # YYYY-MM-DD

    def to_dict(self) -> dict:
        """The JSONL form (field order as in SCHEMA.md)."""
        d = asdict(self)
        d["paraphrases"] = list(self.paraphrases)
        return {k: d[k] for k in FIELDS}

    def texts(self) -> list[str]:
        """Every text a player's question is matched against: question, paraphrases, answer."""
        return [self.question, *self.paraphrases, self.answer]

    def with_(self, **changes) -> "Entry":
        return replace(self, **changes)


def pair_key(entry_id: str) -> str:
    """What an entry shares with its counterparts in other languages: its id without the language
    suffix ("stress-001-fr" -> "stress-001")."""
    return LANGUAGE_SUFFIX.sub("", entry_id) if re.search(r"-\d{3,}-[a-z]{2}$", entry_id) else entry_id


def _clean(text) -> str:
    return " ".join(str(text).split())


def entry_from_dict(data: dict, where: str = "entry", *, strict: bool = True) -> Entry:
    """Build and check an Entry.

    Args:
        data: dict. Parsed JSON with the fields of SCHEMA.md.
        where: str. Prefix of error messages, e.g. "data/qa/stress.jsonl:4".
        strict: bool. Also require the id pattern and at least 2 paraphrases (shipped data);
            mediators' imports and edits pass False.

    Raises:
        EntryError: naming `where` and the field at fault.
    """
    if not isinstance(data, dict):
        raise EntryError(f"{where}: expected a JSON object with fields {', '.join(FIELDS)}")
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise EntryError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {', '.join(FIELDS)}")
    for key in ("id", "category", "question", "answer"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise EntryError(f"{where}: '{key}' is missing or empty; every entry needs an id, a category, a question and an answer")
    paraphrases = data.get("paraphrases", [])
    if not isinstance(paraphrases, list) or not all(isinstance(p, str) and p.strip() for p in paraphrases):
        raise EntryError(f"{where}: 'paraphrases' must be a list of non-empty strings")
    status = data.get("status", "approved")
    if status not in STATUSES:
        raise EntryError(f"{where}: 'status' is {status!r}; use one of {', '.join(STATUSES)}")
    updated = str(data.get("updated") or datetime.date.today().isoformat())
    try:
        datetime.date.fromisoformat(updated)
    except ValueError:
        raise EntryError(f"{where}: 'updated' is {updated!r}; write the date as YYYY-MM-DD") from None
    entry = Entry(
        id=data["id"].strip(),
        category=data["category"].strip(),
        question=_clean(data["question"]),
        paraphrases=tuple(_clean(p) for p in paraphrases),
        answer=data["answer"].strip(),
        language=str(data.get("language") or "en"),
        source=_clean(data.get("source") or ""),
        status=status,
        updated=updated,
    )
    if not CATEGORY_RE.match(entry.category):
        raise EntryError(f"{where}: category {entry.category!r} must be lower-case words joined by '-'")
    if not re.fullmatch(r"[a-z]{2}", entry.language):
        raise EntryError(f"{where}: language {entry.language!r} must be a two-letter code such as 'en' or 'fr'")
    suffix = LANGUAGE_SUFFIX.search(entry.id)
    if suffix and suffix.group(1) != entry.language:
        raise EntryError(f"{where}: id {entry.id!r} ends in '-{suffix.group(1)}' but its language is {entry.language!r}; make them agree")
    if strict:
        if not ID_RE.match(entry.id) or not entry.id.startswith(entry.category + "-"):
            raise EntryError(f"{where}: id {entry.id!r} must look like '{entry.category}-NNN' (or '{entry.category}-NNN-fr' for a French counterpart)")
        if len(entry.paraphrases) < MIN_PARAPHRASES:
            raise EntryError(f"{where}: 'paraphrases' has {len(entry.paraphrases)}; write at least {MIN_PARAPHRASES}")
        if not entry.source:
            raise EntryError(f"{where}: 'source' is empty; name the organisation and the page title")
    return entry


def read_jsonl(path) -> list[tuple[int, dict]]:
    """(line number, parsed object) for each non-blank line of a UTF-8 JSONL file.

    Raises:
        EntryError: naming the file and line that is not valid JSON or not UTF-8.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise EntryError(f"{path}:{line}: not UTF-8 text; save the file as UTF-8") from None
    except FileNotFoundError:
        raise EntryError(f"{path}: file not found") from None
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((lineno, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise EntryError(f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    return rows


def load_file(path, *, strict: bool = True) -> list[Entry]:
    """Entries of one category file; the file name must be the category.

    Args:
        path: str | Path. A `<category>.jsonl` file.
        strict: bool. See `entry_from_dict`.
    """
    path = Path(path)
    entries = []
    for lineno, data in read_jsonl(path):
        entry = entry_from_dict(data, f"{path}:{lineno}", strict=strict)
        if strict and entry.category != path.stem:
            raise EntryError(f"{path}:{lineno}: category {entry.category!r} is in {path.name}; move it to {entry.category}.jsonl")
        entries.append(entry)
    return entries


def load_entries(directory=QA_DIR, *, strict: bool = True) -> list[Entry]:
    """Every entry under `directory/*.jsonl`, sorted by id; duplicate ids are refused.

    Args:
        directory: str | Path. Folder of `<category>.jsonl` files (default data/qa).
        strict: bool. See `entry_from_dict`.
    """
    directory = Path(directory)
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise EntryError(f"{directory}: no *.jsonl files; is this the data/qa folder?")
    seen: dict[str, str] = {}
    entries = []
    for path in files:
        for entry in load_file(path, strict=strict):
            if entry.id in seen:
                raise EntryError(f"{path}: id {entry.id!r} is also in {seen[entry.id]}; ids are unique and never reused")
            seen[entry.id] = path.name
            entries.append(entry)
    return sorted(entries, key=lambda e: e.id)


@dataclass(frozen=True)
class HeldOut:
    """A question written apart from the entries, and the entry that answers it (None = out of scope)."""

    question: str
    entry_id: str | None
    where: str = ""  # "file:line", for reports


def load_heldout(directory=HELDOUT_DIR) -> tuple[list[HeldOut], list[HeldOut]]:
    """(in-scope rewordings, out-of-scope questions) from `directory/*.jsonl`."""
    directory = Path(directory)
    inside, outside = [], []
    for path in sorted(directory.glob("*.jsonl")):
        for lineno, data in read_jsonl(path):
            where = f"{path}:{lineno}"
            if not isinstance(data, dict) or not isinstance(data.get("question"), str) or not data["question"].strip():
                raise EntryError(f"{where}: expected {{\"question\": \"...\", \"entry_id\": \"<id>\" or null}}")
            item = HeldOut(_clean(data["question"]), data.get("entry_id"), where)
            (outside if item.entry_id is None else inside).append(item)
    return inside, outside


def write_jsonl(entries, directory) -> list[Path]:
    """Write entries as `<category>.jsonl` files (sorted by id), the format `load_entries` reads.

    Args:
        entries: iterable of Entry.
        directory: str | Path. Created if missing; files of other categories are left alone.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    by_category: dict[str, list[Entry]] = {}
    for e in entries:
        by_category.setdefault(e.category, []).append(e)
    paths = []
    for category, items in sorted(by_category.items()):
        path = directory / f"{category}.jsonl"
        lines = [json.dumps(e.to_dict(), ensure_ascii=False) for e in sorted(items, key=lambda e: e.id)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
