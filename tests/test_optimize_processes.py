"""The optimizer's worker processes (issue 23, items 1, 2 and 17): Ctrl-C stops a run that is
optimizing, a worker that dies is no verdict on its image, and no worker outlives its run.

Workers are made to die for real: a ``sitecustomize`` on the workers' PYTHONPATH kills the worker
process (SIGKILL, as the OOM killer does) when it is handed a marked image."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import images
import pytest
from conftest import emulator_options, make_site
from processes import ctrl_c, killed_leaves_no_workers, until, workers_of

from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.optimize import engine
from mkdocs_wxcloud.optimize.settings import Optimization
from mkdocs_wxcloud.optimize.workers import ProcessDied, Workers
from mkdocs_wxcloud.publishing.optimizing import Optimizer
from mkdocs_wxcloud.publishing.sources import ImageProblem

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc, as on Linux")
BIN = Path(sys.executable).parent
LOSSLESS = Optimization(mode="lossless")
SITECUSTOMIZE = """
import hashlib, os, signal
from pathlib import Path

if os.environ.get("WXCLOUD_TEST_DIE_ON"):
    from mkdocs_wxcloud.optimize import engine

    marks, real = Path(os.environ["WXCLOUD_TEST_DIE_ON"]), engine.optimize

    def optimize(data, ext, settings):
        name = hashlib.sha256(data).hexdigest()
        if (marks / f"interrupt-{name}").exists():  # what SIGINT did to a worker before it ignored it
            raise KeyboardInterrupt
        try:
            (marks / f"once-{name}").unlink()
            die = True
        except FileNotFoundError:
            die = (marks / f"always-{name}").exists()
        if die:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(data, ext, settings)

    engine.optimize = optimize
"""

Die = Callable[[bytes, str], None]


@pytest.fixture
def die_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Die:
    """``die_on(data, "once" | "always")``: a worker handed ``data`` is killed (once, or every time);
    ``"interrupt"``: it raises KeyboardInterrupt, which comes back as the image's result."""
    hook, marks = tmp_path / "hook", tmp_path / "marks"
    hook.mkdir()
    marks.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("WXCLOUD_TEST_DIE_ON", str(marks))
    return lambda data, how: (marks / f"{how}-{hashlib.sha256(data).hexdigest()}").touch()


def test_a_worker_killed_once_is_no_verdict_the_image_is_optimized_again(die_on: Die, tmp_path: Path) -> None:
    data = images.photo()
    die_on(data, "once")
    workers = Workers(processes=2)
    try:
        outcome = workers.optimize(data, ".jpg", LOSSLESS)
    finally:
        workers.close()
    assert not list((tmp_path / "marks").iterdir())  # a worker did die on it
    assert outcome == engine.optimize(data, ".jpg", LOSSLESS) and outcome.done == "mozjpeg"


def test_an_image_its_workers_keep_dying_on_fails_and_the_others_go_on(die_on: Die) -> None:
    data = images.photo()
    die_on(data, "always")
    workers = Workers(processes=2)
    try:
        with pytest.raises(ProcessDied, match="^the optimizer's process died on it twice"):
            workers.optimize(data, ".jpg", LOSSLESS)
        assert workers.optimize(images.screenshot(), ".png", LOSSLESS).done == "oxipng"
    finally:
        workers.close()


def test_an_image_that_kills_its_workers_is_neither_uploaded_as_it_is_nor_cached(die_on: Die, tmp_path: Path) -> None:
    data = images.photo()
    die_on(data, "always")
    optimizer = Optimizer(LOSSLESS, tmp_path / "cache")
    try:
        with pytest.raises(ImageProblem, match="^could not be optimized: the optimizer's process died on it twice"):
            optimizer.prepare("img/photo.jpg", data, hashlib.sha256(data).hexdigest())
    finally:
        optimizer.close()
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.*"))


def test_a_sync_does_not_publish_an_image_its_workers_die_on(die_on: Die, tmp_path: Path, emulator: Emulator) -> None:
    photo, shot = images.photo(), images.screenshot()
    die_on(photo, "always")
    files = {"index.md": "![p](img/photo.jpg) ![s](img/shot.png)\n", "img/photo.jpg": photo, "img/shot.png": shot}
    make_site(tmp_path / "site", files, emulator_options(emulator, optimize="lossless"))
    result = subprocess.run([str(BIN / "mkdocs-wxcloud"), "sync"], cwd=tmp_path / "site", capture_output=True,
                            text=True, timeout=180)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "img/photo.jpg" in result.stderr and "the optimizer's process died on it twice" in result.stderr
    assert "Traceback" not in result.stderr
    entries = mf.read(tmp_path / "site/wxcloud-manifest.yml").images
    assert set(entries) == {"img/shot.png"} and entries["img/shot.png"].done == "oxipng"
    assert all(body != photo for body in emulator.stored_files().values())


def test_an_interrupt_raised_in_an_upload_ends_the_run_instead_of_hanging_it(die_on: Die, tmp_path: Path,
                                                                             emulator: Emulator) -> None:  # fmt: skip
    photo, shot = images.photo(), images.screenshot()
    die_on(photo, "interrupt")
    files = {"index.md": "![p](img/photo.jpg) ![s](img/shot.png)\n", "img/photo.jpg": photo, "img/shot.png": shot}
    make_site(tmp_path / "site", files, emulator_options(emulator, optimize="lossless"))
    result = subprocess.run([str(BIN / "mkdocs-wxcloud"), "sync"], cwd=tmp_path / "site", capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 1 and "error: img/photo.jpg: not uploaded" in result.stderr, result.stderr
    assert set(mf.read(tmp_path / "site/wxcloud-manifest.yml").images) == {"img/shot.png"}


# -- the run's end ---------------------------------------------------------------------------------


def _big_site(root: Path, emu: Emulator, n: int = 30) -> None:
    """Screenshots that take the workers a while each, so that a run is stopped while they work."""
    files: dict[str, bytes | str] = {f"img/{i}.png": images.screenshot(seed=i, size=(1400, 900)) for i in range(n)}
    files["index.md"] = "".join(f"![{i}](img/{i}.png)\n\n" for i in range(n))
    make_site(root, files, emulator_options(emu, optimize="lossless", concurrency=4))


def _sync(root: Path) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "mkdocs-wxcloud"), "sync"], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip


def test_ctrl_c_while_images_are_optimized_exits_130_and_records_what_finished(tmp_path: Path) -> None:
    with Emulator() as emu:
        _big_site(tmp_path, emu)
        process = _sync(tmp_path)
        assert until(lambda: emu.request_count("/cos/") >= 2 or process.poll() is not None)
        stderr = ctrl_c(process)
        stored = emu.stored_files()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted: the uploads that finished are recorded" in stderr
    entries = mf.read(tmp_path / "wxcloud-manifest.yml").images
    assert {e.cloud_path for e in entries.values()} == set(stored) and 2 <= len(stored) < 30


def test_the_workers_exit_when_their_run_is_killed(tmp_path: Path) -> None:
    with Emulator() as emu:
        _big_site(tmp_path, emu)
        process = _sync(tmp_path)
        try:
            workers: list[int] = []
            assert until(lambda: bool(workers.extend(workers_of(process.pid)) or workers)), "no worker started"
            workers[:] = sorted(set(workers) | set(workers_of(process.pid)))  # those started meanwhile too
            gone = killed_leaves_no_workers(process, workers)
        finally:
            process.stderr.close()  # type: ignore[union-attr]
    assert gone, f"worker processes {workers} outlived their run"
