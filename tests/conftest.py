"""Shared fixtures: a real emulator over HTTP, isolated caches, and throwaway MkDocs sites."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from dataclasses import fields
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import settings
from processes import free_port, spawn_emulator
from sites import CREDENTIAL_VARIABLES, build, demo_options, png, write_files

from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.wechat.auth import Account
from mkdocs_wxcloud.wechat.client import Limits, WxCloudClient

__all__ = [
    "ROOT", "build", "emulator_options", "free_port", "make_site", "png", "start_emulator", "stop_emulator", "wx_client",
]  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent

# CI runs the property tests on a fixed sequence of examples, so a rare case found by chance
# cannot make one submission fail and the next pass; developers' runs keep exploring.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's credentials or writes to the user's token cache."""
    for name in CREDENTIAL_VARIABLES:
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
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in ``tmp_path`` so relative paths (./mkdocs.yml, docs/...) work as for a user."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def emulator_options(emu: Emulator, **extra: object) -> dict:
    """Plugin options that point a site at ``emu`` with its demo credentials."""
    return {**demo_options(emu.base_url), "retries": 8, **extra}


def make_site(
    root: Path,
    files: dict[str, bytes | str],
    plugin: dict | None = None,
    extensions: list | None = None,
    **config: object,
) -> Path:
    """Write ``root/mkdocs.yml`` and ``root/docs/<files>``; return the config path."""
    write_files(root / "docs", files)
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


@pytest.fixture
def caplog_wxcloud(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="mkdocs")
    return caplog


def start_emulator(port: int, data: Path) -> subprocess.Popen:
    """``mkdocs-wxcloud emulator`` in a process of its own (its memory and threads are not the test's)."""
    return spawn_emulator(
        port, "--data", str(data), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )


def stop_emulator(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out
