"""Read Q&A rows from the files mediators bring: spreadsheet CSVs, JSONL, MedQuAD-style CSVs.

Each reader returns `(where, row)` pairs for `KnowledgeBase.import_rows`, `where` being
"file:line" so an error points at the line to fix. Nothing here writes anything: a file is read
whole and checked before the knowledge base is opened, and one error lists every bad line
(the first MAX_ERRORS of them).

Spreadsheet CSVs are taken as people export them:
- Encoding: UTF-8 (with or without a BOM) and UTF-16/32 with a BOM are exact. Other bytes go to
  charset-normalizer, which chooses between what Excel's plain "CSV" writes on Western Windows
  (Windows-1252: French Excel) and on a Mac (Mac Roman). Refused, with the advice to save as
  "CSV UTF-8": a choice it cannot rank (both read the accents, differently), one resting on fewer
  than MIN_GUESS_BYTES accented bytes, a file mixing UTF-8 with another encoding, and a file that
  is not text (an .xlsx or .xls renamed .csv). A file from a Central European or Cyrillic system
  is mostly refused, but may be misread: such files must be saved as "CSV UTF-8".
- Dialect: clevercsv detects the separator (comma, semicolon or tab), the quote character and an
  escape character on the first 64 KB (cut at a line end). Quoting is standard
  (RFC 4180: `""` in a quoted cell is one quote) unless a backslash-style escape is really in the
  file. When clevercsv cannot tell: the separator that splits the header most, double quotes.
- Quoted cells may hold line breaks; blank lines are skipped.

Example:
    >>> rows = read_rows("faq.csv", "csv", mapping={"question": "Question posée"}, category="stress")
    >>> kb.import_rows(rows, dry_run=True).summary()
    'would add 12, updated 0, unchanged 0'
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import charset_normalizer
import clevercsv

from ariane.knowledge.entries import FIELDS, EntryError, read_jsonl

FORMATS = ("csv", "jsonl", "medquad")
ALIASES = {  # column names recognised without --map (compared case-insensitively)
    "id": ("id", "entry id", "entry_id"),
    "category": ("category", "categorie", "catégorie", "topic", "theme", "thème"),
    "question": ("question", "questions", "q"),
    "paraphrases": ("paraphrases", "paraphrase", "variants", "other phrasings"),
    "answer": ("answer", "answers", "response", "réponse", "reponse", "a"),
    "language": ("language", "lang", "langue"),
    "source": ("source", "sources", "reference", "référence"),
    "status": ("status", "statut"),
    "updated": ("updated", "date", "last updated"),
}
MEDQUAD_DEFAULT_CATEGORY = "medquad"
MAX_ERRORS = 50  # bad lines listed in one error; the rest are counted
DELIMITERS = ",;\t"  # the separators spreadsheets write
SAMPLE_CHARS = 65_536  # clevercsv reads this much (64 KB: ~0.1 s); a whole 420 KB file takes 0.6 s
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx/.ods (a zip), .xls (OLE)
BOMS = (  # UTF-32 first: its little-endian BOM starts like UTF-16's. Excel's "Unicode text" is UTF-16.
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)  # fmt: skip
SPREADSHEET_ENCODINGS = ["cp1252", "mac_roman"]  # what Excel's plain "CSV" writes on Western Windows and Mac. Unrestricted,
# charset-normalizer misread 60 of 281 short French/English/German test files ("Rťponse", "naďve"); restricted, none (16 refused)
MIN_GUESS_BYTES = 3  # with 1-2 non-ASCII bytes, 4 of 65 of those files were misread ("It’s" as "Itís"); refused instead
SAVE_AS = "open it in your spreadsheet and save it as 'CSV UTF-8', then import that file"


def parse_mapping(text: str | None) -> dict[str, str]:
    """`question=Col A,answer=Col B` -> {"question": "Col A", "answer": "Col B"}.

    Raises:
        ValueError: a piece is not FIELD=COLUMN or names an unknown field.
    """
    mapping: dict[str, str] = {}
    for piece in filter(None, (p.strip() for p in (text or "").split(","))):
        field, sep, column = piece.partition("=")
        if not sep or not column.strip():
            raise ValueError(f"--map: {piece!r} should look like FIELD=COLUMN, e.g. question=Question")
        if field.strip() not in FIELDS:
            raise ValueError(f"--map: unknown field {field.strip()!r}; fields are {', '.join(FIELDS)}")
        mapping[field.strip()] = column.strip()
    return mapping


def error_list(errors: list[str]) -> str:
    """One message for every bad line: the first MAX_ERRORS, one a line, and how many more."""
    if len(errors) == 1:
        return errors[0]
    more = [f"... and {len(errors) - MAX_ERRORS} more"] if len(errors) > MAX_ERRORS else []
    return f"{len(errors)} lines to fix:\n  - " + "\n  - ".join(errors[:MAX_ERRORS] + more)


def _decode(path: Path) -> str:
    """The file's text: exact for UTF-8 and for a UTF-16/32 BOM, else charset-normalizer's reading
    when it is sure."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise EntryError(f"{path}: file not found") from None
    if data.startswith(WORKBOOK_MAGIC):
        raise EntryError(f"{path}: this is a spreadsheet workbook (.xlsx, .xls or .ods), not a CSV file; {SAVE_AS}")
    encoding = next((name for bom, name in BOMS if data.startswith(bom)), "utf-8-sig")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8-sig":
            raise EntryError(f"{path}: begins with a {encoding.upper()} mark but is not {encoding.upper()}; {SAVE_AS}") from None
        text = _guess_encoding(path, data, exc.start)
    if "\x00" in text:
        raise EntryError(f"{path}: this is not a text file (it holds NUL bytes); {SAVE_AS}")
    return text.removeprefix("\ufeff")


