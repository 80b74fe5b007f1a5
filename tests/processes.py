"""Programs of this environment in processes of their own: console scripts, and the emulator on a
free loopback port (its memory and threads are not the caller's). Shared by the tests (through
conftest) and the benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from mkdocs_wxcloud.emulator import DEFAULT_ENV


def console_script(name: str) -> str:
    """The console script of this virtual environment (not another one on PATH)."""
    return str(Path(sys.executable).parent / name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn_emulator(port: int, *options: str, **popen: Any) -> subprocess.Popen:
    """``mkdocs-wxcloud emulator --port <port> <options>``, once it answers its health endpoint."""
    command = [console_script("mkdocs-wxcloud"), "emulator", "--host", "127.0.0.1", "--port", str(port), *options]
    proc = subprocess.Popen(command, **popen)
    for _ in range(300):  # wait until it answers (not a timed assertion: up to 30 s of polling)
        if proc.poll() is not None:
            said = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"the emulator exited with {proc.returncode}: {said}")
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
