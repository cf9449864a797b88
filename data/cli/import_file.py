"""Add or update knowledge entries from a file, all or nothing.

The whole file is read and checked first; the knowledge base (ARIANE_HOME/knowledge.sqlite) is
written only if every row is good, in one transaction. A bad file (missing column, empty answers,
an encoding that cannot be told apart safely, ...) exits with status 1, names every bad line and
its problem, and leaves the base as it was. The encoding (UTF-8, or French Excel's Windows-1252)
and the separator are detected. Rows without an id are matched on their question, so importing a file twice changes nothing.
New rows are drafts until a mediator approves them (or pass --status approved).

Examples:
    python -m data import faq.csv --format csv --category stress --dry-run
    python -m data import export.csv --format csv --map question=Question posée,answer=Réponse,category=Thème
    python -m data import medquad.csv --format medquad --category medquad
    python -m data import data/qa/stress.jsonl --format jsonl
"""

from __future__ import annotations

import sys


def add_arguments(p) -> None:
    from ariane.knowledge.importers import FORMATS

    p.add_argument("file", help="the file to import")
    p.add_argument("--format", required=True, choices=FORMATS, help="csv (spreadsheet export), jsonl (data/qa format) or medquad")
    p.add_argument("--map", help="FIELD=COLUMN pairs for headers with other names, e.g. question=Q,answer=A,category=Topic")
    p.add_argument("--category", help="category of every row (instead of a category column)")
    p.add_argument("--status", choices=("draft", "approved"), default="draft", help="status of new rows that do not say (default: draft)")
    p.add_argument("--dry-run", action="store_true", help="check and report, write nothing")


def run(args) -> int:
    from ariane.knowledge.entries import EntryError
    from ariane.knowledge.importers import parse_mapping, read_rows
    from ariane.knowledge.store import KnowledgeBase
    from data.cli.common import settings

    try:
        rows = read_rows(args.file, args.format, parse_mapping(args.map), args.category)
    except EntryError as exc:  # before the base is even opened
        print(f"error: {exc}\nnothing was imported.", file=sys.stderr)
        return 1
    kb = KnowledgeBase.open(settings())
    try:
        report = kb.import_rows(rows, dry_run=args.dry_run, default_status=args.status)
    except EntryError as exc:
        print(f"error: {exc}\nnothing was imported.", file=sys.stderr)
        return 1
    finally:
        kb.close()
    print(f"{args.file}: {len(rows)} rows; {report.summary()} (knowledge base {kb.path})")
    if report.added and args.status == "draft" and not args.dry_run:
        print("new entries are drafts: approve them in the mediators' console before Ariane uses them")
    return 0
