"""Uploads sent from a process of their own: the same results, the same errors, nothing left behind.

Once a run has queued ``OFFLOAD_AT`` uploads on a machine with a second core, the uploads that follow
are sent by a child process (:mod:`mkdocs_wxcloud.publishing.offload`), so that rendering keeps its
core. These tests hold that a file sent from there is recorded exactly as one sent from the run's own
process (no extra token request), that its errors keep their type (one file fails alone, a refusal
stops the run), that a child that dies fails what it had without hanging the run, that progress is
told, and that the child is gone when the run ends, is interrupted, or is killed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import emulator_options, make_site, png
from processes import (
    alive,
    console_script,
    ctrl_c,
    killed_leaves_no_workers,
    until,
    workers_of,
)

from mkdocs_wxcloud.children import cores
from mkdocs_wxcloud.emulator import DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.publishing.offload import OFFLOAD_AT, UploadProcess
from mkdocs_wxcloud.publishing.run import Mode, Run, open_run
from mkdocs_wxcloud.publishing.settings import resolve
from mkdocs_wxcloud.references import pool
from mkdocs_wxcloud.wechat.errors import ApiError, CosError

pytestmark = pytest.mark.skipif(cores() < 2, reason="the upload process is started only with a second core")
TOKEN = "/cgi-bin/stable_token"
BUILD = Mode(renders=True)  # a host that renders its pages in the run's process
IDLE = "from mkdocs_wxcloud.references import pool; pool.idle_cores = lambda: 2\n"
"""Run first in a process of its own: its second core counts as idle however busy the machine is."""


@pytest.fixture(autouse=True)
def _idle_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload process starts only for a core that nothing else keeps busy: here, however busy the
    machine is (it is started by the run's own decision, not imitated)."""
    monkeypatch.setattr(pool, "idle_cores", lambda: 2)


def _command(script: str, *args: str) -> list[str]:
    """A console script's main (``mkdocs`` or ``mkdocs-wxcloud``), run after :data:`IDLE`."""
    main = "from mkdocs.__main__ import cli as main" if script == "mkdocs" else "from mkdocs_wxcloud.cli import main"
    return [sys.executable, "-c", f"{IDLE}{main}\nmain()", *args]


def _images(root: Path, count: int, emulator: Emulator, **options: object) -> Path:
    make_site(root, {f"img/{n}.png": png(n) for n in range(count)}, emulator_options(emulator, **options))
    return root / "docs"


def _started(run: Run) -> UploadProcess:
    """Publish the first ``OFFLOAD_AT`` images, sent from this process; the child, once it takes work."""
    for n in range(OFFLOAD_AT):
        assert run.publish(f"img/{n}.png") is None
    process = run.uploads.process
    assert process is not None, "the run started no upload process"
    assert process.ready.wait(60), "the upload process never became ready"
    run.uploads.wait()
    return process


def test_files_queued_once_the_process_is_ready_are_sent_by_it_and_recorded_alike(
    tmp_path: Path, emulator: Emulator
) -> None:
    docs = _images(tmp_path, OFFLOAD_AT + 8, emulator)
    with open_run(resolve(emulator_options(emulator), tmp_path), docs, BUILD) as run:
        process = _started(run)
        sent_here = emulator.request_count()
        for n in range(OFFLOAD_AT, OFFLOAD_AT + 8):
            run.publish(f"img/{n}.png")
        report = run.finish()
        assert process.requests_made == 16  # the last 8 uploads, two requests each
    assert not report.errors and len(report.urls) == OFFLOAD_AT + 8
    assert emulator.request_count(TOKEN) == 1  # the child was handed the run's token
    assert report.summary.requests == emulator.request_count() == sent_here + 16 + 1  # + one link call
    images = mf.read(tmp_path / "wxcloud-manifest.yml").images
    stored = emulator.stored_files()
    for n in range(OFFLOAD_AT + 8):
        entry = images[f"img/{n}.png"]
        assert (
            entry.sha256 == hashlib.sha256(png(n)).hexdigest() == hashlib.sha256(stored[entry.cloud_path]).hexdigest()
        )
    assert process.pid is not None and not alive(process.pid)


