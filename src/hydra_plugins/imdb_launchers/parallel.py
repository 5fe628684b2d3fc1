"""Run Hydra jobs in worker processes, several at a time, each slot with its own environment.

Each slot has one worker process, started with the slot's environment (``CUDA_VISIBLE_DEVICES``
is set before CUDA starts in it) and the pickled launcher state (config, task function, Hydra
singletons). It runs the slot's jobs one after another, each composed and run exactly as Hydra's
own launchers do, and sends each ``JobReturn`` back. Reusing the worker pays the imports (about
5 s: torch, Lightning) and CUDA's start once a slot instead of once a job; between jobs it gives
cached GPU memory back and resets its peak-memory counters, so each summary reports its own
job. A worker that dies (a crash, a kill) fails its job, and the slot starts a new worker.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import sys
import threading
from collections.abc import Sequence

import cloudpickle
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, run_job, setup_globals
from omegaconf import open_dict

log = logging.getLogger(__name__)


def pack_state(hydra_context, config, task_function) -> bytes:
    return cloudpickle.dumps((hydra_context, config, task_function, Singleton.get_state()))


def _worker(state: bytes, env: dict, conn) -> None:
    os.environ.update(env)  # before anything imports torch or starts CUDA
    hydra_context, config, task_function, singletons = cloudpickle.loads(state)
    while (job := conn.recv()) is not None:
        idx, overrides, job_id = job
        _fresh_job_state(singletons)
        try:
            sweep_config = hydra_context.config_loader.load_sweep_config(config, list(overrides))
            with open_dict(sweep_config.hydra.job):
                sweep_config.hydra.job.id = job_id
                sweep_config.hydra.job.num = idx
            ret = run_job(
                hydra_context=hydra_context,
                task_function=task_function,
                config=sweep_config,
                job_dir_key="hydra.sweep.dir",
                job_subdir_key="hydra.sweep.subdir",
            )
        except SystemExit as exc:  # a user error: its one line is printed already
            ret = _failed(idx, overrides, exc.code)
        conn.send(cloudpickle.dumps(ret))


def _fresh_job_state(singletons) -> None:
    """What a new process would start the job with: Hydra's singletons, no cached GPU memory, peak counters at 0."""
    Singleton.set_state(singletons)
    setup_globals()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    try:
        with open("/proc/self/clear_refs", "w") as f:  # resets VmHWM, the peak RSS summary.json reports
            f.write("5")
    except OSError:
        pass


def _failed(idx: int, overrides: Sequence[str], exitcode) -> JobReturn:
    error = RuntimeError(
        f"job #{idx} ({' '.join(overrides)}) exited with code {exitcode}; its own error is printed above"
    )
    return JobReturn(overrides=list(overrides), status=JobStatus.FAILED, _return_value=error)


def run_parallel(
    state: bytes, jobs: Sequence[tuple[int, Sequence[str]]], slots: Sequence[dict], job_id_prefix: str = ""
) -> list[JobReturn]:
    """Run ``jobs`` (index, overrides), ``len(slots)`` at a time; slot ``k``'s jobs get ``slots[k]`` in their env."""
    ctx = mp.get_context("spawn")
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    results: dict[int, JobReturn] = {}

    def slot(env: dict) -> None:
        proc = conn = None
        while True:
            try:
                idx, overrides = todo.get_nowait()
            except queue.Empty:
                break
            if proc is None:
                conn, child_end = ctx.Pipe()
                proc = ctx.Process(target=_worker, args=(state, env, child_end))
                proc.start()
                child_end.close()
            log.info(f"#{idx} started (pid {proc.pid})")
            conn.send((idx, list(overrides), f"{job_id_prefix}{idx}"))
            try:
                ret = cloudpickle.loads(conn.recv())
            except EOFError:  # the worker died (crash, kill) without a result
                proc.join()
                ret, proc = _failed(idx, overrides, proc.exitcode), None
            log.info(f"#{idx} finished ({'ok' if ret.status == JobStatus.COMPLETED else 'failed'})")
            results[idx] = ret
        if proc is not None:
            conn.send(None)
            proc.join()

    threads = [threading.Thread(target=slot, args=(env,), daemon=True) for env in slots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [results[idx] for idx, _ in jobs]
