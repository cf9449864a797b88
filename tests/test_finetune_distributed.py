"""Data-parallel training through tf.distribute on two logical CPU devices (a fresh process:
the devices must be split before TensorFlow initialises)."""

import json
import os
import subprocess
import sys

import pytest

from finetune_fixtures import ROOT, SMOKE, write_dataset


@pytest.mark.slow  # `make test-all`: a minute or more, and what it checks changes rarely
def test_mirrored_strategy_trains_on_two_logical_cpus(tmp_path):
    home = tmp_path / "home"
    write_dataset(home)
    env = {**os.environ, "ARIANE_HOME": str(home), "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "-m", "finetune", "--config", str(SMOKE), "--name", "mirrored",
           "--runtime.strategy", "mirrored", "--runtime.cpu_devices", "2",
           "--train.epochs", "1", "--train.batch_size", "4", "--data.limit_train", "8", "--data.limit_validation", "4"]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "2 replica(s)" in out.stdout
    (run,) = (home / "runs").iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["replicas"] == 2 and summary["steps"] == 2  # 8 dialogues / global batch 4 (2 rows per replica)
    assert summary["epochs"][0]["loss"] < 10.9 and (run / "model" / "config.json").is_file()
