"""Check the shipped data before it is committed; exit 1 listing every problem found.

- data/qa: the schema of data/SCHEMA.md, unique ids, no empty field, no question asked twice;
  a paraphrase shared by two entries is a warning (retrieval cannot tell them apart on it);
- data/heldout: every rewording points at an existing entry and is not word for word an indexed
  question or paraphrase (it would then measure nothing); out-of-scope questions likewise;
- data/scenario.yaml: complete hint ladders (at least 3 distinct levels, no solution before
  reveal_level, the solution shown at reveal_level);
- data/dialogues: well-formed messages, unique ids, known entry ids and puzzles, and no held-out
  question used as a training message (it would leak the evaluation into fine-tuning).

Warnings are printed but do not fail the check unless --strict.

Example:
    python -m data validate
    python -m data validate --strict
"""

from __future__ import annotations

import sys
from pathlib import Path

MIN_HINTS = 3  # SCHEMA.md: hints ordered subtle -> obvious, at least 3


def add_arguments(p) -> None:
    p.add_argument("--data", default=None, help="data folder (default: this repository's data/)")
    p.add_argument("--strict", action="store_true", help="fail on warnings too")


def check_entries(qa_dir: Path, problems: list, warnings: list) -> list:
    from ariane.knowledge.entries import EntryError, load_entries
    from ariane.knowledge.store import question_key

    try:
        entries = load_entries(qa_dir)
    except EntryError as exc:
        problems.append(str(exc))
        return []
    asked: dict[tuple, tuple[str, bool]] = {}  # (language, question_key) -> (entry id, is the canonical question)
    for e in entries:
        for n, text in enumerate((e.question, *e.paraphrases)):
            key = (e.language, question_key(text))  # each language has its own index
            if key in asked:
                other, canonical = asked[key]
                message = f"{qa_dir}/{e.category}.jsonl ({e.id}): {text!r} is already asked by {other}"
                if n == 0 or canonical or other == e.id:
                    problems.append(message)
                else:
                    warnings.append(message + "; keep it in the entry that answers it")
            asked[key] = (e.id, n == 0)
    return entries


def check_heldout(heldout_dir: Path, entries: list, problems: list) -> list:
    from ariane.knowledge.entries import EntryError, load_heldout
    from ariane.knowledge.store import question_key

    try:
        inside, outside = load_heldout(heldout_dir)
    except EntryError as exc:
        problems.append(str(exc))
        return []
    ids = {e.id for e in entries}
    indexed = {question_key(t): e.id for e in entries for t in (e.question, *e.paraphrases)}
    seen: dict[str, str] = {}
    for h in inside + outside:
        if h.entry_id is not None and h.entry_id not in ids:
            problems.append(f"{h.where}: entry_id {h.entry_id!r} is not an entry of data/qa")
        key = question_key(h.question)
        if key in indexed:
            problems.append(f"{h.where}: {h.question!r} is word for word a question/paraphrase of {indexed[key]}; reword it")
        if key in seen:
            problems.append(f"{h.where}: the same question is at {seen[key]}")
        seen[key] = h.where
    return inside + outside


def check_counterparts(entries: list, warnings: list) -> None:
    """Every approved entry should exist in every language Ariane speaks (a French player asking
    about it otherwise gets the fallback)."""
    from ariane.i18n import LANGUAGES
    from ariane.knowledge.entries import pair_key

    have: dict[str, set] = {}
    for e in entries:
        if e.status == "approved":
            have.setdefault(pair_key(e.id), set()).add(e.language)
    for key, languages in sorted(have.items()):
        for lang in LANGUAGES:
            if lang not in languages:
                wanted = key if lang == "en" else f"{key}-{lang}"
                warnings.append(f"{key}: no approved '{lang}' counterpart ({wanted}); players writing in that language will not find it")


