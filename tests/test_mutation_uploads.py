"""Behaviours of the upload queue that mutation testing found unpinned (issue 26).

Each test goes through a run (open_run, publish, finish) against the emulator over real HTTP, with the
loopback proxy of tests/proxy.py where a file must change at a chosen moment.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import multiprocessing.context
import threading
from pathlib import Path

import pytest
from conftest import emulator_options, png
from proxy import Exchange, Proxy

from mkdocs_wxcloud.children import cores
from mkdocs_wxcloud.emulator import DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.errors import WxCloudError
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.publishing import uploads
from mkdocs_wxcloud.publishing.offload import OFFLOAD_AT
from mkdocs_wxcloud.publishing.run import Mode, open_run
from mkdocs_wxcloud.publishing.settings import resolve
from mkdocs_wxcloud.references import pool


def test_the_bytes_of_an_upload_sent_again_are_taken_back_from_that_files_progress(
    tmp_path: Path, emulator: Emulator
) -> None:
    """A file rewritten while it is sent is sent again under its new hash: the progress of that file
    takes the first sending back, so its total is the size of what was stored."""
    docs = tmp_path / "docs"
    docs.mkdir()
    image = docs / "x.png"
    old, new = png(60), png(62, size=20)
    image.write_bytes(old)
    rewritten = threading.Event()

    def rewrite_first(request: Exchange) -> None:  # between hashing and streaming
        if request.path.startswith("/tcb/uploadfile") and not rewritten.is_set():
            image.write_bytes(new)
            rewritten.set()

    told: list[tuple[str, int, bool]] = []
    mode = Mode(on_progress=lambda path, sent, finished: told.append((path, sent, finished)))
    with Proxy(emulator.base_url, before=rewrite_first) as proxy:
        settings = resolve(emulator_options(emulator, api_base=proxy.base_url), tmp_path)
        with open_run(settings, docs, mode) as run:
            assert run.publish("x.png") is None
            report = run.finish()
    assert rewritten.is_set() and list(report.urls) == ["x.png"]
    assert {path for path, _, _ in told} == {"x.png"}
    assert -len(old) in [sent for _, sent, _ in told]
    assert sum(sent for _, sent, _ in told) == len(new)
    assert told[-1] == ("x.png", 0, True)
    with open_run(settings, docs, Mode(offline=True)) as run:  # the new bytes' hash was cached: no read
        assert run.files.known_digest("x.png") == (hashlib.sha256(new).hexdigest(), len(new))


@pytest.mark.parametrize("optimize", [False, "lossy"])
@pytest.mark.parametrize("base_url", [None, "https://cdn.example.com"])
def test_a_run_closed_before_finish_records_each_upload_with_its_url_so_far_and_its_size(
    tmp_path: Path, emulator: Emulator, base_url: str | None, optimize: str | bool
) -> None:
    """A run closed before :meth:`finish` (Ctrl-C) keeps what it uploaded: under ``base_url`` with its
    URL there, else waiting for its link (an empty url, as every such entry), and its size on screen."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "x.png").write_bytes(png(64))
    settings = resolve(emulator_options(emulator, base_url=base_url, dimensions=True, optimize=optimize), tmp_path)
    with open_run(settings, docs) as run:
        assert run.publish("x.png") is None
        run.uploads.wait()
    entry = mf.read(settings.manifest).images["x.png"]
    assert (entry.width, entry.height) == (8, 8)
    assert emulator.stored_files()[entry.cloud_path] == png(64)
    url = f"{base_url}/{entry.cloud_path}" if base_url else ""
    assert entry.url == url and f"url: {url or repr('')}\n" in settings.manifest.read_text(encoding="utf-8")


