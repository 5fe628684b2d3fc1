"""report.py on a fabricated multirun with known numbers: exact statistics, verdicts, files, incomplete runs."""

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from imdb_sentiment.errors import UserError
from imdb_sentiment.reporting import report

T_975 = {1: 12.706204736174707, 2: 4.302652729749464}  # Student t quantiles from the tables, not from scipy
COMMON = ["model=gru", "trainer.accelerator=cpu", "paths.log_dir=/somewhere"]
# group -> (overrides, [(seed, best_val_acc, test_acc)])
GROUPS = {
    "data.batch_size=16": [(1, 0.81, 0.80), (2, 0.83, 0.82), (3, 0.85, 0.84)],
    "data.batch_size=32": [(1, 0.80, 0.80), (2, 0.82, 0.83)],
    "data.batch_size=64": [(1, 0.70, 0.70), (2, 0.71, 0.70), (3, 0.72, 0.73)],
    "data.batch_size=128": [(1, 0.95, 0.90)],
}


def fake_run(root: Path, overrides: list[str], summary: dict | None, history: list[dict] | None = None) -> Path:
    run = root / ",".join(o for o in overrides if not o.startswith("paths."))
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    if summary is not None:
        (run / "summary.json").write_text(json.dumps({"overrides": overrides, "model_config": "gru", **summary}))
    if history is not None:
        (run / "metrics.json").write_text(json.dumps({"epochs": history}))
    return run


def history(epochs: int, val_acc: float) -> list[dict]:
    return [
        {
            "epoch": e,
            "train_loss": 0.7 - 0.1 * e,
            "train_acc": 0.5 + 0.1 * e,
            "val_loss": 0.72 - 0.05 * e,
            "val_acc": val_acc - 0.02 * (epochs - e),
        }
        for e in range(1, epochs + 1)
    ]


@pytest.fixture
def multirun(tmp_path) -> Path:
    root = tmp_path / "multiruns" / "2026-01-01" / "00-00-00-000000"
    for group, runs in GROUPS.items():
        for seed, val, test in runs:
            fake_run(
                root,
                [*COMMON, group, f"seed={seed}"],
                dict(
                    model="RecurrentClassifier",
                    seed=seed,
                    batch_size=int(group.split("=")[1]),
                    max_epochs=3,
                    epochs_run=3,
                    stopped_early_at_epoch=None,
                    best_val_acc=val,
                    best_epoch=3,
                    test_acc=test,
                    params=9473,
                    fit_seconds=1.5,
                    accelerator="cpu",
                ),
                history(3, val),
            )
    fake_run(root, [*COMMON, "data.batch_size=16", "seed=4"], None, history(2, 0.8))  # still running
    fake_run(root, [*COMMON, "data.batch_size=32", "seed=3"], None)  # failed before its first epoch
    broken = fake_run(root, [*COMMON, "data.batch_size=64", "seed=4"], None)
    (broken / "summary.json").write_text('{"params": 12')  # cut off
    (root / "multirun.yaml").write_text("hydra: {}\n")
    return root


def rows_by_group(rep):
    return {r["group"]: r for r in rep.group_rows}


def test_group_statistics_are_exact(multirun):
    rep = report.build([multirun])
    g = rows_by_group(rep)
    assert set(g) == set(GROUPS)
    a = g["data.batch_size=16"]
    assert (a["n"], a["incomplete"]) == (3, 1)
    assert a["test_acc"] == pytest.approx(0.82, abs=1e-12) and a["test_acc_std"] == pytest.approx(0.02, abs=1e-12)
    half = T_975[2] * 0.02 / math.sqrt(3)
    assert (a["test_acc_ci_low"], a["test_acc_ci_high"]) == pytest.approx((0.82 - half, 0.82 + half), abs=1e-9)
    assert a["best_val_acc"] == pytest.approx(0.83, abs=1e-12) and a["best_val_acc_std"] == pytest.approx(
        0.02, abs=1e-12
    )
    b = g["data.batch_size=32"]
    std_b = math.sqrt(2 * 0.015**2)
    assert (b["n"], b["incomplete"]) == (2, 1)
    assert (b["test_acc"], b["test_acc_std"]) == pytest.approx((0.815, std_b), abs=1e-12)
    assert b["test_acc_ci_high"] == pytest.approx(0.815 + T_975[1] * std_b / math.sqrt(2), abs=1e-9)
    c = g["data.batch_size=64"]
    assert (c["n"], c["incomplete"]) == (3, 1)
    assert (c["test_acc"], c["test_acc_std"]) == pytest.approx((0.71, math.sqrt(0.0003)), abs=1e-12)
    single = g["data.batch_size=128"]
    assert (single["n"], single["test_acc"], single["test_acc_std"], single["test_acc_ci_low"]) == (1, 0.90, None, None)


