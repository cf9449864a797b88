"""What the evaluation reads, loaded once and shared by every model.

- the split's dialogues from the dataset `python -m data build` wrote (ARIANE_HOME/datasets/<version>,
  found as fine-tuning finds it: `finetune.data.find_dataset`), or `samples` of them evenly spread;
- the knowledge entries and scenario the dialogues' grounding ids point into (`finetune.data.knowledge`);
- data/safety/dev.tsv (crisis) and data/heldout/out-of-scope.jsonl;
- WordNet for METEOR, or the reason it is unavailable.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from eval.config import EvalConfig
from eval.task_metrics import CRISIS_FILE, OUT_OF_SCOPE_FILE, read_crisis_file, read_out_of_scope

REPO = Path(__file__).resolve().parents[1]
CODE_DIRS = ("eval", "ariane", "finetune", "data")  # what produces the numbers; uncommitted changes there are stated
ENV_SHOWN = ("KERAS_BACKEND", "ARIANE_RUNTIME", "ARIANE_PRECISION", "ARIANE_JIT", "ARIANE_EMBEDDER_DIR", "ARIANE_LOCALE")  # settings that change results or timings


@dataclass
class EvalData:
    settings: object  # ariane.settings.Settings of this run (ARIANE_HOME)
    records: list  # dialogue dicts of the split
    entries: dict  # knowledge entry id -> Entry
    scenario: object  # ariane.knowledge.scenario.Scenario
    crisis: list  # rows of data/safety/dev.tsv ({'text', 'label', 'crisis'}); [] when missing
    out_of_scope: list  # questions
    wordnet: object = None  # NLTK WordNet reader, or None
    wordnet_status: str = "available"  # or why METEOR is unavailable
    version: str = "?"  # data version of the dataset folder
    path: str = ""  # dataset folder
    split: str = "test"
    notes: list = field(default_factory=list)  # missing inputs, said in the report

    def fingerprint(self) -> str:
        """sha256 (12 hex) of the evaluated dialogues: two reports with the same value scored the same items."""
        text = json.dumps([[r["id"], r["messages"], r.get("context")] for r in self.records], sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]

    def describe(self) -> dict:
        return {
            "version": self.version,
            "path": self.path,
            "split": self.split,
            "dialogues": len(self.records),
            "fingerprint": self.fingerprint(),
            "git_commit": git_commit(),
            "crisis_file": f"{_rel(CRISIS_FILE)} ({len(self.crisis)} rows)",
            "out_of_scope_file": f"{_rel(OUT_OF_SCOPE_FILE)} ({len(self.out_of_scope)} questions)",
            "notes": self.notes,
            "ariane_home": str(self.settings.home),
            "environment": {k: os.environ[k] for k in ENV_SHOWN if os.environ.get(k)},
        }


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def git_commit() -> str | None:
    """HEAD's short hash, plus which of the packages behind the numbers had uncommitted changes."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", *CODE_DIRS], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    changed = sorted({line[3:].split("/")[0] + "/" for line in dirty.splitlines() if line.strip()})
    return f"{head} + uncommitted changes in {', '.join(changed)}" if head and changed else head or None


def spread(n: int, k: int) -> list[int]:
    """k indices evenly spread over range(n): a sample of every part of the split (kinds are grouped)."""
    return sorted({round(i * (n - 1) / max(k - 1, 1)) for i in range(k)}) if k < n else list(range(n))


def load_eval_data(config: EvalConfig, settings=None) -> EvalData:
    """Everything shared by the models of one run; missing optional inputs become notes."""
    import datasets

    from ariane.settings import Settings
    from eval.wordnet import load_wordnet
    from finetune.data import DataUnavailable, find_dataset, knowledge, read_version

    settings = settings or Settings.from_env()
    path = find_dataset(str(config.dataset) if config.dataset else "latest", settings.home)
    dd = datasets.load_from_disk(str(path))
    if config.split not in dd:
        raise DataUnavailable(f"{path} has no {config.split!r} split (it has {', '.join(dd)}); rebuild it with `python -m data build`")
    split = dd[config.split]
    if config.samples and config.samples < len(split):
        split = split.select(spread(len(split), config.samples))
    entries, scenario = knowledge()
    notes = []
    crisis = []
    if CRISIS_FILE.is_file():
        crisis = read_crisis_file(CRISIS_FILE)
    else:
        notes.append(f"{_rel(CRISIS_FILE)} not found: crisis handling was not measured")
    wordnet, why = load_wordnet()
    return EvalData(
        settings=settings,
        records=[dict(r) for r in split],
        entries=entries,
        scenario=scenario,
        crisis=crisis,
        out_of_scope=read_out_of_scope(OUT_OF_SCOPE_FILE),
        wordnet=wordnet,
        wordnet_status="available" if wordnet is not None else why,
        version=read_version(path),
        path=str(path),
        split=config.split,
        notes=notes,
    )
