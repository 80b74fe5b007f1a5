"""The commands run inside the test's process: ``mkdocs-wxcloud`` through click's ``CliRunner``,
``mkdocs build`` through the shared ``sites.build``.

A process costs about half a second of start-up (imports), so rules decided by the schema or the
options alone are tested this way, for every case; one case per command still runs as a real process
to prove the one-line error and the exit status end to end.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from mkdocs.exceptions import Abort
from sites import LogRecorder, build

from mkdocs_wxcloud.cli import main


def cli(*args: object, cwd: Path | None = None) -> Result:
    """``mkdocs-wxcloud *args`` in ``cwd`` (default: the current folder); its exit status, stdout and
    stderr. An exception the command lets out fails the test, as a traceback would."""
    with contextlib.chdir(cwd) if cwd else contextlib.nullcontext():
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def build_errors(config_path: Path) -> list[str]:
    """Build in this process, expecting MkDocs to abort (``mkdocs build`` exits 1 on ``Abort``, without a
    traceback); the error lines it logged, none of them with a traceback."""
    errors, logger = LogRecorder(logging.ERROR), logging.getLogger("mkdocs")
    logger.addHandler(errors)  # on the logger itself: the CLI turns its propagation off, as a program's main does
    try:
        with pytest.raises(Abort):
            build(config_path)
    finally:
        logger.removeHandler(errors)
    assert all(record.exc_info is None for record in errors.records)
    return [record.getMessage() for record in errors.records]