def test_welch_verdicts_against_the_best_testable_group(multirun):
    g = rows_by_group(report.build([multirun]))
    # The single run has the highest accuracy but cannot be tested; the best group is batch 16 (n=3).
    assert g["data.batch_size=16"]["test_acc_vs_best"] == "best"
    assert g["data.batch_size=128"]["test_acc_vs_best"] == "cannot tell (n < 2)"
    assert g["data.batch_size=32"]["test_acc_vs_best"].startswith("within noise")
    assert g["data.batch_size=64"]["test_acc_vs_best"].startswith("worse")
    # Welch's t and degrees of freedom by hand, the p-value from the t distribution.
    from scipy.stats import t as student_t

    va, vb = 0.02**2 / 3, 0.0003 / 3
    t = (0.82 - 0.71) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 2)
    assert g["data.batch_size=64"]["test_acc_p_vs_best"] == pytest.approx(2 * student_t.sf(t, df), rel=1e-9)
    assert g["data.batch_size=64"]["test_acc_p_vs_best"] < 0.05 <= g["data.batch_size=32"]["test_acc_p_vs_best"]
    # Holm across the two testable comparisons: the smaller p times 2, the larger times 1, kept monotone.
    p64, p32 = g["data.batch_size=64"]["test_acc_p_vs_best"], g["data.batch_size=32"]["test_acc_p_vs_best"]
    assert g["data.batch_size=64"]["test_acc_p_holm"] == pytest.approx(min(1, 2 * p64), rel=1e-12)
    assert g["data.batch_size=32"]["test_acc_p_holm"] == pytest.approx(max(min(1, 2 * p64), p32), rel=1e-12)
    assert g["data.batch_size=128"]["test_acc_p_holm"] is None


def test_holm_adjusts_step_down_and_keeps_the_order():
    from imdb_sentiment.stats import holm

    assert holm([0.01, None, 0.04, 0.03]) == pytest.approx([0.03, None, 0.06, 0.06])  # 3*.01, max(2*.03, 1*.04)
    assert holm([0.6, 0.5]) == pytest.approx([1.0, 1.0]) and holm([]) == []  # 2 * 0.5 caps at 1


def test_runs_table_lists_incomplete_runs_and_labels_what_differs(multirun):
    rep = report.build([multirun])
    assert len(rep.run_rows) == 12
    assert rep.common == ["model=gru", "trainer.accelerator=cpu"]  # paths.* do not count as a setting
    labels = {r["run"] for r in rep.run_rows}
    assert "data.batch_size=16,seed=1" in labels and "data.batch_size=16,seed=4" in labels
    status = {r["run"]: r["status"] for r in rep.run_rows}
    assert status["data.batch_size=16,seed=1"] == "ok"
    assert (
        status["data.batch_size=16,seed=4"] == "incomplete: no summary.json: still running, or failed; 2 epochs logged"
    )
    assert status["data.batch_size=64,seed=4"].startswith("incomplete: unreadable summary.json")


def test_sort_by_any_column(multirun):
    rep = report.build([multirun], sort="test_acc", descending=True)
    tests = [r["test_acc"] for r in rep.run_rows]
    assert tests[:9] == sorted(tests[:9], reverse=True) and tests[9:] == [None] * 3  # incomplete runs last
    assert [r["seed"] for r in report.build([multirun], sort="seed").run_rows][:3] == [1, 1, 1]
    with pytest.raises(UserError, match="--sort nope: not a column"):
        report.build([multirun], sort="nope")


def test_files_written(multirun, tmp_path, capsys):
    out = tmp_path / "out"
    report.main([str(multirun), "--out", str(out)])
    printed = capsys.readouterr().out
    assert "Welch" in printed and "Within noise of it: data.batch_size=32" in printed
    assert "Worse: data.batch_size=64" in printed
    names = {"report.md", "runs.csv", "groups.csv", "accuracy_curves.png", "loss_curves.png", "test_acc.png"}
    assert {p.name for p in out.iterdir()} == names  # no temporary files left behind
    for png in out.glob("*.png"):
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    with (out / "runs.csv").open() as f:
        runs = list(csv.DictReader(f))
    assert len(runs) == 12 and sum(r["status"] == "ok" for r in runs) == 9
    with (out / "groups.csv").open() as f:
        groups = {r["group"]: r for r in csv.DictReader(f)}
    assert float(groups["data.batch_size=16"]["test_acc_std"]) == pytest.approx(0.02, abs=1e-12)
    md = (out / "report.md").read_text()
    assert "| data.batch_size=16 | 3 | 1 | 0.8200 ± 0.0200 |" in md and "![test_acc.png](test_acc.png)" in md


