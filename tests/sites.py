"""Throwaway sites: their images, files, demo credentials and an in-process build.

Shared by the tests (through conftest) and the benchmarks (which put this folder on their path), so
both write and build sites the same way.
"""

from __future__ import annotations

import logging
import random
import struct
import zlib
from pathlib import Path
from typing import Literal, Mapping

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET

CREDENTIAL_VARIABLES = ("WXCLOUD_APPID", "WXCLOUD_SECRET", "WXCLOUD_ENV", "WXCLOUD_API_BASE")


def png(seed: int, size: int = 8, *, noisy: bool = False) -> bytes:
    """A small valid RGB PNG whose bytes depend on ``seed``.

    Plain, it has one colour (distinct seeds below 256, distinct hashes). ``noisy`` draws its pixels
    from ``seed`` and names the seed in a tEXt chunk: unique for every seed, for sites of thousands.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    if noisy:
        rng = random.Random(seed)
        rows = [rng.randbytes(3 * size) for _ in range(size)]
        text = chunk(b"tEXt", b"Comment\x00benchmark image " + str(seed).encode())
    else:
        rows = [bytes(((seed * 67) % 256, (seed * 131) % 256, (seed * 29 + 7) % 256)) * size] * size
        text = b""
    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def demo_options(api_base: str) -> dict[str, object]:
    """Plugin options that point a site at the emulator of ``api_base`` with its demo credentials."""
    return {"api_base": api_base, "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET, "env": DEFAULT_ENV}


def write_files(folder: Path, files: Mapping[str, bytes | str]) -> None:
    """Write ``folder/<name>`` for each file (text as UTF-8), making the folders on the way."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)


class LogRecorder(logging.Handler):
    """Keeps the records of ``level`` and above, the first ``limit`` of them: what a build logged."""

    def __init__(self, level: int = logging.WARNING, limit: int = 1000) -> None:
        super().__init__(level)
        self.limit = limit
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < self.limit:
            self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [f"{record.levelname}: {record.getMessage()}" for record in self.records]


def build(
    config_path: Path, *, strict: bool = False, command: Literal["build", "gh-deploy", "serve"] = "build"
) -> None:
    """Run a real MkDocs build in this process, with the start-up and shut-down events."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    config = load_config(str(config_path), strict=strict)
    config.plugins.on_startup(command=command, dirty=False)
    try:
        mkdocs_build(config)
    finally:
        config.plugins.on_shutdown()
