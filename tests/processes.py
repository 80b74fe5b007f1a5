"""Programs of this environment in processes of their own: console scripts, and the emulator on a
free loopback port (its memory and threads are not the caller's). Shared by the tests (through
conftest) and the benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

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


def until(condition: Callable[[], bool], seconds: float = 120) -> bool:
    """Poll ``condition`` (not a timed assertion: a bound so that a hang fails instead of blocking)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # state, ppid, …


def workers_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        stat = _stat(int(entry.name)) if entry.name.isdigit() else None
        if stat is not None and stat[1] == str(pid):
            try:
                if b"spawn_main" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def killed_leaves_no_workers(process: subprocess.Popen, workers: list[int]) -> bool:
    """``kill -9`` the process: whether its worker processes are gone within a minute (those left are
    killed here, so that a failing test leaves none behind)."""
    try:
        process.kill()  # nothing of the process's own code runs after it
        process.wait()
        return until(lambda: not any(alive(pid) for pid in workers), 60)
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def ctrl_c(process: subprocess.Popen) -> str:
    """Ctrl-C as a terminal sends it (to the whole process group, workers too): the process's stderr once
    it ended (killed here if it does not, so that a failing test leaves nothing behind)."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        return str(process.communicate(timeout=120)[1])
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
