"""Behaviours that mutation testing found unpinned (issue 26) in the token cache, the upload
offloading, the client, the uploads and the run.

Each test goes through the public surface (the token cache as the client uses it, a client or a run
against the emulator or a loopback server, over real HTTP), so that it still holds when the code moves.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import emulator_options, png, wx_client
from proxy import Exchange, Proxy
from test_offload import BUILD, _idle_cores, _images, _started  # noqa: F401 - _idle_cores: autouse here too

from mkdocs_wxcloud.children import cores
from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.errors import ConfigError
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.publishing.offload import OFFLOAD_AT, UploadProcess
from mkdocs_wxcloud.publishing.run import Mode, open_run
from mkdocs_wxcloud.publishing.settings import resolve
from mkdocs_wxcloud.publishing.sources import ImageProblem
from mkdocs_wxcloud.wechat.errors import Cancelled
from mkdocs_wxcloud.wechat.tokens import EXPIRY_MARGIN, TokenCache, token_cache_key


def test_the_cache_hands_out_the_later_of_its_memory_and_its_file_and_nothing_about_to_expire(tmp_path: Path) -> None:
    later = time.time() + 7200
    writer = TokenCache(tmp_path)
    writer.store("acct", "on-disk", later)
    reader = TokenCache(tmp_path)
    reader.remember({"acct": ("in-memory", later - 60)})
    assert reader.load("acct") == ("on-disk", later)
    reader.remember({"acct": ("in-memory", later + 60)})
    assert reader.load("acct") == ("in-memory", later + 60)
    soon = time.time() + EXPIRY_MARGIN - 5
    short = TokenCache(None)
    short.store("acct", "short-lived", soon)
    assert short.load("acct") is None
    assert short.remembered() == {"acct": ("short-lived", soon)}
    (entry,) = tmp_path.iterdir()
    assert entry.name.startswith("token-") and entry.name.endswith(".json")
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert json.loads(entry.read_text(encoding="utf-8")) == {"token": "on-disk", "expires_at": later}
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_the_cache_is_written_beside_itself_whatever_the_system_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary file is made in the cache's folder (os.replace cannot cross file systems), so a
    missing or full system temporary folder costs nothing."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    expires = time.time() + 7200
    TokenCache(tmp_path / "cache").store("acct", "kept", expires)
    assert TokenCache(tmp_path / "cache").load("acct") == ("kept", expires)


def test_a_cache_key_is_the_file_name_every_version_shares_and_only_a_trailing_slash_is_dropped() -> None:
    """Other builds (and other installed versions) find a token by this key: it must not drift."""
    key = token_cache_key("https://api.example.com/", "wx1")
    assert key == hashlib.sha256(b"https://api.example.com\nwx1").hexdigest()[:32]
    assert token_cache_key("https://api.example.comX", "wx1") != token_cache_key("https://api.example.com", "wx1")


def test_a_key_that_is_no_file_name_is_refused_naming_what_a_key_is(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^token cache key must match \[A-Za-z0-9_-\]\{1,64\}$"):
        TokenCache(tmp_path).store("../escape", "t", time.time() + 7200)
    assert not list(tmp_path.parent.glob("escape*"))


TWO_CORES = pytest.mark.skipif(cores() < 2, reason="the upload process is started only with a second core")


@TWO_CORES
def test_bytes_sent_by_the_upload_process_are_stored_whole_answered_with_their_id_until_cancelled(
    tmp_path: Path, emulator: Emulator
) -> None:
    """What an optimized image uploads (bytes made in memory) goes through the child unchanged."""
    docs = _images(tmp_path, OFFLOAD_AT, emulator)
    with open_run(resolve(emulator_options(emulator), tmp_path), docs, BUILD) as run:
        process = _started(run)
        file_id = process.send_bytes("docs/made/x.png", png(7), "x.png")
        process.cancel()
        with pytest.raises(Cancelled):
            process.send_bytes("docs/made/late.png", png(8), "late.png")
        run.finish()
    assert emulator.stored_files()["docs/made/x.png"] == png(7)
    assert "docs/made/late.png" not in emulator.stored_files()
    assert emulator.file_ids()["docs/made/x.png"] == file_id


@TWO_CORES
def test_the_upload_process_starts_while_another_thread_holds_a_lock_and_counts_what_it_sends(
    tmp_path: Path, emulator: Emulator
) -> None:
    """The process is spawned, not forked: a fork must first take the locks other threads hold (here the
    logging module's), so it would wait for them, and a build thread would wait for the fork."""
    settings = resolve(emulator_options(emulator), tmp_path)
    with open_run(settings, _images(tmp_path, 1, emulator)) as run:
        client = run.uploads.client()
        held, release = threading.Event(), threading.Event()
        released: list[bool] = []

        def hold() -> None:
            with logging._lock:  # type: ignore[attr-defined]
                held.set()
                released.append(release.wait(30))  # False: the process waited for this lock

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(10)
            before = set(threading.enumerate())
            process = UploadProcess(settings, client)
            started = [thread.name for thread in set(threading.enumerate()) - before]
            ready = process.ready.wait(30)
        finally:
            release.set()
            holder.join()
        try:
            assert ready and released == [True], "the upload process waited for a lock held by another thread"
            assert process.requests_made == 0  # nothing sent yet
            assert started and all(name.startswith("wxcloud-") for name in started), started  # as a run's own
            assert process.send_bytes("docs/made/y.png", png(8), "y.png")
            assert process.requests_made == 3  # a token (the run had none to hand over), the link, the storage
        finally:
            process.close()
    assert emulator.stored_files()["docs/made/y.png"] == png(8)


# -- the run: lookups, scheduling, and the second chance of a file WeChat does not see yet -----------------


def _docs(tmp_path: Path, count: int) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    for n in range(count):
        (docs / f"{n}.png").write_bytes(png(300 + n))
    return docs


def test_an_offline_lookup_gives_the_size_on_screen_that_the_manifest_recorded(
    tmp_path: Path, emulator: Emulator
) -> None:
    """``dimensions: true`` in an offline build: nothing is published, the size comes from the manifest."""
    docs = _docs(tmp_path, 2)
    settings = resolve(emulator_options(emulator, dimensions=True), tmp_path)
    with open_run(settings, docs) as run:
        run.publish_all(["0.png"])
    with open_run(settings, docs, Mode(offline=True)) as run:
        assert run.resolve("0.png").url
        assert run.size_on_screen("0.png") == (8, 8)
        assert run.size_on_screen("1.png") is None  # never uploaded


def test_sync_with_dimensions_measures_what_an_earlier_run_uploaded_without_sending_it_again(
    tmp_path: Path, emulator: Emulator
) -> None:
    docs = _docs(tmp_path, 1)
    with open_run(resolve(emulator_options(emulator), tmp_path), docs) as run:
        run.publish_all(["0.png"])
    settings = resolve(emulator_options(emulator, dimensions=True), tmp_path)
    assert mf.read(settings.manifest).images["0.png"].width is None
    emulator.reset_counts()
    with open_run(settings, docs) as run:
        assert run.publish_all(["0.png"]).errors == {}
    entry = mf.read(settings.manifest).images["0.png"]
    assert (entry.width, entry.height) == (8, 8) and emulator.request_count("/tcb/uploadfile") == 0


def _not_yet(asked: list[list[str]], calls: int = 1) -> Callable[[Exchange], Exchange]:
    """The proxy's hook: the first ``calls`` link calls do not see 1.png; ``asked`` gets the names each
    link call asks for (the stems of the cloud names: stem.hash.png)."""

    def edit(answer: Exchange) -> Exchange:
        if answer.path.startswith("/tcb/batchdownloadfile"):
            data = json.loads(answer.answer)
            asked.append(sorted(item["fileid"].rsplit("/", 1)[-1].split(".")[0] for item in data["file_list"]))
            if len(asked) <= calls:
                for item in data["file_list"]:
                    if item["fileid"].rsplit("/", 1)[-1].startswith("1."):
                        item.update(status=1, download_url="", errmsg="STORAGE_FILE_NONEXIST")
                answer.answer = json.dumps(data).encode()
        return answer

    return edit


def test_only_the_file_the_link_call_did_not_see_yet_is_uploaded_and_linked_again(
    tmp_path: Path, emulator: Emulator
) -> None:
    """WeChat may answer STORAGE_FILE_NONEXIST for a file it has just stored: that file, and no other, is
    sent once more and asked for again."""
    docs, asked = _docs(tmp_path, 3), []
    with Proxy(emulator.base_url, after=_not_yet(asked)) as proxy:
        settings = resolve(emulator_options(emulator, api_base=proxy.base_url), tmp_path)
        with open_run(settings, docs) as run:
            report = run.publish_all(["0.png", "1.png", "2.png"])
    assert report.errors == {} and sorted(report.urls) == ["0.png", "1.png", "2.png"]
    assert asked == [["0", "1", "2"], ["1"]] and proxy.count("/tcb/uploadfile") == 4
    assert all(entry.url for entry in mf.read(settings.manifest).images.values())


def test_a_file_an_earlier_run_stored_and_the_cloud_lost_is_one_error_not_a_new_upload(
    tmp_path: Path, emulator: Emulator
) -> None:
    """Only what this run stored is sent again on STORAGE_FILE_NONEXIST; an older file is `sync --repair`'s."""
    docs = _docs(tmp_path, 2)
    settings = resolve(emulator_options(emulator), tmp_path)
    with open_run(settings, docs) as run:  # closed before finish (Ctrl-C): stored, recorded, not linked
        run.publish("0.png")
        run.publish("1.png")
        run.uploads.wait()
    lost = mf.read(settings.manifest).images["1.png"]
    assert lost.url == ""
    with wx_client(emulator.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET) as client:
        assert client.delete([lost.file_id]) == {}
    emulator.reset_counts()
    with open_run(settings, docs) as run:
        report = run.publish_all(["0.png", "1.png"])
    assert list(report.errors) == ["1.png"] and "STORAGE_FILE_NONEXIST" in report.errors["1.png"]
    assert list(report.urls) == ["0.png"] and emulator.request_count("/tcb/uploadfile") == 0


def test_a_file_wechat_still_does_not_see_once_sent_again_is_one_error_naming_why(
    tmp_path: Path, emulator: Emulator
) -> None:
    docs, asked = _docs(tmp_path, 3), []
    with Proxy(emulator.base_url, after=_not_yet(asked, calls=2)) as proxy:
        settings = resolve(emulator_options(emulator, api_base=proxy.base_url), tmp_path)
        with open_run(settings, docs) as run:
            report = run.publish_all(["0.png", "1.png", "2.png"])
    assert report.errors == {"1.png": "no download link: STORAGE_FILE_NONEXIST"}
    assert sorted(report.urls) == ["0.png", "2.png"] and asked == [["0", "1", "2"], ["1"]]
    assert report.summary.failed == 1


def test_a_file_waiting_for_its_link_is_measured_when_dimensions_is_turned_on(
    tmp_path: Path, emulator: Emulator
) -> None:
    """Stored by a run without ``dimensions`` that ended before its links (Ctrl-C): the next run, with
    ``dimensions: true``, links it and records its size on screen, without sending it again."""
    docs = _docs(tmp_path, 1)
    with open_run(resolve(emulator_options(emulator), tmp_path), docs) as run:
        run.publish("0.png")
        run.uploads.wait()
    settings = resolve(emulator_options(emulator, dimensions=True), tmp_path)
    assert mf.read(settings.manifest).images["0.png"].width is None
    emulator.reset_counts()
    with open_run(settings, docs) as run:
        report = run.publish_all(["0.png"])
    assert report.sizes == {"0.png": (8, 8)} and report.urls["0.png"]
    entry = mf.read(settings.manifest).images["0.png"]
    assert (entry.width, entry.height) == (8, 8) and entry.url == report.urls["0.png"]
    assert emulator.request_count("/tcb/uploadfile") == 0


def test_the_summary_counts_what_was_uploaded_stored_saved_and_failed(tmp_path: Path, emulator: Emulator) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(3):
        (docs / f"{n}.png").write_bytes(png(n, size=64, noisy=True))
    emulator.fail_next("cos_entity_too_large", 1, "/cos/")  # one of the three, refused for good
    settings = resolve(emulator_options(emulator, optimize="lossy"), tmp_path)
    with open_run(settings, docs) as run:
        report = run.publish_all(["0.png", "1.png", "2.png"])
    entries = mf.read(settings.manifest).images.values()
    summary = report.summary
    assert (summary.uploaded, summary.reused, summary.failed) == (2, 0, 1)
    [why] = report.errors.values()
    assert why.startswith("COS upload failed: HTTP 400 EntityTooLarge: ")
    assert summary.bytes == sum(e.stored for e in entries) == sum(map(len, emulator.stored_files().values()))
    assert summary.saved == sum(e.size - e.stored for e in entries) > 0
    assert 0 < summary.seconds < 600


def test_an_entry_edited_to_have_a_width_and_no_height_gives_pages_no_size(tmp_path: Path, emulator: Emulator) -> None:
    """The manifest is input (a pull request can edit it): a size goes into pages whole, or not at all."""
    docs = _docs(tmp_path, 1)
    settings = resolve(emulator_options(emulator, dimensions=True), tmp_path)
    with open_run(settings, docs) as run:  # closed before finish: stored, waiting for its link
        run.publish("0.png")
        run.uploads.wait()
    text = settings.manifest.read_text(encoding="utf-8")
    assert "    width: 8\n" in text and "    height: 8\n" in text
    settings.manifest.write_text(text.replace("    height: 8\n", ""), encoding="utf-8")
    with open_run(settings, docs) as run:
        report = run.publish_all(["0.png"])
    assert report.urls["0.png"] and report.sizes == {}


@TWO_CORES
def test_the_upload_process_is_started_by_the_upload_that_reaches_its_threshold_not_before(
    tmp_path: Path, emulator: Emulator
) -> None:
    docs = _images(tmp_path, OFFLOAD_AT, emulator)
    with open_run(resolve(emulator_options(emulator), tmp_path), docs, BUILD) as run:
        for n in range(OFFLOAD_AT - 1):
            assert run.publish(f"img/{n}.png") is None
        assert run.uploads.process is None
        assert run.publish(f"img/{OFFLOAD_AT - 1}.png") is None
        assert run.uploads.process is not None
        assert len(run.finish().urls) == OFFLOAD_AT


def test_an_offline_run_refuses_to_upload_in_words(tmp_path: Path, emulator: Emulator) -> None:
    docs = _docs(tmp_path, 1)
    with open_run(resolve(emulator_options(emulator), tmp_path), docs, Mode(offline=True)) as run:
        with pytest.raises(ConfigError) as refused:
            run.publish("0.png")
    assert str(refused.value) == "offline: files are not uploaded" and emulator.request_count() == 0


@pytest.mark.parametrize("inside", ["docs/wxcloud.yml", "docs/sub/wxcloud.yml", "docs"])
def test_a_manifest_inside_docs_dir_is_refused_naming_the_option_and_why(
    tmp_path: Path, emulator: Emulator, inside: str
) -> None:
    docs = _docs(tmp_path, 1)
    settings = resolve(emulator_options(emulator, manifest=inside), tmp_path)
    with pytest.raises(ConfigError) as refused, open_run(settings, docs):
        pass
    assert str(refused.value) == (
        f"option `manifest` ({tmp_path / inside}) is inside docs_dir {docs}: MkDocs would publish it and "
        "`mkdocs serve` would rebuild in a loop; keep it beside the site's configuration"
    )


def test_a_run_cancelled_once_its_files_were_sent_asks_for_no_link_and_says_why(
    tmp_path: Path, emulator: Emulator
) -> None:
    """Ctrl-C after the uploads: each file is stored and recorded, and waits for its link (the next run)."""
    docs = _docs(tmp_path, 2)
    settings = resolve(emulator_options(emulator), tmp_path)
    with open_run(settings, docs) as run:
        for n in range(2):
            run.publish(f"{n}.png")
        run.uploads.wait()
        run.cancel()
        report = run.finish()
    why = "no download link: the run was interrupted: nothing more is sent"
    assert report.errors == {"0.png": why, "1.png": why} and report.urls == {}
    assert emulator.request_count("/tcb/batchdownloadfile") == 0
    assert [entry.url for entry in mf.read(settings.manifest).images.values()] == ["", ""]


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("a\x00b.png", "is not a valid file name (it holds a NUL byte): fix the path"),
        ("folder.png", "is not a regular file (a directory?): fix the path"),
    ],
)
def test_a_path_that_names_no_file_to_publish_says_why_and_what_to_do(
    tmp_path: Path, emulator: Emulator, path: str, why: str
) -> None:
    docs = _docs(tmp_path, 1)
    (docs / "folder.png").mkdir()
    with open_run(resolve(emulator_options(emulator), tmp_path), docs) as run:
        with pytest.raises(ImageProblem) as refused:
            run.publish(path)
    assert str(refused.value) == why and emulator.request_count() == 0
