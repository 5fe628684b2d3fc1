"""Train one run from a composed config: data, model, Trainer, test, summary."""

from __future__ import annotations

import gc
import logging
import math
import os
import time
from pathlib import Path

import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from imdb_sentiment.config.checks import build_checked, check_config
from imdb_sentiment.config.sweep_naming import job_dirname
from imdb_sentiment.data.cache import CacheMissError
from imdb_sentiment.errors import UserError
from imdb_sentiment.files import write_json_atomic
from imdb_sentiment.models import SentimentClassifier, count_parameters
from imdb_sentiment.run.checkpoint_io import AtomicCheckpointIO
from imdb_sentiment.run.checkpointing import lighten_finished, load_weights, tidy_checkpoints
from imdb_sentiment.run.folder import SUMMARY, Summary, checkpoint_dir, model_name
from imdb_sentiment.run.hparams import log_hparams
from imdb_sentiment.run.job_log import quiet_known_noise
from imdb_sentiment.run.memory import peak_rss_mib
from imdb_sentiment.run.provenance import provenance
from imdb_sentiment.run.requeue import RequeueFailed, cluster_plugins
from imdb_sentiment.run.resume_check import checkpoint_to_resume, finished_run

log = logging.getLogger(__name__)


def run_config(cfg: DictConfig) -> dict:
    """The resolved config without Hydra's own section: what a checkpoint needs to rebuild the run."""
    return {
        k: OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v
        for k, v in cfg.items()
        if k != "hydra"
    }


def run_identity() -> dict:
    """What tells this run from the others of its grid: Hydra's overrides and config choices (empty without Hydra)."""
    if not HydraConfig.initialized():
        return {"overrides": [], "name": "", "model_config": None, "experiment": None}
    hc = HydraConfig.get()
    name = job_dirname(hc.overrides.task, hc.job.config.override_dirname.exclude_keys)  # a sweep job's folder name
    return {
        "overrides": list(hc.overrides.task),
        "name": name,
        "model_config": hc.runtime.choices.get("model"),
        "experiment": hc.runtime.choices.get("experiment"),
    }


def _instantiate_all(group: DictConfig | None) -> list:
    return [instantiate(c) for c in (group or {}).values() if c is not None]


def _local_rank() -> int:
    """This process's rank on its node, before any Trainer exists (srun and torchrun both set one)."""
    return int(os.environ.get("LOCAL_RANK", os.environ.get("SLURM_LOCALID", 0)))


def _task_overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def prepare_data(datamodule) -> None:
    """Read, encode and cache the data; a node that may not encode says how to prepare it instead."""
    try:
        datamodule.prepare_data()
    except CacheMissError as exc:
        command = " ".join(["python src/prepare_data.py", *_task_overrides()])
        raise UserError(
            f"{exc}, and this node only reads the cache (data.cache_only, or a Hub source with "
            f"HF_HUB_OFFLINE/HF_DATASETS_OFFLINE set); prepare it on a node that can read the source: "
            f"{command}"
        ) from None


def resume_from(cfg: DictConfig, out_dir: Path) -> str | None:
    """``ckpt_path`` if given; else, with ``resume``, the last checkpoint an earlier attempt of this run left;
    either only if this same run saved it."""
    path = checkpoint_to_resume(cfg, out_dir)
    tidy_checkpoints(out_dir)
    if path and not cfg.get("ckpt_path"):
        log.info("Resuming from %s (an earlier attempt of this run, e.g. a requeued SLURM job)", path)
    return path


