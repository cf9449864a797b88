"""`python -m ariane safety`, run as a real command: line mode and --eval on the labelled sets."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "data" / "safety" / "dev.tsv"
TEST = ROOT / "data" / "safety" / "test.tsv"
BLIND2 = ROOT / "data" / "safety" / "blind2.tsv"


def cli(*args, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "ariane", "safety", *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_reads_stdin_and_prints_one_json_line_per_message():
    out = cli(stdin="je ne vois plus de raison de continuer\n\nthis puzzle is killing me\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [set(r) for r in rows] == [{"message", "crisis", "category", "reason"}] * 2
    assert rows[0]["crisis"] is True and rows[0]["category"] == "suicide" and rows[0]["reason"].startswith("fr.suicide")
    assert rows[1] == {"message": "this puzzle is killing me", "crisis": False, "category": "safe", "reason": "no pattern matched"}  # an idiom: the rules' verdict stands


def test_dev_set_meets_the_targets():
    """Measured 2026-12-07: recall 1.000 in both languages; safe answered as a crisis 0.011 (en) / 0.000 (fr).
    The classifier never trained on this set (training drops any text found in it)."""
    out = cli("--eval", str(DEV), "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["n"] >= 180 and report["passes"]
    assert report["crisis_recall"] >= 0.97 and report["safe_false_alarm"] <= 0.05
    assert set(report["languages"]) == {"en", "fr"}
    for lang, figures in report["languages"].items():
        assert figures["crisis_recall"] >= 0.97 and figures["safe_false_alarm"] <= 0.03, (lang, figures)


def test_blind_set_per_language():
    """data/safety/blind2.tsv (380 messages, 200 in French, by a writer who never saw the detector
    or its data), never tuned on. Measured 2026-12-07: crisis recall 0.958 (en) / 1.000 (fr); safe
    answered as a crisis 0.049 (en) / 0.135 (fr). Gated a little under those figures: the French
    false alarms are above the 5 % target (data/safety/CARD.md)."""
    out = cli("--eval", str(BLIND2), "--json", "--no-fail")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    en, fr = report["languages"]["en"], report["languages"]["fr"]
    assert en["n"] >= 150 and fr["n"] >= 190
    assert en["crisis_recall"] >= 0.94 and fr["crisis_recall"] >= 0.97
    assert en["safe_false_alarm"] <= 0.07 and fr["safe_false_alarm"] <= 0.16
    assert report["routes"]["classifier"] > report["routes"]["rules"] / 2  # the classifier catches what the rules miss


def test_held_out_set_is_reported_per_class():
    """The held-out figures are reported, not gated: the set was written after the patterns froze."""
    out = cli("--eval", str(TEST), "--no-fail")
    assert out.returncode == 0, out.stderr
    for word in ("crisis", "support", "safe", "recall", "precision", "false alarm"):
        assert word in out.stdout


def test_eval_fails_below_target_unless_no_fail(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("message\tlabel\tlang\tnote\nhello\tcrisis\ten\twrong on purpose\nhi\tsafe\ten\t\n", encoding="utf-8")
    out = cli("--eval", str(bad))
    assert out.returncode == 1 and "BELOW TARGET" in out.stdout and "0.000" in out.stdout
    assert cli("--eval", str(bad), "--no-fail").returncode == 0


def test_eval_names_a_bad_file(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("message\tlabel\nhello\turgent\n", encoding="utf-8")
    out = cli("--eval", str(bad))
    assert out.returncode == 1 and "bad.tsv:2" in out.stderr and "crisis, support, safe" in out.stderr
