"""The knowledge base in real SQLite files: seeding, edits, imports (all or nothing), export."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ariane.knowledge.entries import QA_DIR, EntryError, load_entries
from ariane.knowledge.importers import read_rows
from ariane.knowledge.store import ImportFailed, KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]

# As a French spreadsheet exports it: BOM, semicolons, a quoted line break, accented headers.
MESSY_CSV = (
    "\ufeffQuestion posée;Réponse;Thème;Source\r\n"
    '"Is it OK to cry at work?";"Yes, it happens to many people.\r\nIf it happens often, talk to someone you trust.";stress;Mind — Crying at work\r\n'
    '"What is a wellbeing champion?";"A colleague trained to point people to support; not a counsellor.";managers;Mind — Wellbeing champions\r\n'
    ";;;\r\n"
)
MAPPING = {"question": "Question posée", "answer": "Réponse", "category": "Thème"}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def kb(tmp_path):
    base = KnowledgeBase(tmp_path / "knowledge.sqlite")
    yield base
    base.close()


def test_seeded_from_data_qa_and_exported_byte_for_byte(kb, tmp_path):
    assert [e.id for e in kb.list()] == [e.id for e in load_entries()]
    kb.export(tmp_path / "out")
    for path in sorted(QA_DIR.glob("*.jsonl")):
        assert (tmp_path / "out" / path.name).read_bytes() == path.read_bytes(), path.name


def test_every_edit_bumps_the_version_and_deleted_ids_are_never_reused(kb):
    v0 = kb.version
    entry = kb.add(category="stress", question="Is stress contagious?", answer="Moods spread in teams.")
    assert entry.status == "draft" and entry.id == "stress-023" and kb.version == v0 + 1
    assert kb.approve(entry.id).status == "approved" and kb.version == v0 + 2
    assert kb.update(entry.id, answer="Stress can spread through a team.").answer.startswith("Stress can")
    assert [e.id for e in kb.search_text("contagious")] == [entry.id]
    kb.delete(entry.id)
    assert kb.get(entry.id) is None and kb.version == v0 + 4
    again = kb.add(category="stress", question="Is stress contagious?", answer="Moods spread in teams.")
    assert again.id == "stress-024"
    with pytest.raises(EntryError, match="already asks this question"):
        kb.add(category="sleep", question="is stress contagious", answer="dup")


def test_messy_spreadsheet_csv_imports_once(kb, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_bytes(MESSY_CSV.encode("utf-8"))
    rows = read_rows(path, "csv", MAPPING)
    report = kb.import_rows(rows)
    assert len(report.added) == 2
    cry = kb.get(report.added[0])
    assert cry.category == "stress" and cry.status == "draft" and cry.source == "Mind — Crying at work"
    assert cry.answer == "Yes, it happens to many people.\nIf it happens often, talk to someone you trust."
    version = kb.version
    again = kb.import_rows(read_rows(path, "csv", MAPPING))  # the same file again: no duplicates, no change
    assert again.added == [] and again.updated == [] and len(again.unchanged) == 2
    assert kb.version == version and len(kb.list()) == len(load_entries()) + 2


def test_a_changed_row_updates_the_entry_with_the_same_question(kb, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("question,answer,category\nWhat is work-related stress?,A shorter answer.,stress\n", encoding="utf-8")
    report = kb.import_rows(read_rows(path, "csv"))
    assert report.updated == ["stress-001"] and kb.get("stress-001").answer == "A shorter answer."
    assert kb.get("stress-001").status == "approved"  # an update keeps the mediator's approval


@pytest.mark.parametrize(
    "content, message",
    [
        (b"question,answer,category\nA?,Fine.,stress\nB?,Fine too.,stress\nC?,,stress\n", "faq.csv:4: the answer is empty"),
        (b"question,category\nA?,stress\n", "faq.csv:1: no answer column"),
        ("question,answer,category\nA?,Fine.,stress\nCafé?,Oui.,stress\n".encode("latin-1"), "faq.csv:3: not UTF-8"),
    ],
    ids=["empty-answer", "missing-column", "latin-1"],
)
def test_a_bad_file_names_the_line_and_leaves_the_base_byte_for_byte(tmp_path, content, message):
    home = tmp_path / "home"
    KnowledgeBase(home / "knowledge.sqlite").close()
    before = sha256(home / "knowledge.sqlite")
    path = tmp_path / "faq.csv"
    path.write_bytes(content)
    env = {**os.environ, "ARIANE_HOME": str(home)}
    result = subprocess.run([sys.executable, "-m", "data", "import", str(path), "--format", "csv"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert message in result.stderr and "nothing was imported" in result.stderr
    assert sha256(home / "knowledge.sqlite") == before
    assert not (home / "knowledge.sqlite-wal").exists() or (home / "knowledge.sqlite-wal").stat().st_size == 0


def test_import_is_all_or_nothing_when_a_late_row_collides(kb):
    version, count = kb.version, len(kb.list())
    rows = [
        ("x.jsonl:1", {"category": "sleep", "question": "Do naps help?", "answer": "Short ones can."}),
        ("x.jsonl:2", {"id": "sleep-900", "category": "sleep", "question": "What is burnout?", "answer": "Same question as burnout-001."}),
    ]
    with pytest.raises(ImportFailed, match="burnout-001"):
        kb.import_rows(rows)
    assert kb.version == version and len(kb.list()) == count and not kb.search_text("Do naps help")


def test_medquad_and_jsonl_files_import(kb, tmp_path):
    medquad = tmp_path / "medquad.csv"
    medquad.write_text(
        'question,answer,focus,source\n"What is (are) Insomnia ?","Insomnia is trouble falling or staying asleep.",Insomnia,MedlinePlus\n',
        encoding="utf-8",
    )
    report = kb.import_rows(read_rows(medquad, "medquad"))
    entry = kb.get(report.added[0])
    assert entry.id == "medquad-001" and entry.source == "MedlinePlus — Insomnia"
    kb.export(tmp_path / "out")
    again = kb.import_rows(read_rows(tmp_path / "out" / "medquad.jsonl", "jsonl"))
    assert again.unchanged == ["medquad-001"]
