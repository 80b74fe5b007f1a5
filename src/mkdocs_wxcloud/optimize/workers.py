"""The engine in worker processes, one per core, started on the first image to optimize.

pyoxipng, Pillow's encoders and the libimagequant binding hold the interpreter lock while they
work: in the build's process they would stop MkDocs rendering for the whole of each image. Worker
processes (spawned: forking a process that runs threads is unsafe) do the work instead, while the
upload thread that asked waits without the lock. oxipng's own threads are limited to one per
worker, since the workers already use every core. Where processes cannot be started (a sandbox
without semaphores, a script that starts the build without ``if __name__ == "__main__":``), the
engine runs in the calling thread, as it would without workers.

The workers belong to the run that started them: Ctrl-C is the parent's to handle (the workers
ignore it, so it never comes back as an image's result), and a worker whose parent is gone, even
killed with ``kill -9``, exits. A worker that dies (the OOM killer, a crash in a library) is no
verdict on the image it had: the image is optimized once more in a process of its own, and if that
one dies too, :class:`ProcessDied` says so; it is never uploaded as it is in its stead.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..children import cores, obey
from . import engine
from .settings import Optimization

log = logging.getLogger("mkdocs.plugins.wxcloud")


class ProcessDied(Exception):
    """The worker process optimizing an image died on it twice (killed, out of memory, a crash)."""


def _start_worker(parent: int) -> None:
    os.environ["RAYON_NUM_THREADS"] = "1"  # read by oxipng's thread pool when it is first used
    obey(parent)


class Workers:
    """A lazily started process pool running :func:`engine.optimize`; thread-safe."""

    def __init__(self, processes: int | None = None) -> None:
        self._processes = processes or cores()
        self._pool: ProcessPoolExecutor | None = None
        self._in_thread = False
        self._lock = threading.Lock()

    def optimize(self, data: bytes, ext: str, settings: Optimization) -> engine.Outcome:
        """:func:`engine.optimize` in a worker; :class:`ProcessDied` if the worker died on it twice."""
        pool = self._get()
        if pool is None:
            return engine.optimize(data, ext, settings)
        try:
            return pool.submit(engine.optimize, data, ext, settings).result()
        except BrokenProcessPool:  # a worker died: on this image, or on another one of the pool's
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
        return self._alone(data, ext, settings)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _alone(self, data: bytes, ext: str, settings: Optimization) -> engine.Outcome:
        """Once more, in a process of its own: what it dies on is this image, not one beside it."""
        pool = self._start(1)
        if pool is None:
            return engine.optimize(data, ext, settings)
        try:
            try:
                pool.submit(os.getpid).result()
            except BrokenProcessPool:  # not even a process doing nothing: they cannot start here
                self._no_processes("worker processes keep failing")
                return engine.optimize(data, ext, settings)
            try:
                return pool.submit(engine.optimize, data, ext, settings).result()
            except BrokenProcessPool:
                raise ProcessDied("the optimizer's process died on it twice (out of memory?)") from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _get(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._pool is None and not self._in_thread:
                self._pool = self._start(self._processes)
            return self._pool

    def _start(self, processes: int) -> ProcessPoolExecutor | None:
        if self._in_thread:
            return None
        try:
            return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_start_worker, initargs=(os.getpid(),))  # fmt: skip
        except (OSError, NotImplementedError, ImportError) as error:
            self._no_processes(f"no worker processes: {error}")
            return None

    def _no_processes(self, why: str) -> None:
        if not self._in_thread:
            self._in_thread = True
            log.info("wxcloud: images are optimized in this process (%s)", why)
