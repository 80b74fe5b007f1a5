"""Shared fixtures: a real emulator over HTTP, isolated caches, and throwaway MkDocs sites."""

from __future__ import annotations

import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
import yaml
from hypothesis import settings

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.wechat.auth import Account
from mkdocs_wxcloud.wechat.client import Limits, WxCloudClient

ROOT = Path(__file__).resolve().parent.parent

# CI runs the property tests on a fixed sequence of examples, so a rare case found by chance
# cannot make one submission fail and the next pass; developers' runs keep exploring.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def png(seed: int, size: int = 8) -> bytes:
    """A small valid PNG whose bytes depend on ``seed`` (distinct seeds, distinct hashes)."""
    colour = bytes(((seed * 67) % 256, (seed * 131) % 256, (seed * 29 + 7) % 256))
    raw = b"".join(b"\x00" + colour * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's credentials or writes to the user's token cache."""
    for name in ("WXCLOUD_APPID", "WXCLOUD_SECRET", "WXCLOUD_ENV", "WXCLOUD_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures the ``mkdocs`` logger like any program's main; undo it after each test."""
    logger = logging.getLogger("mkdocs")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


def wx_client(api_base: str, **options: Any) -> WxCloudClient:
    """A client from flat options, as tests write them (``env``, ``appid``, …, ``timeout``, ``token_cache``)."""
    limits = {name: options.pop(name) for name in [f.name for f in fields(Limits)] if name in options}
    token_cache = options.pop("token_cache", None)
    return WxCloudClient(api_base, Account(**options), Limits(**limits), token_cache)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def emulator_options(emu: Emulator, **extra: object) -> dict:
    """Plugin options that point a site at ``emu`` with its demo credentials."""
    return {
        "api_base": emu.base_url,
        "appid": DEFAULT_APPID,
        "secret": DEFAULT_SECRET,
        "env": DEFAULT_ENV,
        "retries": 8,
        **extra,
    }


def make_site(
    root: Path,
    files: dict[str, bytes | str],
    plugin: dict | None = None,
    extensions: list | None = None,
    **config: object,
) -> Path:
    """Write ``root/mkdocs.yml`` and ``root/docs/<files>``; return the config path."""
    for name, content in files.items():
        path = root / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    data = {
        "site_name": "test",
        "docs_dir": "docs",
        "site_dir": "site",
        "markdown_extensions": extensions if extensions is not None else ["attr_list", "md_in_html", "admonition"],
        "plugins": [{"wxcloud": plugin or {}}],
        **config,
    }
    config_path = root / "mkdocs.yml"
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config_path


def build(config_path: Path, *, strict: bool = False, command: str = "build") -> None:
    """Run a real MkDocs build in this process, with the start-up and shut-down events."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    config = load_config(str(config_path), strict=strict)
    config.plugins.on_startup(command=command, dirty=False)
    try:
        mkdocs_build(config)
    finally:
        config.plugins.on_shutdown()


@pytest.fixture
def caplog_wxcloud(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="mkdocs")
    return caplog


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_emulator(port: int, data: Path) -> subprocess.Popen:
    """``mkdocs-wxcloud emulator`` in a process of its own (its memory and threads are not the test's)."""
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "mkdocs-wxcloud"), "emulator", "--host", "127.0.0.1", "--port", str(port), "--data", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    for _ in range(300):  # wait until it answers (not a timed assertion: up to 30 s of polling)
        if proc.poll() is not None:
            raise AssertionError(f"the emulator exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/__emulator__/health", timeout=1)
            if answer.ok:
                assert answer.json()["emulator"] == "mkdocs-wxcloud"
                assert DEFAULT_ENV in answer.json()["envs"]
                return proc
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("the emulator never answered its health endpoint")


def stop_emulator(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out