@pytest.mark.skipif(cores() < 2, reason="the upload process is started only with a second core")
def test_a_build_whose_upload_process_cannot_start_sends_everything_itself_and_says_why_in_verbose_mode(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No process can be made (the system's process limit): the build loses nothing, and `-v` tells why."""
    monkeypatch.setattr(pool, "idle_cores", lambda: 2)

    def refused(process: object) -> None:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.context.SpawnProcess, "_Popen", staticmethod(refused))
    caplog.set_level(logging.DEBUG, logger="mkdocs.plugins.wxcloud")
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(OFFLOAD_AT + 1):
        (docs / f"{n}.png").write_bytes(png(n))
    with open_run(resolve(emulator_options(emulator), tmp_path), docs, Mode(renders=True)) as run:
        for n in range(OFFLOAD_AT + 1):
            run.publish(f"{n}.png")
        report = run.finish()
        assert run.uploads.process is None
    assert len(report.urls) == OFFLOAD_AT + 1 and report.errors == {}
    why = "wxcloud: uploads are sent from this process (no upload process: [Errno 11] Resource temporarily unavailable)"
    assert [r.getMessage() for r in caplog.records if "upload process" in r.getMessage()] == [why]


def test_an_optimized_image_whose_result_did_not_change_with_the_settings_is_not_sent_again(
    tmp_path: Path, emulator: Emulator
) -> None:
    """A new optimization profile makes the same bytes (a size limit the image is under): the object
    stored for them already is reused, under the new profile. Each run tells the source's bytes as sent."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "x.png").write_bytes(png(67, size=20))
    with Proxy(emulator.base_url) as proxy:
        entries = []
        told: list[tuple[str, int, bool]] = []
        mode = Mode(on_progress=lambda path, sent, finished: told.append((path, sent, finished)))
        for extra in ({}, {"max_width": 1000}):
            told.clear()
            options = emulator_options(emulator, api_base=proxy.base_url, optimize="lossy", **extra)
            with open_run(resolve(options, tmp_path), docs, mode) as run:
                assert run.publish("x.png") is None
                report = run.finish()
                entries.append(run.store.get("x.png"))
            assert report.errors == {} and list(report.urls) == ["x.png"]
            assert told == [("x.png", len(png(67, size=20)), False), ("x.png", 0, True)]
        assert proxy.count("/tcb/uploadfile") == 1
    first, second = entries
    assert first is not None and second is not None and first.optimize != second.optimize
    assert (second.cloud_path, second.file_id) == (first.cloud_path, first.file_id)


def test_a_manifest_that_cannot_be_written_stops_the_run_before_its_first_upload(
    tmp_path: Path, emulator: Emulator
) -> None:
    """An upload that no manifest could record would be made again by every run and never pruned:
    the run must find out before it sends anything, not when it records the first file id."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "x.png").write_bytes(png(70))
    manifest = "/proc/wxcloud-manifest.yml"  # /proc takes no new file, even from root
    settings = resolve(emulator_options(emulator, manifest=manifest), tmp_path)
    with pytest.raises(WxCloudError) as refused, open_run(settings, docs) as run:
        run.publish("x.png")
        run.finish()
    assert str(refused.value).startswith(f"{manifest}: cannot be written (")
    assert emulator.request_count("/tcb/uploadfile") == 0 and emulator.stored_files() == {}


def test_an_unwritable_manifest_stops_the_page_that_first_uploads_a_file_hashed_before(
    tmp_path: Path, emulator: Emulator
) -> None:
    """A file whose hash is cached (`check` read it) is queued with that hash, and the check is made at
    once: the build stops at that page rather than after rendering every other one."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "x.png").write_bytes(png(71))
    with open_run(resolve(emulator_options(emulator), tmp_path), docs, Mode(offline=True)) as run:
        assert not run.resolve("x.png").linkable
    settings = resolve(emulator_options(emulator, manifest="/proc/wxcloud-manifest.yml"), tmp_path)
    went_on = []
    with pytest.raises(WxCloudError, match="cannot be written"), open_run(settings, docs) as run:
        run.publish("x.png")
        went_on.append("the next page")
    assert went_on == [] and emulator.request_count("/tcb/uploadfile") == 0


def test_an_image_that_cannot_be_read_when_its_turn_comes_fails_alone_and_says_why(
    tmp_path: Path, emulator: Emulator
) -> None:
    """Hashed by `check`, then broken (here a symlink loop, which even root cannot read) while the
    upload before it is sent: that image fails with the system's reason and its fix, and only it."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.png").write_bytes(png(72, size=32, noisy=True))
    (docs / "b.png").write_bytes(png(73, size=32, noisy=True))
    with open_run(resolve(emulator_options(emulator), tmp_path), docs, Mode(offline=True)) as run:
        assert not run.resolve("a.png").linkable and not run.resolve("b.png").linkable

    def break_b(request: Exchange) -> None:
        if request.path.startswith("/tcb/uploadfile") and (docs / "b.png").is_file():
            (docs / "b.png").unlink()
            (docs / "b.png").symlink_to("b.png")

    with Proxy(emulator.base_url, before=break_b) as proxy:
        options = emulator_options(emulator, api_base=proxy.base_url, optimize="lossy", concurrency=1)
        with open_run(resolve(options, tmp_path), docs) as run:
            for name in ("a.png", "b.png"):  # a first: one upload at a time
                assert run.publish(name) is None
            report = run.finish()
    assert list(report.urls) == ["a.png"]
    assert report.errors == {"b.png": "cannot be read (Too many levels of symbolic links): fix the path"}


def test_an_unexpected_error_with_one_image_fails_it_alone_naming_the_error_without_secrets(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug met with one image (here: naming its cloud path) is that image's error, and the others go on."""
    real = uploads.cloud_path

    def buggy(prefix: str, name: str, sha: str) -> str:
        if name == "b.png":
            raise ValueError(f"no path for {name} with {DEFAULT_SECRET}")
        return real(prefix, name, sha)

    monkeypatch.setattr(uploads, "cloud_path", buggy)
    docs = tmp_path / "docs"
    docs.mkdir()
    for n, name in enumerate(("a.png", "b.png", "c.png")):
        (docs / name).write_bytes(png(74 + n))
    with open_run(resolve(emulator_options(emulator, concurrency=1), tmp_path), docs) as run:
        report = run.publish_all(["a.png", "b.png", "c.png"])
    assert report.errors == {"b.png": "unexpected error: ValueError: no path for b.png with ***"}
    assert sorted(report.urls) == ["a.png", "c.png"]