def test_an_error_in_the_process_keeps_its_type_one_file_fails_alone_and_a_refusal_stops_the_run(
    tmp_path: Path, emulator: Emulator
) -> None:
    docs = _images(tmp_path, OFFLOAD_AT + 3, emulator, retries=1)
    with open_run(resolve(emulator_options(emulator, retries=1), tmp_path), docs, BUILD) as run:
        _started(run)
        emulator.fail_next("cos_key_too_long")
        run.publish(f"img/{OFFLOAD_AT}.png")
        run.uploads.wait()
        assert run.fatal is None  # one file's problem
        emulator.fail_next("not_enabled")
        run.publish(f"img/{OFFLOAD_AT + 1}.png")
        run.uploads.wait()
        assert isinstance(run.fatal, ApiError) and run.fatal.errcode == 85088 and not run.fatal.per_file
        run.publish(f"img/{OFFLOAD_AT + 2}.png")
        report = run.finish()
    assert "KeyTooLong" in report.errors[f"img/{OFFLOAD_AT}.png"]
    assert "85088" in report.errors[f"img/{OFFLOAD_AT + 1}.png"] == report.errors[f"img/{OFFLOAD_AT + 2}.png"]
    assert len(report.urls) == OFFLOAD_AT


def test_a_cos_error_rebuilt_here_is_the_one_the_child_raised(tmp_path: Path, emulator: Emulator) -> None:
    docs = _images(tmp_path, OFFLOAD_AT + 1, emulator, retries=1)
    settings = resolve(emulator_options(emulator, retries=1), tmp_path)
    with open_run(settings, docs, BUILD) as run:
        process = _started(run)
        emulator.fail_next("cos_key_too_long")
        with pytest.raises(CosError) as raised:
            process.send_bytes("docs/x.png", png(1), "x.png")
    assert (raised.value.status, raised.value.code, raised.value.per_file) == (400, "KeyTooLong", True)


def test_the_log_records_of_the_process_are_logged_in_this_one(
    tmp_path: Path, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mkdocs.plugins.wxcloud")
    docs = _images(tmp_path, OFFLOAD_AT + 1, emulator)
    with open_run(resolve(emulator_options(emulator, retries=2), tmp_path), docs, BUILD) as run:
        _started(run)
        caplog.clear()
        emulator.fail_next("busy")
        run.publish(f"img/{OFFLOAD_AT}.png")
        assert not run.finish().errors
    retried = [r for r in caplog.records if "retry 1/2" in r.getMessage()]
    assert len(retried) == 1 and retried[0].levelno == logging.DEBUG and retried[0].name == "mkdocs.plugins.wxcloud"


def test_a_process_that_dies_fails_what_it_had_and_the_run_still_ends(tmp_path: Path, emulator: Emulator) -> None:
    docs = _images(tmp_path, OFFLOAD_AT + 4, emulator, concurrency=4)
    with open_run(resolve(emulator_options(emulator, concurrency=4), tmp_path), docs, BUILD) as run:
        process = _started(run)
        emulator.latency = 5  # the child's uploads wait on the server…
        emulator.reset_counts()
        for n in range(OFFLOAD_AT, OFFLOAD_AT + 4):
            run.publish(f"img/{n}.png")
        assert until(lambda: emulator.request_count() == 4, 30)
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)  # …when it dies, as the OOM killer ends a process
        report = run.finish()
    emulator.latency = 0
    assert isinstance(run.fatal, Exception) and "the upload process ended unexpectedly" in str(run.fatal)
    assert sorted(report.errors) == sorted(f"img/{n}.png" for n in range(OFFLOAD_AT, OFFLOAD_AT + 4))
    assert len(mf.read(tmp_path / "wxcloud-manifest.yml").images) == OFFLOAD_AT  # what was done is kept


