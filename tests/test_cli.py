"""The command line: `python -m ariane ask ... --json`."""

import json
import os
import subprocess
import sys

import pytest


def ask(*args, home):
    env = {**os.environ, "ARIANE_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "ariane", "ask", *args], capture_output=True, text=True, env=env, timeout=300)
    return proc


def test_ask_json_without_a_model(tmp_path):
    proc = ask("hello", "--json", "--model", "none", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in ("reply", "mode", "sources", "escalated", "model", "latency_s"):
        assert key in out
    assert out["model"] is None and out["reply"] and isinstance(out["sources"], list)
    assert "without a generative model" in out["notice"]


def test_ask_in_french_answers_from_a_french_entry_and_hints_in_french(tmp_path, tiny_model_dir):
    """The issue's commands: a French question gets a French entry's curated answer (even with a
    model: GPT-2 writes English); a French hint request gets the first hint in French."""
    proc = ask("Comment gérer le stress au travail ?", "--json", "--model", str(tiny_model_dir), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["mode"] == "retrieved" and out["sources"][0].endswith("-fr") and out["model"] is None
    assert " vous " in out["reply"] and "stress" in out["reply"]
    proc = ask("un indice s'il te plaît", "--room", "open-space", "--puzzle", "wilting-plant", "--model", "none", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("Indice 1 sur 4 (La plante qui dépérit) :")


def test_ask_json_with_a_local_model(tmp_path, tiny_model_dir):
    proc = ask("hello there", "--json", "--greedy", "--model", str(tiny_model_dir), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["mode"] == "generated" and out["model"] == "tiny-test" and out["prompt_format"] == "ariane-chat-v1"
    assert out["latency_s"] > 0 and out["notice"] is None


def test_ask_with_an_unreachable_model_still_answers(tmp_path):
    proc = ask("hello", "--json", "--model", str(tmp_path / "missing"), home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["model"] is None and "does not exist" in out["model_error"]
    assert "without a generative model" in out["notice"] and "does not exist" not in out["notice"]


def test_interactive_chat_session(tmp_path):
    env = {**os.environ, "ARIANE_HOME": str(tmp_path)}
    script = "hello\n/room open-space\n/reset\nwhat is burnout?\n/quit\n"
    proc = subprocess.run([sys.executable, "-m", "ariane", "chat", "--model", "none"], input=script,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ariane> ") == 2 and "(room set to open-space)" in proc.stdout
    assert "without a generative model" in proc.stdout


def test_unknown_command_and_bad_model_are_clear(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ariane", "fly"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "invalid choice: 'fly'" in proc.stderr
