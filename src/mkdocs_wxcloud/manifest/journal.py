"""The journal: each finished upload appended at once, so that a run killed at any moment loses nothing.

One JSON line per record (O(1), unlike rewriting the manifest), in a file per run named after the
manifest, the process and a nonce. A later run replays the journals of runs that died (their
process is gone) and folds them into the manifest; a torn last line is skipped, and every record
is checked like the manifest itself (:mod:`.schema`), since the cache folder is only as safe as
the machine.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import fields
from pathlib import Path
from typing import IO, Iterator, Union

from ..errors import ManifestError
from . import model as mf
from . import schema

_ENTRY_FIELDS = tuple(f.name for f in fields(mf.Entry))  # scalars all: no deep copy (asdict's) needed

_OPEN: set[Path] = set()  # journals of live stores in this process
Record = Union[tuple[str, str, mf.Entry], tuple[str, str, str]]
"""``("put", docs path, entry)`` or ``("retire", file_id, cloud_path)``."""


class Journal:
    """This run's journal, and those that runs which died left beside it."""

    def __init__(self, folder: Path, key: str, env: str | None) -> None:
        self.folder = folder
        self.env = env
        self.path = folder / f"journal-{key}-{os.getpid()}-{secrets.token_hex(3)}.jsonl"
        self._glob = f"journal-{key}-*.jsonl"
        self._file: IO[str] | None = None

    def open(self) -> None:
        """Create the file (a run that could not record its uploads must not make them)."""
        if self._file is None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
            except OSError as error:
                raise _unwritable(self.path, error) from None
            _OPEN.add(self.path)

    def put(self, path: str, entry: mf.Entry) -> None:
        self._append({"env": self.env, "put": path, "entry": {name: getattr(entry, name) for name in _ENTRY_FIELDS}})

    def retire(self, file_id: str, cloud_path: str) -> None:
        self._append({"env": self.env, "retire": file_id, "cloud_path": cloud_path})

    def _append(self, record: dict) -> None:
        self.open()
        assert self._file is not None
        try:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()
        except OSError as error:
            raise _unwritable(self.path, error) from None

    def close(self) -> None:
        """Delete the journal: the caller has written everything in it to the manifest."""
        if self._file is not None:
            self._file.close()
            self._file = None
            _OPEN.discard(self.path)
        self.path.unlink(missing_ok=True)

    def left_behind(self) -> list[Path]:
        """The journals of this manifest that no live run writes."""
        return [path for path in sorted(self.folder.glob(self._glob)) if not _alive(path)]

    def replay(self, journals: list[Path]) -> Iterator[Record]:
        """The valid records of ``journals`` for this env, in order."""
        for journal in journals:
            for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    record = json.loads(line)
                    if "retire" in record:
                        schema.check_retired(0, {"file_id": record["retire"], "cloud_path": record["cloud_path"]})
                    else:
                        schema.check_image(record["put"], record["entry"])
                except (ValueError, KeyError, TypeError, AttributeError, schema.Invalid):
                    continue  # the last line of a killed run may be torn
                if self.env and record.get("env") not in (None, self.env):
                    continue  # a run for another cloud environment
                if "retire" in record:
                    yield "retire", record["retire"], record["cloud_path"]
                else:
                    yield "put", record["put"], mf.entry_from(record["entry"])


def _unwritable(path: Path, error: OSError) -> ManifestError:
    return ManifestError(f"{path}: cannot be written ({error.strerror or type(error).__name__}): check `cache_dir`")


def _alive(journal: Path) -> bool:
    """Whether a live store writes ``journal`` (named ``journal-<key>-<pid>-<nonce>``)."""
    if journal in _OPEN:
        return True
    try:
        pid = int(journal.stem.split("-")[2])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():  # ours, but no store of ours has it open: left by an earlier life
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