def train(cfg: DictConfig) -> dict:
    """Fit, test with the best checkpoint, write ``summary.json`` and return it."""
    check_config(cfg)
    quiet_known_noise()
    out_dir = Path(cfg.paths.output_dir)
    ckpt_path = resume_from(cfg, out_dir)
    done = finished_run(cfg, out_dir) if ckpt_path is None else None
    if done is not None:  # a finished run started again (a requeued job that had ended): nothing to do
        log.info("%s has finished already (%s); nothing to do", out_dir, SUMMARY)
        return done
    origin = provenance()
    log.info(start_line(origin, out_dir))
    L.seed_everything(cfg.seed, workers=True)
    datamodule, net, callbacks = build_checked(cfg)  # every data, model and callback value checked, nothing read yet
    if _local_rank() == 0:  # bad data fails here, before any Trainer exists; other ranks wait in fit
        prepare_data(datamodule)
    module = SentimentClassifier(net, instantiate(cfg.optimizer), run_config(cfg))
    trainer: L.Trainer = instantiate(
        cfg.trainer,
        callbacks=callbacks,
        logger=_instantiate_all(cfg.get("logger")) or False,
        plugins=[AtomicCheckpointIO(), *cluster_plugins()],
    )

    if trainer.world_size > 1:  # data.batch_size is per process, as in PyTorch's DDP
        log.info(
            "DDP: %d processes x data.batch_size %d = global batch %d",
            trainer.world_size,
            cfg.data.batch_size,
            trainer.world_size * cfg.data.batch_size,
        )
    start = time.perf_counter()
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    except RequeueFailed as exc:
        raise UserError(
            f"the job was signalled and could not be requeued ({exc}); it stopped mid-epoch "
            f"{trainer.current_epoch + 1}, and {out_dir}/checkpoints holds the epochs before: "
            "submit the same command again to resume"
        ) from None
    fit_seconds = time.perf_counter() - start
    # Read what fit produced now: testing a checkpoint restores state saved at that checkpoint's epoch.
    es = trainer.early_stopping_callback
    fit = {
        "epochs_run": trainer.current_epoch,
        "stopped_early_at_epoch": es.stopped_epoch + 1 if es is not None and es.stopped_epoch else None,
        "best_val_acc": None if math.isnan(module.best_val_acc) else module.best_val_acc,
        "best_epoch": module.best_epoch + 1 if module.best_epoch >= 0 else None,
    }

    test_acc, tested = None, None
    if cfg.get("test"):
        test_acc, tested = evaluate_best(trainer, module, datamodule)

    summary = Summary(
        **run_identity(),
        model=model_name(cfg.model._target_),
        params=count_parameters(module),
        seed=cfg.seed,
        batch_size=cfg.data.batch_size,
        max_epochs=cfg.trainer.max_epochs,
        **fit,
        test_acc=test_acc,
        tested_checkpoint=tested,  # the best by its monitor, or the final weights when none was saved
        fit_seconds=round(fit_seconds, 2),
        accelerator=type(trainer.accelerator).__name__.replace("Accelerator", "").lower(),
        device=torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        peak_rss_mib=peak_rss_mib(),
        peak_gpu_mib=torch.cuda.max_memory_allocated() // 2**20 if torch.cuda.is_available() else None,
        output_dir=str(out_dir),
        provenance=origin,
    ).to_json()
    if trainer.is_global_zero:
        log_hparams(trainer.loggers, cfg, summary, step=trainer.global_step)
        write_json_atomic(out_dir / SUMMARY, summary)
        if not cfg.get("keep_resumable"):
            lighten_finished(checkpoint_dir(out_dir), best_checkpoint(trainer))
        log.info(final_line(summary))
    return summary


def evaluate_best(trainer: L.Trainer, module: SentimentClassifier, datamodule) -> tuple[float | None, dict]:
    """Test accuracy of the best checkpoint by its monitor (else of the final weights), and which was tested.
    The optimizer's state is dropped first and the weights are mapped from the file, so testing holds one
    model in memory, not a second one and an optimizer state beside it."""
    ckpt = trainer.checkpoint_callback
    best = best_checkpoint(trainer)
    trainer.strategy.optimizers = []
    gc.collect()
    if best is not None:
        module.loaded_epoch = load_weights(module, best)
    results = trainer.test(module, datamodule=datamodule, verbose=False)
    tested = {"monitor": ckpt.monitor, "epoch": module.loaded_epoch + 1} if best else {"monitor": None, "epoch": None}
    return (results[0]["test/acc"] if results else None), tested


def best_checkpoint(trainer: L.Trainer) -> Path | None:
    """The best checkpoint by the checkpoint callback's monitor, if it saved one."""
    ckpt = trainer.checkpoint_callback
    return Path(ckpt.best_model_path) if ckpt is not None and ckpt.best_model_path else None


def start_line(origin: dict, out_dir: Path) -> str:
    job = origin["slurm"]
    where = f"SLURM job {job['job']} (restart {job['restart_count']})" if job else origin["host"]
    code = (origin["commit"] or "no git")[:10] + (f" + diff {origin['diff_sha256']}" if origin["dirty"] else "")
    return f"Starting run in {out_dir} on {where}; code {code}"


def final_line(s: dict) -> str:
    best = "n/a" if s["best_val_acc"] is None else f"{s['best_val_acc']:.4f} at epoch {s['best_epoch']}"
    tested = s.get("tested_checkpoint") or {}
    source = (
        f"best {tested['monitor']} checkpoint, epoch {tested['epoch']}" if tested.get("monitor") else "final weights"
    )
    test = "not run" if s["test_acc"] is None else f"{s['test_acc']:.4f} ({source})"
    return (
        f"Done: best val/acc {best} of {s['epochs_run']}; test/acc {test}; {s['fit_seconds']:.1f} s; {s['output_dir']}"
    )