def _guess_encoding(path: Path, data: bytes, bad: int) -> str:
    """charset-normalizer's reading of bytes that are not UTF-8, among SPREADSHEET_ENCODINGS."""
    line = data[:bad].count(b"\n") + 1
    where = f"{path}:{line}: not UTF-8 (byte 0x{data[bad]:02x})"
    matches = charset_normalizer.from_bytes(data, cp_isolation=SPREADSHEET_ENCODINGS)
    best = matches.best()
    if best is None:
        raise EntryError(f"{where}, nor Windows or Mac Western text: a workbook or another file renamed .csv, or another alphabet? Either way, {SAVE_AS}")
    if any(ord(c) > 127 and c != "\ufffd" for c in data.decode("utf-8", "replace")):  # é as 2 bytes here, as 1 there
        raise EntryError(f"{where}, yet other lines are UTF-8: the file mixes two encodings; retype the accents on line {line} or {SAVE_AS}")
    if sum(byte > 127 for byte in data) < MIN_GUESS_BYTES:
        raise EntryError(f"{where}, and too few accented letters or curly quotes to tell its encoding for sure; {SAVE_AS}")
    text = str(best)
    # charset-normalizer's own margins for "cannot rank these two" (CharsetMatch.__lt__)
    rival = next((m for m in matches if abs(m.chaos - best.chaos) < 0.005 and abs(m.coherence - best.coherence) <= 0.02 and str(m) != text), None)
    if rival is not None:
        raise EntryError(f"{where}, and its encoding cannot be told for sure ({best.encoding} or {rival.encoding} read its accents differently); {SAVE_AS}")
    return text


def _dialect(text: str) -> type[csv.Dialect]:
    """Separator, quote and escape character: clevercsv's detection, else the header's most
    frequent separator and standard double quotes."""
    sample = text if len(text) <= SAMPLE_CHARS else text[: text.rfind("\n", 0, SAMPLE_CHARS) + 1 or SAMPLE_CHARS]  # whole lines
    header = sample.split("\n", 1)[0]
    found = clevercsv.Detector().detect(sample, delimiters=DELIMITERS)
    if found is not None and found.delimiter in DELIMITERS and found.delimiter in header:
        delimiter = found.delimiter
    else:
        delimiter = max(DELIMITERS, key=header.count)
    quote = found.quotechar if found is not None and found.quotechar else '"'  # none seen: '"' reads unquoted cells alike
    escape = found.escapechar if found is not None and found.escapechar and found.escapechar + quote in sample else None
    # standard quoting ("" is one quote) unless the file really escapes its quotes
    return type("Detected", (csv.excel,), {"delimiter": delimiter, "quotechar": quote, "escapechar": escape, "doublequote": escape is None})


