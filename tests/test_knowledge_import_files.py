"""Mediators' real CSV files into a real SQLite knowledge base: French Excel (Windows-1252, `;`),
RFC 4180 exports (`""` and line breaks in quoted cells), bad files (every bad line named, nothing
written) and workbooks renamed .csv (a clear error)."""

import csv
import hashlib
import io
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ariane.knowledge.entries import EntryError
from ariane.knowledge.importers import SAMPLE_CHARS, read_rows
from ariane.knowledge.store import ImportFailed, KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]

# (question, answer, category) as a French mediator types them: accents, œ, ’, « », €, and `;` inside cells.
FRENCH_ROWS = [
    ("Qu’est-ce que le stress au travail ?", "C’est la réaction du corps quand les exigences dépassent nos ressources ; à court terme il aide, à long terme il épuise.", "stress"),
    ("Comment mieux dormir quand on est inquiet ?", "Gardez des horaires réguliers, évitez les écrans le soir et notez vos soucis sur papier.", "sleep"),
    ("Que faire si je me sens épuisé ?", "Parlez-en à votre médecin ou au service de santé au travail ; l’épuisement se soigne mieux tôt.", "burnout"),
    ("Qu’est-ce qu’un « référent bien-être » ?", "Un collègue formé pour orienter vers le soutien ; ce n’est pas un thérapeute.", "managers"),
    ("Le télétravail peut-il isoler ?", "Oui : gardez des échanges réguliers avec l’équipe et séparez bien vie pro et vie perso.", "work-life-balance"),
    ("Le harcèlement, ça commence où ?", "Des propos ou comportements répétés qui dégradent vos conditions de travail ; gardez des traces datées.", "harassment"),
    ("Une consultation coûte-t-elle cher ?", "Souvent moins de 30 € après remboursement ; demandez à votre mutuelle.", "getting-help"),
    ("J’ai le cœur serré chaque lundi, est-ce grave ?", "C’est fréquent ; si ça dure plus de deux semaines, parlez-en à un médecin ou à une sœur, un ami.", "low-mood"),
    ("Que faire pendant une crise d’angoisse ?", "Respirez lentement et nommez ce que vous voyez ; la crise passe en quelques minutes.", "anxiety"),
    ("Où trouver de l’aide en dehors de l’entreprise ?", "Votre médecin, une ligne d’écoute ou un psychologue ; en urgence, appelez le 15 ou le 3114.", "getting-help"),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def kb(tmp_path):
    base = KnowledgeBase(tmp_path / "knowledge.sqlite", seed=None)  # empty: only what the test imports
    yield base
    base.close()


def french_excel_csv(rows) -> bytes:
    """What French Excel's "CSV (séparateur : point-virgule)" writes: Windows-1252, `;`, CRLF,
    cells holding a `;` quoted."""
    lines = ["Question;Réponse;Catégorie"]
    for question, answer, category in rows:
        cells = [f'"{c}"' if ";" in c else c for c in (question, answer, category)]
        lines.append(";".join(cells))
    return "\r\n".join(lines + [""]).encode("cp1252")


def faq_csv(n: int) -> str:
    """An RFC 4180 comma CSV like a public mental-health FAQ's: `""` and line breaks in quoted cells."""
    topics = ["stress", "sleep", "anxiety", "low-mood", "getting-help"]
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)  # Python's defaults: RFC 4180 quoting, CRLF
    writer.writerow(["question", "answer", "category", "source"])
    for i in range(n):
        topic = topics[i % len(topics)]
        answer = f'Many people ask about "{topic}" (question {i}).\nStart small, talk to someone you trust, and see a doctor if it lasts.'
        if i % 7 == 0:
            answer += '\n\nSee also: "Getting help", sections 2, 3 and 4.'
        writer.writerow([f'What is "{topic}" like, case {i}?', answer, topic, "NHS, Mental health FAQ"])
    return buf.getvalue()