@pytest.mark.slow
def test_default_output_folder_and_cli(multirun):
    r = subprocess.run(
        [sys.executable, "src/report.py", str(multirun)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert (multirun / "report.md").is_file() and (multirun / "test_acc.png").is_file()
    # The report's own files do not turn the multirun folder into a run.
    again = subprocess.run(
        [sys.executable, "src/report.py", str(multirun)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0 and "12 runs (9 complete)" in again.stdout


@pytest.mark.slow
@pytest.mark.parametrize("make", ["missing", "empty"])
def test_no_runs_is_one_line(tmp_path, make):
    folder = tmp_path / "x"
    if make == "empty":
        folder.mkdir()
    r = subprocess.run(
        [sys.executable, "src/report.py", str(folder)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        f"error: {folder}: no such folder"
        if make == "missing"
        else f"error: no run folders (with .hydra/ or summary.json) below {folder}"
    ]


def test_only_incomplete_runs_still_report(tmp_path):
    fake_run(tmp_path, ["seed=1"], None, history(2, 0.7))
    rep = report.build([tmp_path])
    assert rep.group_rows[0]["n"] == 0 and rep.group_rows[0]["test_acc"] is None
    written = report.write(rep, tmp_path / "out")
    assert {p.name for p in written} == {
        "report.md",
        "runs.csv",
        "groups.csv",
        "accuracy_curves.png",
        "loss_curves.png",
    }


def test_runs_of_two_presets_are_told_apart_even_where_folder_names_lack_the_preset(tmp_path):
    """Sweeps made before presets were named in folders: seed=1, seed=2 in each of two sweep folders, and a run
    that never finished, known only by Hydra's record of its config (its overrides and config-group choices)."""
    for preset, model, accs in (
        ("practicum_gru", "gru", (0.86, 0.87)),
        ("practicum_stacked", "stacked_lstm", (0.85, 0.86)),
    ):
        sweep = tmp_path / preset
        for seed, acc in zip((1, 2), accs):
            run = sweep / f"seed={seed}"
            run.mkdir(parents=True)
            (run / "summary.json").write_text(
                json.dumps(
                    dict(
                        overrides=[f"experiment={preset}", f"seed={seed}"],
                        name=f"seed={seed}",
                        experiment=preset,
                        model_config=model,
                        seed=seed,
                        best_val_acc=acc,
                        test_acc=acc,
                    )
                )
            )
        (sweep / "seed=3" / ".hydra").mkdir(parents=True)
        (sweep / "seed=3" / ".hydra" / "overrides.yaml").write_text("- seed=3\n")  # the preset came from a file
        (sweep / "seed=3" / ".hydra" / "hydra.yaml").write_text(
            f"hydra:\n  runtime:\n    choices:\n      model: {model}\n      experiment: {preset}\n      debug: null\n"
        )
    rep = report.build([tmp_path / "practicum_gru", tmp_path / "practicum_stacked"])
    assert {r["group"]: (r["n"], r["incomplete"]) for r in rep.group_rows} == {
        "experiment=practicum_gru,model=gru": (2, 1),
        "experiment=practicum_stacked,model=stacked_lstm": (2, 1),
    }
    labels = {r["run"] for r in rep.run_rows}
    assert {
        "experiment=practicum_gru,model=gru,seed=1",
        "experiment=practicum_stacked,model=stacked_lstm,seed=3",
    } <= labels


def test_a_group_of_runs_from_different_commits_or_a_dirty_tree_is_flagged(multirun):
    def set_origin(seed: int, batch: int, commit: str, dirty: bool):
        (run,) = [p for p in multirun.iterdir() if p.name.endswith(f"data.batch_size={batch},seed={seed}")]
        summary = json.loads((run / "summary.json").read_text())
        summary["provenance"] = {"commit": commit, "dirty": dirty, "diff_sha256": "abcdef012345" if dirty else None}
        (run / "summary.json").write_text(json.dumps(summary))

    for seed in (1, 2, 3):
        set_origin(seed, 16, "1111111111aaaa", False)
        set_origin(seed, 64, "1111111111aaaa", seed == 3)
    set_origin(1, 32, "1111111111aaaa", False)
    set_origin(2, 32, "2222222222bbbb", False)
    text = report.render_text(report.build([multirun]))
    assert "Warning: data.batch_size=32 mixes runs of 2 commits (1111111111, 2222222222)." in text
    assert "Warning: data.batch_size=64 has runs of a tree with uncommitted changes (diff abcdef012345)." in text
    assert "Warning: data.batch_size=16" not in text