def read_csv(path, mapping: dict[str, str] | None = None, category: str | None = None, *, extra: dict | None = None) -> list[tuple[str, dict]]:
    """Rows of a spreadsheet CSV, keyed by entry field.

    Args:
        path: str | Path. The CSV file.
        mapping: dict | None. Entry field -> column header, for headers not in ALIASES.
        category: str | None. Category of every row (overrides a category column).
        extra: dict | None. More columns to read, name -> accepted headers (e.g. MedQuAD's focus).

    Raises:
        EntryError: naming the file and line — an encoding that cannot be read for sure, not a
            text file, no header, a required column missing — or every line with too many
            cells or an empty question or answer.
    """
    path = Path(path)
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise EntryError(f"{path}:1: the file is empty; the first line must name the columns") from None
    columns = _columns(path, header, mapping or {}, {**ALIASES, **(extra or {})})
    if "category" not in columns and not category:
        raise EntryError(f"{path}:1: no category column; add one, name it with --map category=COLUMN, or pass --category NAME")
    rows, errors, start = [], [], 2
    try:
        for cells in reader:
            where, start = f"{path}:{start}", reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                errors.append(f"{where}: {len(cells)} cells but {len(header)} columns; is a cell missing its quotes?")
                continue
            row = {}
            for field, index in columns.items():
                value = cells[index].replace("\r\n", "\n").replace("\r", "\n").strip() if index < len(cells) else ""
                if value:
                    row[field] = value
            if category:
                row["category"] = category
            empty = [field for field in ("question", "answer") if not row.get(field)]
            if empty:
                what = "the question and the answer are empty; fill them" if len(empty) == 2 else f"the {empty[0]} is empty; fill it"
                errors.append(f"{where}: {what} in or delete the line")
                continue
            if "paraphrases" in row:
                row["paraphrases"] = [p.strip() for p in row["paraphrases"].replace("\n", "|").split("|") if p.strip()]
            rows.append((where, row))
    except csv.Error as exc:  # e.g. a quote never closed swallows the rest of the file into one cell
        errors.append(f"{path}:{start}: {exc}; does a quoted cell miss its closing quote?")
    if errors:
        raise EntryError(error_list(errors))
    if not rows:
        raise EntryError(f"{path}: no rows under the header; nothing to import")
    return rows


def _columns(path: Path, header: list[str], mapping: dict[str, str], aliases: dict) -> dict[str, int]:
    """Entry field -> column index, from --map first and then the usual names."""
    lower = [h.casefold() for h in header]
    columns: dict[str, int] = {}
    for field, name in mapping.items():
        if name.casefold() not in lower:
            raise EntryError(f"{path}:1: --map {field}={name}: no column {name!r} (columns: {', '.join(header)})")
        columns[field] = lower.index(name.casefold())
    for field, names in aliases.items():
        if field not in columns:
            found = next((lower.index(n) for n in names if n in lower), None)
            if found is not None and found not in columns.values():
                columns[field] = found
    for field in ("question", "answer"):
        if field not in columns:
            raise EntryError(f"{path}:1: no {field} column (columns: {', '.join(header)}); name it with --map {field}=COLUMN")
    return columns


def read_medquad(path, category: str | None = None) -> list[tuple[str, dict]]:
    """Rows of a MedQuAD-style CSV (columns question, answer, focus, source).

    `focus` (the topic, e.g. "Glaucoma") joins the source as its page title: "NIH — Glaucoma".
    Rows go to `category` (default "medquad").
    """
    rows = read_csv(path, {}, category or MEDQUAD_DEFAULT_CATEGORY, extra={"focus": ("focus", "focus_area", "focus area")})
    errors = []
    for where, row in rows:
        focus, source = row.pop("focus", ""), row.get("source", "")
        if not focus or not source:
            errors.append(f"{where}: a MedQuAD row needs a focus and a source; is this a MedQuAD file? (else use --format csv)")
        row["source"] = f"{source} — {focus}"
    if errors:
        raise EntryError(error_list(errors))
    return rows


def read_jsonl_rows(path, category: str | None = None) -> list[tuple[str, dict]]:
    """Rows of a JSONL file in the data/qa format (fields as in data/SCHEMA.md)."""
    rows, errors = [], []
    for lineno, data in read_jsonl(path):
        where = f"{path}:{lineno}"
        if not isinstance(data, dict):
            errors.append(f"{where}: expected a JSON object")
            continue
        if category:
            data["category"] = category
        rows.append((where, data))
    if errors:
        raise EntryError(error_list(errors))
    if not rows:
        raise EntryError(f"{path}: no rows; nothing to import")
    return rows


def read_rows(path, fmt: str, mapping: dict[str, str] | None = None, category: str | None = None) -> list[tuple[str, dict]]:
    """Dispatch on `fmt` (one of FORMATS)."""
    if fmt == "csv":
        return read_csv(path, mapping, category)
    if fmt == "medquad":
        return read_medquad(path, category)
    if fmt == "jsonl":
        return read_jsonl_rows(path, category)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
