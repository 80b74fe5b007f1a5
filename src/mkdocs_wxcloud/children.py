"""Worker processes that obey their parent: they ignore Ctrl-C (the parent decides what it stops) and
exit when the parent is gone, even after ``kill -9``. Used by the optimizer's and the scanner's pools."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from typing import Iterator

PARENT_POLL = 1.0  # seconds between a worker's looks at its parent


def cores() -> int:
    """The cores this process may use (its CPU affinity, where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def ignoring_ctrl_c() -> Iterator[None]:
    """Processes started in this block ignore Ctrl-C from their first instruction (an ignored SIGINT
    survives ``exec``, and Python then installs no handler of its own), not only once their
    initializer runs: a Ctrl-C while a worker starts never prints its traceback. One pressed during
    the milliseconds of starting them is not seen by the command either (press it again)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread sets handlers
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def obey(parent: int) -> None:
    """In a worker's initializer: ignore Ctrl-C, and exit once ``parent`` (its pid) is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="wxcloud-parent", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """Exit once the parent is gone: its sentinel closes (every system), or this process is adopted."""
    process = multiprocessing.parent_process()
    while os.getppid() == parent and (process is None or process.is_alive()):
        if process is not None:
            process.join(PARENT_POLL)
        else:
            threading.Event().wait(PARENT_POLL)
    os._exit(1)