def test_a_french_excel_csv_imports_with_its_accents(kb, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_bytes(french_excel_csv(FRENCH_ROWS))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the file really is not UTF-8
    report = kb.import_rows(read_rows(path, "csv"))
    assert len(report.added) == len(FRENCH_ROWS)
    stored = [kb.get(entry_id) for entry_id in report.added]
    assert [(e.question, e.answer, e.category) for e in stored] == FRENCH_ROWS
    assert "cœur" in stored[7].question and "30 €" in stored[6].answer  # Windows-1252, not Latin-1 or Central European


def test_an_rfc_4180_csv_imports_exactly_its_rows(kb, tmp_path):
    text = faq_csv(98)  # csv.Sniffer guessed doublequote=False here: "faq.csv:5: 5 cells but 4 columns"
    path = tmp_path / "faq.csv"
    path.write_text(text, encoding="utf-8", newline="")
    expected = [(" ".join(q.split()), a.replace("\r\n", "\n").strip(), c) for q, a, c, _ in list(csv.reader(io.StringIO(text, newline="")))[1:]]
    assert len(expected) == 98 and any('"' in a and "\n" in a for _, a, _ in expected)
    report = kb.import_rows(read_rows(path, "csv"))
    assert len(report.added) == 98 and len(kb.list()) == 98
    assert [(e.question, e.answer, e.category) for e in map(kb.get, report.added)] == expected


def test_a_csv_longer_than_the_detection_sample_reads_like_pythons_csv(tmp_path):
    text = faq_csv(420)
    assert len(text) > SAMPLE_CHARS  # clevercsv sees only the first 64 KB
    path = tmp_path / "big.csv"
    path.write_text(text, encoding="utf-8", newline="")
    rows = read_rows(path, "csv")
    expected = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert [(r["question"], r["answer"]) for _, r in rows] == [(q, a.strip()) for q, a, _, _ in expected]
    last_line = text.count("\n") - expected[-1][1].count("\n")  # the last row starts this many lines in
    assert rows[-1][0] == f"{path}:{last_line}"


def test_a_bad_file_names_every_bad_line_and_changes_nothing(tmp_path):
    home = tmp_path / "home"
    KnowledgeBase(home / "knowledge.sqlite").close()
    before = sha256(home / "knowledge.sqlite")
    path = tmp_path / "faq.csv"
    path.write_text(
        "question,answer,category\n"
        "Do naps help?,Short ones can.,sleep\n"
        "Is coffee bad for sleep?,,sleep\n"  # line 3: no answer
        "Can I nap at work?,Ask your manager.,sleep\n"
        "Should I nap every day?,If it helps.,sleep\n"
        "Do I need eight hours?,Most adults need seven to nine.,sleep\n"
        "Is it normal to dream of work?,,sleep\n"  # line 7: no answer
        '"How long should a nap be?","Twenty minutes;\nlonger makes you groggy.",sleep\n'  # lines 8-9
        "Are screens bad at night?,Yes, the light keeps you awake.,sleep\n",  # line 10: an unquoted comma
        encoding="utf-8",
    )
    env = {**os.environ, "ARIANE_HOME": str(home)}
    result = subprocess.run([sys.executable, "-m", "data", "import", str(path), "--format", "csv"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "3 lines to fix" in result.stderr and "nothing was imported" in result.stderr
    assert f"{path}:3: the answer is empty" in result.stderr and f"{path}:7: the answer is empty" in result.stderr
    assert f"{path}:10: 4 cells but 3 columns" in result.stderr
    assert [line for line in ("2", "4", "5", "6", "8", "9") if f"{path}:{line}:" in result.stderr] == []
    assert sha256(home / "knowledge.sqlite") == before


def test_import_rows_lists_every_bad_row_and_writes_nothing(kb):
    kept = kb.add(category="sleep", question="Do naps help?", answer="Short ones can.")
    version = kb.version
    rows = [
        ("x.csv:2", {"category": "sleep", "question": "Is coffee bad for sleep?", "answer": "After noon, often."}),  # good
        ("x.csv:3", {"category": "Sleep Tips", "question": "Can I nap at work?", "answer": "Ask."}),  # bad category
        ("x.csv:4", {"category": "sleep", "question": "Is coffee bad for sleep", "answer": "Again."}),  # same question as line 2
        ("x.csv:5", {"category": "sleep", "question": "Q?", "answer": "A.", "colour": "red"}),  # unknown column
        ("x.csv:6", {"id": "sleep-900", "category": "sleep", "question": "do naps help", "answer": "Kept's question."}),  # collides
    ]
    expected = [
        "x.csv:3: category 'Sleep Tips'",
        "x.csv:4: the same question is already on x.csv:2",
        "x.csv:5: unknown column(s) ['colour']",
        f"x.csv:6: entry sleep-900's question is already entry {kept.id}'s",
    ]
    for dry_run in (True, False):  # a dry run finds the same problems
        with pytest.raises(ImportFailed) as failed:
            kb.import_rows(rows, dry_run=dry_run)
        message = str(failed.value)
        assert message.startswith("4 rows to fix:") and "x.csv:2:" not in message
        assert [line for line in expected if line not in message] == []
    assert kb.version == version and [e.id for e in kb.list()] == [kept.id]  # not even the good row


def test_more_than_fifty_bad_lines_are_capped(tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("question,answer,category\n" + "".join(f"Question {i}?,,stress\n" for i in range(60)), encoding="utf-8")
    with pytest.raises(EntryError) as failed:
        read_rows(path, "csv")
    message = str(failed.value)
    assert message.startswith("60 lines to fix:") and message.endswith("... and 10 more")
    assert f"{path}:51: the answer is empty" in message and f"{path}:52:" not in message


def test_a_utf16_file_from_excel_unicode_text_imports(kb, tmp_path):
    path = tmp_path / "faq.txt"
    path.write_bytes("Question\tRéponse\tCatégorie\r\nÇa va passer ?\tOui, ça passe.\tstress\r\n".encode("utf-16"))  # BOM + UTF-16 LE
    report = kb.import_rows(read_rows(path, "csv"))
    assert [(e.question, e.answer) for e in map(kb.get, report.added)] == [("Ça va passer ?", "Oui, ça passe.")]


@pytest.mark.parametrize(
    "content, message",
    [
        ("workbook", "is a spreadsheet workbook (.xlsx, .xls or .ods), not a CSV file; open it in your spreadsheet and save it as 'CSV UTF-8'"),
        ("binary", "nor Windows or Mac Western text: a workbook or another file renamed .csv, or another alphabet?"),
        ("mixed", "faq.csv:3: not UTF-8 (byte 0xe9), yet other lines are UTF-8: the file mixes two encodings"),
        ("one-accent", "faq.csv:2: not UTF-8 (byte 0x92), and too few accented letters or curly quotes to tell its encoding for sure"),
    ],
    ids=["xlsx-renamed", "random-bytes", "utf8-and-cp1252", "one-curly-apostrophe"],
)
def test_a_file_that_cannot_be_read_for_sure_says_what_to_do(tmp_path, content, message):
    path = tmp_path / "faq.csv"
    if content == "workbook":  # an .xlsx is a zip of XML parts
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as xlsx:
            xlsx.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
            xlsx.writestr("xl/sharedStrings.xml", "<sst>" + "".join(f"<si><t>Réponse {i}</t></si>" for i in range(50)) + "</sst>")
    elif content == "binary":
        path.write_bytes(random.Random(0).randbytes(4000))
    elif content == "mixed":  # saved as UTF-8, then one line retyped in a Windows-1252 editor
        path.write_bytes("question,answer,category\nÉté ?,Oui.,stress\n".encode() + "Café ?,Non.,stress\n".encode("cp1252"))
    else:  # Windows-1252 and Mac Roman read this byte as ’ and í: one byte is too little to choose
        path.write_bytes("question,answer,category\nCan I cry at work?,It’s normal; it passes.,stress\n".encode("cp1252"))
    with pytest.raises(EntryError) as failed:
        read_rows(path, "csv")
    assert message in str(failed.value)
    assert "save it as 'CSV UTF-8'" in str(failed.value)
