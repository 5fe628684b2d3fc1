"""Run Hydra jobs in fresh processes, several at a time, each slot with its own environment.

The parent sends each child the pickled launcher state (config, task function, Hydra singletons)
and the job's overrides; the child composes the job's config and runs it exactly as Hydra's own
launchers do, then sends the ``JobReturn`` back. A fresh process per job frees its GPU memory at
the end, and ``CUDA_VISIBLE_DEVICES`` can be set before CUDA starts in it.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import threading
from collections.abc import Sequence

import cloudpickle
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, run_job, setup_globals
from omegaconf import open_dict

log = logging.getLogger(__name__)


def pack_state(hydra_context, config, task_function) -> bytes:
    return cloudpickle.dumps((hydra_context, config, task_function, Singleton.get_state()))


def _child(state: bytes, idx: int, overrides: list[str], job_id: str, env: dict, conn) -> None:
    os.environ.update(env)  # before anything imports torch or starts CUDA
    hydra_context, config, task_function, singletons = cloudpickle.loads(state)
    Singleton.set_state(singletons)
    setup_globals()
    sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
    with open_dict(sweep_config.hydra.job):
        sweep_config.hydra.job.id = job_id
        sweep_config.hydra.job.num = idx
    ret = run_job(hydra_context=hydra_context, task_function=task_function, config=sweep_config,
                  job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")
    conn.send(cloudpickle.dumps(ret))
    conn.close()


def _failed(idx: int, overrides: Sequence[str], exitcode) -> JobReturn:
    error = RuntimeError(f"job #{idx} ({' '.join(overrides)}) exited with code {exitcode} before returning; "
                         "its own error is printed above")
    return JobReturn(overrides=list(overrides), status=JobStatus.FAILED, _return_value=error)


def run_parallel(state: bytes, jobs: Sequence[tuple[int, Sequence[str]]], slots: Sequence[dict],
                 job_id_prefix: str = "") -> list[JobReturn]:
    """Run ``jobs`` (index, overrides), ``len(slots)`` at a time; slot ``k``'s jobs get ``slots[k]`` in their env."""
    ctx = mp.get_context("spawn")
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    results: dict[int, JobReturn] = {}

    def worker(env: dict) -> None:
        while True:
            try:
                idx, overrides = todo.get_nowait()
            except queue.Empty:
                return
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(state, idx, list(overrides), f"{job_id_prefix}{idx}", env, send))
            proc.start()
            log.info(f"#{idx} started (pid {proc.pid})")
            send.close()
            try:
                ret = cloudpickle.loads(recv.recv())
            except EOFError:  # the child died (user error, crash, kill) without a result
                ret = None
            proc.join()
            log.info(f"#{idx} finished (exit code {proc.exitcode})")
            results[idx] = ret if ret is not None else _failed(idx, overrides, proc.exitcode)

    threads = [threading.Thread(target=worker, args=(env,), daemon=True) for env in slots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [results[idx] for idx, _ in jobs]