def test_the_progress_of_what_the_process_sends_is_told_in_this_one(tmp_path: Path, emulator: Emulator) -> None:
    docs = _images(tmp_path, OFFLOAD_AT + 2, emulator)
    told: dict[str, list[tuple[int, bool]]] = {}
    mode = Mode(on_progress=lambda path, sent, finished: told.setdefault(path, []).append((sent, finished)),
                renders=True)  # fmt: skip
    with open_run(resolve(emulator_options(emulator), tmp_path), docs, mode) as run:
        process = _started(run)
        for n in (OFFLOAD_AT, OFFLOAD_AT + 1):
            run.publish(f"img/{n}.png")
        run.finish()
        assert process.requests_made == 4
    for n in (OFFLOAD_AT, OFFLOAD_AT + 1):
        steps = told[f"img/{n}.png"]
        assert sum(sent for sent, _ in steps) == len(png(n)) and steps[-1] == (0, True)


def test_a_command_sends_every_upload_itself(tmp_path: Path, emulator: Emulator) -> None:
    """The commands render in worker processes, or not at all: an upload process would only compete
    with them (measured: `sync` and the upload phase are faster without it)."""
    docs = _images(tmp_path, OFFLOAD_AT * 2, emulator)
    with open_run(resolve(emulator_options(emulator), tmp_path), docs) as run:
        report = run.publish_all(f"img/{n}.png" for n in range(OFFLOAD_AT * 2))
        assert run.uploads.process is None
    assert len(report.urls) == OFFLOAD_AT * 2


def test_a_run_that_ends_before_the_process_is_ready_ends_it_at_once(tmp_path: Path, emulator: Emulator) -> None:
    docs = _images(tmp_path, OFFLOAD_AT, emulator)
    with open_run(resolve(emulator_options(emulator), tmp_path), docs, BUILD) as run:
        for n in range(OFFLOAD_AT):
            run.publish(f"img/{n}.png")
        process = run.uploads.process
        assert process is not None
        report = run.finish()
    assert len(report.urls) == OFFLOAD_AT
    assert process.pid is not None and not alive(process.pid)


