"""The service side of the benchmarks: the emulator as a separate process, the requests it saw per
endpoint, the hand-written sequential baseline and the network's floors.
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Sequence

import _common  # noqa: F401 - puts tests/ on the path
import requests
from processes import free_port, spawn_emulator

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET

ENDPOINTS = {
    "stable_token": "/cgi-bin/stable_token",
    "uploadfile": "/tcb/uploadfile",
    "cos": "/cos/",
    "batchdownloadfile": "/tcb/batchdownloadfile",
    "total": "/",
}


def endpoint_counts(emulator: Any) -> dict[str, int]:
    """Requests per endpoint seen by an in-process ``Emulator``."""
    return {name: emulator.request_count(prefix) for name, prefix in ENDPOINTS.items()}


_REQUEST_LINE = re.compile(r'"[A-Z]+ (/[^ ?"]*)\S* HTTP/[0-9.]+" \d{3}')


class EmulatorProcess:
    """``mkdocs-wxcloud emulator`` in a process of its own, in memory, on a free loopback port.

    The real service is remote: an emulator inside the measured process would compete with the
    client for the GIL and for the cores, and its memory would count as the client's. With
    ``verbose`` it logs every request, which :meth:`counts` tallies per endpoint.
    """

    def __init__(self, log: Path, *, latency: float = 0.0, verbose: bool = False) -> None:
        self.log = log
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        options = ["--latency", repr(latency), *(["--verbose"] if verbose else [])]
        with log.open("wb") as out:
            try:
                self.process = spawn_emulator(port, *options, stdout=out, stderr=subprocess.STDOUT)
            except AssertionError as error:  # what it said went to the log
                raise RuntimeError(f"{error}{log.read_text(errors='replace')[-500:]}") from None
        self._started_cpu = 0.0
        self._started_cpu = self.cpu_seconds()  # its start-up (imports) is not the requests' cost

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def cpu_seconds(self) -> float:
        """CPU time the emulator has used since it was up (from /proc; 0 where there is none): on a
        machine with few cores it competes with the client, unlike the remote service."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") - self._started_cpu

    def counts(self) -> dict[str, int]:
        """Requests per endpoint so far (health checks excluded), from the log of a ``verbose`` emulator;
        the same keys as :func:`endpoint_counts`. A request is logged before its answer is sent."""
        paths = _REQUEST_LINE.findall(self.log.read_text(encoding="utf-8", errors="replace"))
        paths = [path for path in paths if path != "/__emulator__/health"]
        return {name: sum(path.startswith(prefix) for path in paths) for name, prefix in ENDPOINTS.items()}


def _post_json(session: Any, url: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """POST raw UTF-8 JSON: WeChat rejects the ``\\uXXXX`` escapes of ``requests``' ``json=`` in Chinese paths."""
    answer = session.post(
        url,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        timeout=30,
        headers={"Content-Type": "application/json"},
        **kwargs,
    )
    answer.raise_for_status()
    return answer.json()


def sequential_upload(base: str, images: Sequence[Path], docs: Path) -> dict[str, str]:
    """The flow users write by hand, one file after the other, four requests each: ``stable_token``,
    ``tcb/uploadfile``, the multipart COS POST (``x-cos-meta-fileid``, the file last), and
    ``tcb/batchdownloadfile`` for that one file. Returns cloud path -> download URL."""
    links: dict[str, str] = {}
    with requests.Session() as session:
        for image in images:
            cloud_path = "manual/" + image.relative_to(docs).as_posix()
            token = _post_json(
                session,
                f"{base}/cgi-bin/stable_token",
                {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET},
            )["access_token"]
            link = _post_json(
                session,
                f"{base}/tcb/uploadfile",
                {"env": DEFAULT_ENV, "path": cloud_path},
                params={"access_token": token},
            )
            with image.open("rb") as handle:
                session.post(
                    link["url"],
                    timeout=30,
                    data={
                        "key": cloud_path,
                        "Signature": link["authorization"],
                        "x-cos-security-token": link["token"],
                        "x-cos-meta-fileid": link["cos_file_id"],
                    },
                    files={"file": (image.name, handle, "image/png")},
                ).raise_for_status()  # files go after data
            listed = _post_json(
                session,
                f"{base}/tcb/batchdownloadfile",
                {"env": DEFAULT_ENV, "file_list": [{"fileid": link["file_id"], "max_age": 86400}]},
                params={"access_token": token},
            )
            url = listed["file_list"][0].get("download_url")
            if url:
                links[cloud_path] = url
    return links


def probe_round_trip(base: str, calls: int = 7) -> float:
    """Median wall time of one stable_token call on a kept-alive connection (the first is not counted):
    what one request really costs, to compare with the emulator's latency."""
    times = []
    with requests.Session() as session:
        for _ in range(calls + 1):
            began = time.perf_counter()
            _post_json(
                session,
                f"{base}/cgi-bin/stable_token",
                {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET},
            )
            times.append(time.perf_counter() - began)
    return statistics.median(times[1:])


def upload_floor(images: int, latency: float, concurrency: int) -> float:
    """The network's lower bound of uploading: two requests per new image (uploadfile, COS), C at once."""
    return 2 * images * latency / concurrency


def link_floor(images: int, latency: float) -> float:
    """One link call per 50 images, one after the other."""
    return math.ceil(images / 50) * latency
