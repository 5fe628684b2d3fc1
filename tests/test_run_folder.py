"""The run folder's names are defined once (run/folder.py); the YAML that tells Lightning where to write agrees."""

from omegaconf import OmegaConf

from conftest import compose_train
from imdb_sentiment.run import folder


def test_the_callbacks_and_logger_write_where_the_contract_says(tmp_path):
    cfg = compose_train(["trainer.accelerator=cpu"], tmp_path / "run", tmp_path / "cache")
    cb = OmegaConf.to_container(cfg.callbacks, resolve=True)
    out = str(tmp_path / "run")
    assert cb["model_checkpoint"]["dirpath"] == cb["last_checkpoint"]["dirpath"] == f"{out}/{folder.CHECKPOINTS}"
    assert cb["last_checkpoint"]["filename"] + ".ckpt" == folder.LAST
    assert cb["epoch_history"]["path"] == f"{out}/{folder.HISTORY}"
    assert OmegaConf.to_container(cfg.logger, resolve=True)["tensorboard"]["save_dir"] == out
    assert OmegaConf.to_container(cfg.logger, resolve=True)["tensorboard"]["name"] == folder.TENSORBOARD
    assert folder.LOG == "train.log" and cfg.hydra.output_subdir == folder.HYDRA  # Hydra's job log: <script>.log


def test_the_summary_schema_is_what_training_writes(tmp_path, tiny_imdb):
    import json
    from dataclasses import fields

    from imdb_sentiment.run.training import train

    cfg = compose_train(
        [
            f"data.source={tiny_imdb}",
            "trainer.accelerator=cpu",
            "model=gru",
            "data.maxlen=20",
            "trainer.max_epochs=1",
            "callbacks.progress_bar.refresh_rate=0",
        ],
        tmp_path / "run",
        tmp_path / "cache",
    )
    train(cfg)
    written = json.loads((tmp_path / "run" / folder.SUMMARY).read_text())
    assert sorted(written) == sorted(f.name for f in fields(folder.Summary))
    assert written["model"] == folder.model_name(cfg.model._target_) == "RecurrentClassifier"
