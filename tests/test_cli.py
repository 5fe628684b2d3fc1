"""`python src/train.py` as a user runs it: output, files, a small grid, and one clear line for bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, finished_checkpoint

pytestmark = pytest.mark.slow


def run_train(tmp_path: Path, *overrides: str, env: dict | None = None) -> subprocess.CompletedProcess:
    flags = [o for o in overrides if o.startswith("-")]  # argparse wants -m before the overrides
    overrides = tuple(o for o in overrides if not o.startswith("-"))
    cmd = [
        sys.executable,
        "src/train.py",
        *flags,
        f"paths.log_dir={tmp_path}/logs",
        f"paths.cache_dir={tmp_path}/cache",
        "trainer.accelerator=cpu",
        *overrides,
    ]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})


def test_default_model_trains_and_reports(tmp_path, tiny_imdb):
    r = run_train(tmp_path, f"data.source={tiny_imdb}", "trainer.max_epochs=2", "data.maxlen=40")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "Total params: 2,757,761 (trainable 2,757,761)" in out  # the default keras-io BiLSTM, exactly
    # Not a terminal (a pipe here, a SLURM .out file on a cluster): plain progress lines, none of the known noise.
    assert "epoch 1/2: 100% (" in r.stdout and "steps/s, loss " in r.stdout, r.stdout[-3000:]
    assert "epoch 2/2 done in " in r.stdout and ", val loss " in r.stdout
    assert "\r" not in out and "\x1b" not in out
    assert "Tip:" not in out and "srun` command is available" not in out and "LeafSpec" not in out
    done = [line for line in out.splitlines() if "Done: best val/acc" in line]
    assert len(done) == 1 and "of 2; test/acc" in done[0] and "(best val/acc checkpoint, epoch" in done[0]
    (run_dir,) = (tmp_path / "logs" / "runs").glob("*/*")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["params"] == 2_757_761 and summary["epochs_run"] == 2 and 0 <= summary["test_acc"] <= 1
    assert finished_checkpoint(run_dir).name.startswith("epoch")  # the best, slim; last.ckpt went at the end
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))


def test_grid_runs_every_point_in_its_own_folder(tmp_path, tiny_imdb):
    r = run_train(tmp_path, "-m", f"data.source={tiny_imdb}", "debug=fast", "data.batch_size=8,16")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    jobs = sorted(p.name for p in (tmp_path / "logs" / "multiruns").glob("*/*/*") if p.is_dir())
    assert jobs == ["batch_size=16", "batch_size=8"]  # named by what varies; the shared overrides are left out


def test_unknown_model_lists_the_valid_ones(tmp_path):
    r = run_train(tmp_path, "model=transformer")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: model=transformer: no such model config; one of ")
    assert all(name in r.stderr for name in ("bilstm", "mlp", "gru", "stacked_lstm", "subword_bilstm"))


def test_unreachable_hub_says_how_to_get_a_local_copy(tmp_path):
    r = run_train(
        tmp_path,
        "data.source=stanfordnlp/imdb",
        "data.cache_only=false",
        env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")},
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: data.source=stanfordnlp/imdb: no local folder of that name, and could not load it")
    assert "local copy" in last


def test_offline_node_without_prepared_cache_names_the_preparing_command(tmp_path):
    r = run_train(tmp_path, "data.source=stanfordnlp/imdb", "data.batch_size=8", env={"HF_HUB_OFFLINE": "1"})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: no prepared data at ") and "this node only reads the cache" in last
    assert last.endswith(
        f"python src/prepare_data.py paths.log_dir={tmp_path}/logs paths.cache_dir={tmp_path}/cache "
        "trainer.accelerator=cpu data.source=stanfordnlp/imdb data.batch_size=8"
    )
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())  # nothing encoded


def test_offline_node_encodes_a_local_copy(tmp_path, tiny_imdb):
    r = run_train(
        tmp_path,
        f"data.source={tiny_imdb}",
        "debug=fast",
        "data.maxlen=30",
        env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"},
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Encoding IMDB" in r.stdout + r.stderr  # offline means no network, not no work


def test_a_terminal_keeps_the_live_bar(tmp_path, tiny_imdb):
    import fcntl
    import pty
    import struct
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 columns wide
    cmd = [
        sys.executable,
        "src/train.py",
        f"paths.log_dir={tmp_path}/logs",
        f"paths.cache_dir={tmp_path}/cache",
        f"data.source={tiny_imdb}",
        "debug=fast",
        "data.maxlen=30",
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=child, stderr=child)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(timeout=600) == 0, out[-3000:]
    text = out.decode(errors="replace")
    assert "Epoch 0: 100%|" in text and "it/s" in text and "steps/s" not in text  # tqdm's bar, not plain lines
