"""The commands people run: `python -m ariane ask`, `python -m data validate|build|stats|retrieval`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ariane.engine import Context
from ariane.pipeline import build_engine
from ariane.settings import Settings
from data.cli import main as data_main
from data.cli.build import build, load_dialogues, split_of

ROOT = Path(__file__).resolve().parents[1]
HELDOUT = "People talk about 'having anxiety' all the time. What is it in plain terms?"  # data/heldout/anxiety.jsonl:1


def run(args, home, **kwargs):
    env = {**os.environ, "ARIANE_HOME": str(home)}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, **kwargs)


def test_ask_answers_a_heldout_rewording_from_the_right_entry(tmp_path):
    result = run(["-m", "ariane", "ask", HELDOUT, "--json", "--model", "none"], tmp_path / "home")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["mode"] == "retrieved" and out["sources"] == ["anxiety-001"]
    assert out["details"]["retrieval"]["top"][0][0] == "anxiety-001"


def test_the_engine_falls_back_politely_instead_of_guessing(ariane_home):
    engine = build_engine(Settings.from_env(), model=None)
    stage = engine.stages[-1]
    assert stage.name == "retrieval" and stage.kb.version >= 1  # the app reaches the base here
    off_topic = engine.answer([{"role": "user", "content": "How do I reverse a list in Python?"}], Context(session_id="a"))
    assert off_topic.mode == "fallback" and off_topic.sources == []
    hello = engine.answer([{"role": "user", "content": "hello!"}], Context(session_id="b"))
    assert hello.details.get("reason") != "no knowledge entry scored above the threshold"  # small talk is not refused here
    hint = engine.answer([{"role": "user", "content": "any hint for the wilting plant?"}], Context(session_id="c"))
    assert hint.mode == "hint" and hint.details["level"] == 1


def test_validate_passes_on_the_shipped_data(tmp_path):
    result = run(["-m", "data", "validate"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 558 entries, 13 categories, 678 heldout")  # 279 in English, their 279 French counterparts


def test_validate_catches_a_heldout_question_that_is_indexed(tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("__pycache__", "cli"))
    with open(data / "heldout" / "stress.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"question": "What is work-related stress?", "entry_id": "stress-001"}) + "\n")
    result = run(["-m", "data", "validate", "--data", str(data)], tmp_path)
    assert result.returncode == 1 and "stress.jsonl:23" in result.stderr and "word for word" in result.stderr


def test_build_splits_by_entry_deterministically(tmp_path):
    first, manifest = build(ROOT / "data" / "dialogues", tmp_path / "a")
    again, manifest_again = build(ROOT / "data" / "dialogues", tmp_path / "b")
    assert manifest == manifest_again and first.name == again.name == manifest["version"]
    assert (tmp_path / "a" / "LATEST").read_text().strip() == manifest["version"]
    assert sum(manifest["splits"].values()) >= 400 and all(manifest["splits"].values())
    rows, _ = load_dialogues(ROOT / "data" / "dialogues")
    splits_of_entry: dict = {}
    for row in rows:
        if row["entry_id"]:
            splits_of_entry.setdefault(row["entry_id"], set()).add(split_of(row["group"]))
    assert splits_of_entry and all(len(s) == 1 for s in splits_of_entry.values())
    import datasets

    loaded = datasets.load_from_disk(str(first))
    assert set(loaded) == {"train", "validation", "test"}
    assert {r["entry_id"] for r in loaded["test"] if r["entry_id"]}.isdisjoint({r["entry_id"] for r in loaded["train"] if r["entry_id"]})
    assert loaded["train"][0]["messages"][0]["role"] == "user"


def test_stats_writes_counts_and_a_word_cloud(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARIANE_HOME", str(tmp_path))
    assert data_main(["stats", "--out", str(tmp_path / "stats"), "--top", "5"]) == 0
    stats = json.loads((tmp_path / "stats" / "stats.json").read_text())
    assert stats["entries"] == 558 and stats["by_category"]["sleep"]["approved"] == 44
    en, fr = stats["by_language"]["en"], stats["by_language"]["fr"]
    assert en["entries"] == fr["entries"] == 279 and fr["paraphrases_per_entry"]["min"] >= 8
    assert en["top_bigrams"][0][0] == "mental health" and fr["top_bigrams"][0][0] == "santé mentale"  # accents kept, French stopwords out
    assert (tmp_path / "stats" / "wordcloud.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_retrieval_command_prints_the_figures(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARIANE_HOME", str(tmp_path))
    assert data_main(["retrieval", "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert set(reports) == {"en", "fr"}
    for language, report in reports.items():
        assert report["language"] == language and report["heldout_questions"] == 279 and report["out_of_scope_questions"] == 60
        assert 0.0 < report["top1"] <= report["top3"] <= 1.0
    assert reports["en"]["mode"] == "minilm+bm25" and reports["fr"]["mode"] == "e5+bm25"


@pytest.mark.parametrize("command", ["validate", "import", "export", "stats", "build", "retrieval"])
def test_every_data_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        data_main([command, "--help"])
    assert exit_.value.code == 0 and f"usage: python -m data {command}" in capsys.readouterr().out
