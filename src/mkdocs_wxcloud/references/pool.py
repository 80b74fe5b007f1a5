"""Pages rendered for their references in worker processes, one per core, in page order.

Rendering is pure Python under the interpreter lock: a command that renders a hundred pages uses
one core while the others wait (if they are idle: workers are started only for idle cores). Each
worker (spawned: forking a process that runs threads is unsafe) builds one
:class:`~.scanner.Scanner` from the site's extensions and their configs, once, and renders the pages
it is sent; the results come back in the order the pages were given, so a command sees exactly what
the scan in its own process would have found, page after page, and can start on the first pages
while the workers render the next.

Starting a worker costs about as much as rendering 400,000 characters of pages (a Python
interpreter, Markdown and the site's extensions imported): :func:`worth_it` says when there is
enough to render for it to pay; a page the reference cache has is never rendered at all. The
workers belong to the command: Ctrl-C is its to handle (they ignore it, from their start), and a
worker whose parent is gone, even killed with ``kill -9``, exits. Where processes cannot be started, or
one dies, or the configuration cannot be sent to another process (an extension given as an object
that does not pickle), the pages left are rendered in the calling process: slower, never different.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Generator, Sequence

from ..children import cores, ignoring_ctrl_c, obey
from .scanner import Scanner
from .treeprocessor import Reference

log = logging.getLogger("mkdocs.plugins.wxcloud")
MIN_CHARS_PER_WORKER = 400_000  # characters to render per worker below which starting it costs more than it saves
CHUNK = 8  # pages per message at most: few messages, yet the first results come early

_scanner: Scanner | None = None  # the worker's own


def idle_cores() -> int:
    """The cores that nothing but this command keeps busy, from the 1-minute load average (which counts
    this command): on a machine busy with other work, workers get no more CPU than this process has,
    and their start-up is lost."""
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows, or no load average to read
        busy = 0.0
    return max(1, min(cores(), cores() + 1 - int(busy)))


def worth_it(chars: int, processes: int | None = None) -> int:
    """How many workers to start for pages of ``chars`` characters in all: 0 when rendering them here is
    faster.

    Rendering costs about 1 µs per character (1-1.4 µs measured on Material's extensions, code-heavy
    or not), and starting a worker about 0.4-0.5 s of CPU (an interpreter, the command's modules,
    Markdown and the extensions), so a worker pays for itself from :data:`MIN_CHARS_PER_WORKER`
    characters on: about 50 pages of a code-heavy manual, 200 short ones. One worker beside a waiting
    command gains nothing: it takes two idle cores (``processes``: :func:`idle_cores`).
    """
    workers = min(processes or idle_cores(), chars // MIN_CHARS_PER_WORKER)
    return workers if workers >= 2 else 0


def render(extensions: list, configs: dict[str, Any], texts: Sequence[str], processes: int,
           fallback: Callable[[str], list[Reference]]) -> Generator[list[Reference], None, None]:  # fmt: skip
    """The references of each of ``texts``, in order, rendered by ``processes`` workers; ``fallback``
    (a scanner of this process) renders those the workers cannot."""
    try:
        pickle.dumps((extensions, configs))
    except Exception as error:  # noqa: BLE001 - whatever a third-party object raises when pickled
        log.debug("wxcloud: pages rendered in this process (configuration not sent to workers: %s)", error)
        yield from map(fallback, texts)
        return
    try:
        pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(os.getpid(), extensions, configs))  # fmt: skip
    except (OSError, NotImplementedError, ImportError) as error:
        log.debug("wxcloud: pages rendered in this process (no worker processes: %s)", error)
        yield from map(fallback, texts)
        return
    size = max(1, min(CHUNK, len(texts) // (processes * 4)))
    chunks = [texts[start : start + size] for start in range(0, len(texts), size)]
    done = 0
    try:
        with ignoring_ctrl_c():  # the workers start on the first submits
            futures: list[Future[list[list[Reference]]]] = [pool.submit(_references, chunk) for chunk in chunks]
        for future in futures:
            for references in future.result():
                done += 1
                yield references
    except BrokenProcessPool as error:  # a worker died or none could start: the rest is rendered here
        log.debug("wxcloud: pages rendered in this process (%s)", error)
        yield from map(fallback, texts[done:])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(parent: int, extensions: list, configs: dict[str, Any]) -> None:
    global _scanner
    obey(parent)
    _scanner = Scanner(extensions, configs)


def _references(texts: Sequence[str]) -> list[list[Reference]]:
    assert _scanner is not None, "started by _start_worker"
    return [_scanner.references(text) for text in texts]