def check_scenario(path: Path, problems: list):
    from ariane.knowledge.scenario import load_scenario

    try:
        scenario = load_scenario(path)
    except ValueError as exc:
        problems.append(str(exc))
        return None
    for p in scenario.puzzles.values():
        where = f"{path} ({p.room}/{p.id})"
        if len(p.hints) < MIN_HINTS:
            problems.append(f"{where}: {len(p.hints)} hint levels; write at least {MIN_HINTS}, subtle to obvious")
        if len(set(p.hints)) != len(p.hints) or not all(h.strip() for h in p.hints):
            problems.append(f"{where}: hint levels must be distinct and non-empty")
        if not p.leaks(p.hints[p.reveal_level - 1]):
            problems.append(f"{where}: hint level {p.reveal_level} (reveal_level) does not show the solution {p.solution!r}")
        if not p.sees.strip():
            problems.append(f"{where}: 'sees' is empty; say what the player sees")
    return scenario


def check_dialogues(folder: Path, entries: list, heldout: list, scenario, problems: list) -> int:
    from ariane.knowledge.entries import EntryError, read_jsonl
    from ariane.knowledge.store import question_key
    from ariane.messages import normalize

    ids = {e.id for e in entries}
    puzzles = set(scenario.puzzles) if scenario else set()
    held = {question_key(h.question): h.where for h in heldout}
    seen: dict[str, str] = {}
    count = 0
    for path in sorted(folder.glob("*.jsonl")):
        try:
            rows = read_jsonl(path)
        except EntryError as exc:
            problems.append(str(exc))
            continue
        for lineno, d in rows:
            where, count = f"{path}:{lineno}", count + 1
            try:
                messages = normalize(d.get("messages"), where="messages")
            except (ValueError, TypeError, AttributeError) as exc:
                problems.append(f"{where}: {exc}")
                continue
            if not messages or messages[-1]["role"] != "assistant":
                problems.append(f"{where}: a dialogue must end with an assistant message")
            if d.get("id") in seen:
                problems.append(f"{where}: id {d.get('id')!r} is also at {seen[d['id']]}")
            seen[d.get("id")] = where
            if d.get("entry_id") is not None and d["entry_id"] not in ids:
                problems.append(f"{where}: entry_id {d['entry_id']!r} is not an entry of data/qa")
            context = d.get("context") or {}
            for source in context.get("sources") or []:
                if source not in ids:
                    problems.append(f"{where}: source {source!r} is not an entry of data/qa")
            if context.get("puzzle") and context["puzzle"] not in puzzles:
                problems.append(f"{where}: puzzle {context['puzzle']!r} is not in scenario.yaml")
            for m in messages:
                if m["role"] == "user" and question_key(m["content"]) in held:
                    problems.append(f"{where}: a user message is the held-out question at {held[question_key(m['content'])]}")
    return count


def validate(data_dir: Path) -> tuple[list, list, dict]:
    """(problems, warnings, counts) for the data folder."""
    problems: list = []
    warnings: list = []
    entries = check_entries(data_dir / "qa", problems, warnings)
    heldout = check_heldout(data_dir / "heldout", entries, problems)
    for sub in sorted(d for d in (data_dir / "heldout").iterdir() if d.is_dir()):  # other languages: heldout/fr
        heldout += check_heldout(sub, entries, problems)
    check_counterparts(entries, warnings)
    scenario = check_scenario(data_dir / "scenario.yaml", problems)
    dialogues = check_dialogues(data_dir / "dialogues", entries, heldout, scenario, problems)
    counts = {
        "entries": len(entries),
        "categories": len({e.category for e in entries}),
        "heldout": len(heldout),
        "puzzles": len(scenario.puzzles) if scenario else 0,
        "dialogues": dialogues,
    }
    return problems, warnings, counts


def run(args) -> int:
    from ariane.knowledge.scenario import DATA_DIR

    data_dir = Path(args.data) if args.data else DATA_DIR
    problems, warnings, counts = validate(data_dir)
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.strict:
        problems += warnings
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        print(f"{len(problems)} problem(s) in {data_dir} ({summary})", file=sys.stderr)
        return 1
    print(f"ok: {summary}" + (f" ({len(warnings)} warning(s))" if warnings else ""))
    return 0