def _slow_build(root: Path, emulator: Emulator) -> subprocess.Popen:
    """``mkdocs build`` of a page showing many images, against an emulator that answers after half a second."""
    count = OFFLOAD_AT * 3
    pages = {"index.md": "".join(f"![{n}](img/{n}.png)\n" for n in range(count))}
    make_site(root, {**pages, **{f"img/{n}.png": png(n) for n in range(count)}},
              emulator_options(emulator, concurrency=2))  # fmt: skip
    emulator.latency = 0.5
    return subprocess.Popen(_command("mkdocs", "build"), cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip


def _upload_process(process: subprocess.Popen) -> list[int]:
    assert until(lambda: bool(workers_of(process.pid)) or process.poll() is not None, 60)
    workers = workers_of(process.pid)
    assert workers, f"no upload process started: {process.communicate()[1]}"
    return workers


def test_ctrl_c_ends_the_build_and_its_upload_process_and_records_what_finished(
    tmp_path: Path, emulator: Emulator
) -> None:
    process = _slow_build(tmp_path, emulator)
    workers = _upload_process(process)
    assert until(lambda: emulator.request_count("/cos/") >= OFFLOAD_AT + 2, 120)  # the child's too
    stderr = ctrl_c(process)
    stored = emulator.stored_files()
    assert process.returncode == 1, stderr  # as MkDocs ends a build it aborts
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert until(lambda: not any(alive(pid) for pid in workers), 60)
    images = mf.read(tmp_path / "wxcloud-manifest.yml").images
    assert {entry.cloud_path for entry in images.values()} == set(stored) and len(stored) < OFFLOAD_AT * 3


def test_the_upload_process_exits_when_its_build_is_killed(tmp_path: Path, emulator: Emulator) -> None:
    process = _slow_build(tmp_path, emulator)
    assert killed_leaves_no_workers(process, _upload_process(process))


@pytest.mark.parametrize("one_core", [False, True], ids=["two cores", "one core"])
def test_a_build_sends_its_later_uploads_from_the_upload_process_given_a_second_core(
    tmp_path: Path, one_core: bool
) -> None:
    """A real ``mkdocs build``: every page links the cloud, and a rebuild sends nothing."""
    with Emulator(latency=0.05) as emulator:
        count = OFFLOAD_AT * 2
        pages = {"index.md": "".join(f"![{n}](img/{n}.png)\n" for n in range(count))}
        config = make_site(tmp_path, {**pages, **{f"img/{n}.png": png(n) for n in range(count)}},
                           emulator_options(emulator, concurrency=2))  # fmt: skip
        # on one core the run decides alone (and finds no idle second core)
        command = [console_script("mkdocs")] if one_core else _command("mkdocs")
        command += ["build", "-v", "-f", str(config)]
        built = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                               preexec_fn=(lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}))
                               if one_core else None)  # fmt: skip
        assert built.returncode == 0, built.stderr
        assert ("are sent by process" in built.stderr) is not one_core
        page = (tmp_path / "site/index.html").read_text(encoding="utf-8")
        assert page.count(emulator.base_url) == count and 'src="img/' not in page
        emulator.reset_counts()
        again = subprocess.run([console_script("mkdocs"), "build", "-f", str(config)], cwd=tmp_path,
                               capture_output=True, text=True, timeout=300)  # fmt: skip
        assert again.returncode == 0 and emulator.request_count() == 0


def test_a_zensical_build_publishes_every_image_with_its_upload_process(tmp_path: Path) -> None:
    """Zensical renders in a Python of its own making: the upload process starts there too."""
    pytest.importorskip("zensical")
    count = OFFLOAD_AT + 16
    (tmp_path / "docs/img").mkdir(parents=True)
    (tmp_path / "docs/index.md").write_text("".join(f"![{n}](img/{n}.png)\n\n" for n in range(count)))
    for n in range(count):
        (tmp_path / f"docs/img/{n}.png").write_bytes(png(n))
    (tmp_path / "zensical.toml").write_text(
        '[project]\nsite_name = "t"\ndocs_dir = "docs"\nsite_dir = "site"\n'
        "[project.markdown_extensions.wxcloud]\nupload = true\nconcurrency = 2\n",
        encoding="utf-8",
    )
    hooks, said = tmp_path / "hooks", tmp_path / "wxcloud.log"  # Zensical's Python runs IDLE, logs to `said`
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        f"{IDLE}import logging\nlog = logging.getLogger('mkdocs.plugins.wxcloud')\nlog.setLevel(logging.DEBUG)\n"
        f"log.addHandler(logging.FileHandler({str(said)!r}))\n",
        encoding="utf-8",
    )
    with Emulator(latency=0.05) as emulator:
        env = {**os.environ, "WXCLOUD_API_BASE": emulator.base_url, "WXCLOUD_APPID": emulator.appid,
               "WXCLOUD_SECRET": DEFAULT_SECRET, "WXCLOUD_ENV": DEFAULT_ENV, "PYTHONPATH": str(hooks)}  # fmt: skip
        built = subprocess.run([console_script("zensical"), "build"], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=300)  # fmt: skip
        assert built.returncode == 0, built.stdout + built.stderr
        assert emulator.request_count("/cgi-bin/") == 1
    assert "are sent by process" in said.read_text(encoding="utf-8")
    page = (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert page.count(emulator.base_url) == count and 'src="img/' not in page
    assert len(mf.read(tmp_path / "wxcloud-manifest.yml").images) == count
