"""How far Ariane's int8 runtime is from fp32 (run by `bench/generate.py --fidelity`, or alone).

For each model: the relative error of the next-token logits (||int8 - fp32|| / ||fp32||) and
whether their argmax agrees, after every 4th prefix of a few hand-written dialogues
(teacher-forced prefills); the same for every token of those dialogues fed one decode step at a
time (teacher-forced decode steps: int8 weights and the served key/value cache, int8 where its
kernel builds, against fp32 throughout); and the share of equal tokens in 32-token greedy replies
to chat prompts.
Models: GPT-2 124M with random weights (the hard case: near-tied top logits), and the smoke
fine-tune (`python -m finetune --config finetune/configs/smoke.yaml`), trained here in a
temporary ARIANE_HOME unless --smoke-model points at one.

    .venv/bin/python bench/fidelity.py [--smoke-model var/runs/<run>/model]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DIALOGUES = ROOT / "data" / "dialogues"
QUESTIONS = ["I'm stuck on the overflowing inbox, any hint?", "What is burnout?", "I can't switch off from work in the evenings."]


def compare(model, cache_dir: Path) -> dict:
    from ariane.decoder import DecoderWeights
    from ariane.generate import Generator
    from ariane.litert import LiteRTDecoder
    from ariane.settings import GenerationConfig

    w = DecoderWeights.from_backbone(model.lm.backbone)
    fp32, int8 = LiteRTDecoder(w, "fp32", cache_dir=cache_dir), LiteRTDecoder(w, "int8", cache_dir=cache_dir)
    records = [json.loads(line) for line in (DIALOGUES / "handwritten.jsonl").read_text(encoding="utf-8").splitlines()[:6]]
    errors, agree = [], []
    for r in records:
        ids = model.tokenizer.encode(" ".join(m["content"] for m in r["messages"]))[:96]
        for n in range(4, len(ids), 4):
            a, b = fp32.prefill(ids[:n])[0], int8.prefill(ids[:n])[0]
            errors.append(float(np.linalg.norm(b - a) / np.linalg.norm(a)))
            agree.append(int(np.argmax(a) == np.argmax(b)))
    step_errors, step_agree = [], []
    for r in records[:3]:
        ids = model.tokenizer.encode(" ".join(m["content"] for m in r["messages"]))[:96]
        for dec in (fp32, int8):
            dec.reserve(1, 128)
            dec.write(0, *dec.prefill(ids[:8])[1:])
        for t in range(8, len(ids)):
            a, b = (dec.decode([ids[t]], [t])[0] for dec in (fp32, int8))
            step_errors.append(float(np.linalg.norm(b - a) / np.linalg.norm(a)))
            step_agree.append(int(np.argmax(a) == np.argmax(b)))
    cfg = GenerationConfig(temperature=0, repetition_penalty=1.0, max_new_tokens=32, max_seconds=600)
    same = total = 0
    gens = [Generator(model, runtime="litert", precision=p, cache_dir=cache_dir) for p in ("fp32", "int8")]
    for q in QUESTIONS:
        prompt = model.chat_format.encode(model.tokenizer, [{"role": "user", "content": q}], max_tokens=400)
        a, b = (g.generate(prompt, cfg).token_ids for g in gens)
        same += sum(x == y for x, y in zip(a, b))
        total += max(len(a), len(b))
    return {"err_mean": float(np.mean(errors)), "err_max": float(np.max(errors)), "agree": float(np.mean(agree)),
            "n": len(agree), "greedy_same": same / max(total, 1), "kv_cache": int8.kv_cache,
            "step_err_mean": float(np.mean(step_errors)), "step_err_max": float(np.max(step_errors)),
            "step_agree": float(np.mean(step_agree)), "step_n": len(step_agree)}  # fmt: skip


def smoke_model(home: Path):
    """Train the smoke config in `home` (as the tests do) and load the result."""
    os.environ["ARIANE_HOME"] = str(home)
    from data.cli.build import build
    from finetune.__main__ import main as finetune

    from ariane.model import load_model

    build(DIALOGUES, home / "datasets")
    if finetune(["--config", str(ROOT / "finetune" / "configs" / "smoke.yaml")]) != 0:
        raise RuntimeError("the smoke fine-tune failed")
    (model_dir,) = (home / "runs").glob("*/model")
    return load_model(str(model_dir))


def measure(smoke: str | None = None) -> dict:
    from ariane.model import gpt2_124m, load_model

    with tempfile.TemporaryDirectory(prefix="ariane-fidelity-") as tmp:
        cache = Path(tmp) / "litert"
        out = {"GPT-2 124M, random weights": compare(gpt2_124m(), cache)}
        model = load_model(smoke) if smoke else smoke_model(Path(tmp) / "home")
        out["2-layer smoke fine-tune (finetune/configs/smoke.yaml)"] = compare(model, cache)
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke-model", help="a smoke run's model folder (default: train one in a temporary home)")
    for name, r in measure(p.parse_args().smoke_model).items():
        print(name, json.dumps(r))
