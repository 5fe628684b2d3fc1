"""The loggers labs use, read back with their own tools: MLflow's client on the run's store, W&B's offline run
file (its protobuf records), beside TensorBoard and CSV. No network, no server."""

import csv
import json
import struct

import pytest

from imdb_sentiment.run.training import train

RUN = ["model=gru", "data.vocab_size=100", "data.maxlen=30", "trainer.max_epochs=2"]


def mlflow_run(run_dir):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{run_dir}/mlflow.db")
    (run,) = client.search_runs([client.get_experiment_by_name("imdb-sentiment").experiment_id])
    return client, run


@pytest.mark.slow
def test_mlflow_logs_the_metrics_and_hparams_tensorboard_gets(make_cfg, tmp_path):
    summary = train(make_cfg(*RUN, "logger=mlflow"))
    client, run = mlflow_run(tmp_path / "run")
    assert run.info.status == "FINISHED"
    history = [m.value for m in client.get_metric_history(run.info.run_id, "val/acc")]
    epochs = json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"]
    assert history == pytest.approx([e["val_acc"] for e in epochs])  # every epoch, as metrics.json has it
    assert run.data.metrics["hp/best_val_acc"] == pytest.approx(summary["best_val_acc"])
    assert run.data.metrics["hp/test_acc"] == pytest.approx(summary["test_acc"])
    assert run.data.params["data.maxlen"] == "30" and run.data.params["model"] == "gru"
    assert not (tmp_path / "run" / "tensorboard").exists()  # the logger group replaced TensorBoard


def wandb_records(run_dir) -> tuple[list[dict], dict]:
    """History rows and config of the one offline W&B run: its .wandb file is a LevelDB-style log (32 KiB blocks,
    7-byte record headers: crc, length, type) of protobuf records, after a 7-byte file header."""
    from wandb.proto import wandb_internal_pb2 as pb

    (path,) = (run_dir / "wandb").glob("offline-run-*/run-*.wandb")
    raw, pos, chunks, records = path.read_bytes(), 7, b"", []
    assert raw[:4] == b":W&B"
    while pos + 7 <= len(raw):
        left = 32768 - pos % 32768
        if left < 7:  # the rest of a block is padding
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", raw[pos : pos + 7])
        if length == 0 and kind == 0:
            pos += left
            continue
        chunks += raw[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last piece of one
            records.append(chunks)
            chunks = b""
    history, config = [], {}
    for data in records:
        record = pb.Record()
        record.ParseFromString(data)
        if record.WhichOneof("record_type") == "history":
            history.append({i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.history.item})
        elif record.WhichOneof("record_type") == "config":
            config.update({i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.config.update})
    return history, config


@pytest.mark.slow
def test_wandb_offline_run_holds_the_metrics_and_hparams(make_cfg, tmp_path):
    summary = train(make_cfg(*RUN, "logger=wandb"))
    history, config = wandb_records(tmp_path / "run")
    val = [row["val/acc"] for row in history if "val/acc" in row]
    epochs = json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"]
    assert val == pytest.approx([e["val_acc"] for e in epochs])
    assert [row["hp/test_acc"] for row in history if "hp/test_acc" in row] == pytest.approx([summary["test_acc"]])
    assert config["data.maxlen"] == 30 and config["model"] == "gru"


@pytest.mark.slow
def test_many_loggers_log_the_same_run(make_cfg, tmp_path):
    summary = train(make_cfg(*RUN, "logger=many"))
    _, run = mlflow_run(tmp_path / "run")
    assert run.data.metrics["hp/best_val_acc"] == pytest.approx(summary["best_val_acc"])
    assert list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))
    with (tmp_path / "run" / "csv" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [float(r["hp/best_val_acc"]) for r in rows if r.get("hp/best_val_acc")] == pytest.approx(
        [summary["best_val_acc"]]
    )


def test_a_tracker_that_is_not_installed_is_refused_before_any_work(make_cfg, monkeypatch):
    import importlib.util

    from imdb_sentiment.config.checks import check_config
    from imdb_sentiment.errors import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    with pytest.raises(ConfigError, match=r"^logger.wandb=lightning.pytorch.loggers.WandbLogger: needs the wandb"):
        check_config(make_cfg(*RUN, "logger=wandb"))
