"""The engine in worker processes, one per core, started on the first image to optimize.

pyoxipng, Pillow's encoders and the libimagequant binding hold the interpreter lock while they
work: in the build's process they would stop MkDocs rendering for the whole of each image. Worker
processes (spawned: forking a process that runs threads is unsafe) do the work instead, while the
upload thread that asked waits without the lock. oxipng's own threads are limited to one per
worker, since the workers already use every core. Where processes cannot be started (a sandbox
without semaphores, a script that starts the build without ``if __name__ == "__main__":``), the
engine runs in the calling thread, as it would without workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from . import engine
from .settings import Optimization

log = logging.getLogger("mkdocs.plugins.wxcloud")
CRASHES_BEFORE_IN_THREAD = 3  # workers that die this often cannot start here (an unguarded __main__?)


def cores() -> int:
    """The cores this process may use (its CPU affinity, where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _start_worker() -> None:
    os.environ["RAYON_NUM_THREADS"] = "1"  # read by oxipng's thread pool when it is first used


class Workers:
    """A lazily started process pool running :func:`engine.optimize`; thread-safe."""

    def __init__(self, processes: int | None = None) -> None:
        self._processes = processes or cores()
        self._pool: ProcessPoolExecutor | None = None
        self._in_thread = False
        self._crashes = 0
        self._lock = threading.Lock()

    def optimize(self, data: bytes, ext: str, settings: Optimization) -> engine.Outcome:
        pool = self._get()
        if pool is None:
            return engine.optimize(data, ext, settings)
        try:
            return pool.submit(engine.optimize, data, ext, settings).result()
        except BrokenProcessPool:  # a library crashed on this image, or workers cannot start at all
            with self._lock:
                if self._pool is pool:
                    self._pool, self._crashes = None, self._crashes + 1
                    if self._crashes == CRASHES_BEFORE_IN_THREAD:
                        log.info("wxcloud: worker processes keep failing; images are optimized in this process")
                        self._in_thread = True
            pool.shutdown(wait=False, cancel_futures=True)
            return engine.Outcome(None, ext.lower(), None, None, "kept: the optimizer's process failed on it")

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _get(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._pool is None and not self._in_thread:
                try:
                    self._pool = ProcessPoolExecutor(
                        self._processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
                    )
                except (OSError, NotImplementedError, ImportError) as error:
                    log.info("wxcloud: images are optimized in this process (no worker processes: %s)", error)
                    self._in_thread = True
            return self._pool
