"""Behaviours that small, plausible bugs broke without a test failing (issue 26).

Each test drives the public surface (a real build, the command, a run, the client, the store) and
fails when one such bug is planted: a mention of an image in any case, percent-encoded or in a
stylesheet keeps it in the site; a journal of a crashed run is replayed whatever its pid, past a
bad line, and never while its run is alive; an HTTP 500 from COS is retried and a cancel ends a
backoff at once; one image's problem fails that image only; a manifest is checked field by field;
a file is replaced atomically, with its mode, even when the writer is killed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from click.testing import CliRunner
from conftest import build, emulator_options, make_site, png, wx_client
from proxy import Exchange, Proxy

from mkdocs_wxcloud.atomic import atomic_file, write_atomic
from mkdocs_wxcloud.cli import main
from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.errors import ManifestError
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.manifest.store import ManifestStore
from mkdocs_wxcloud.publishing.run import open_run
from mkdocs_wxcloud.publishing.settings import resolve
from mkdocs_wxcloud.wechat.client import WxCloudClient
from mkdocs_wxcloud.wechat.errors import Cancelled

MANIFEST = "wxcloud-manifest.yml"
CHILD_TIMEOUT = 60  # seconds a helper process may take (a bound against hanging, not a speed check)


def _entry(n: int) -> mf.Entry:
    return mf.Entry(sha256=f"{n:064x}", size=n, cloud_path=f"docs/{n}.png", file_id=f"cloud://e.b/docs/{n}.png",
                    url=f"https://b.tcb.qcloud.la/docs/{n}.png")  # fmt: skip


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=CHILD_TIMEOUT)


# -- exclude_uploaded: every way a built site may still load a file ------------------------------

_THEME = """{% extends "base.html" %}
{% block extrahead %}
<link rel="icon" href="{{ 'pics/logo.png' | url }}">
<link rel="stylesheet" href="{{ 'theme/skin.css' | url }}">
<script src="{{ 'theme/app.js' | url }}"></script>
<meta property="og:image" content="{{ 'pics/a&amp;b.png' | url }}">
{% endblock %}
"""


def test_exclude_uploaded_keeps_what_templates_stylesheets_and_scripts_load(tmp_path: Path, emulator) -> None:
    """A theme loads ``pics/logo.png`` (the file is ``Logo.PNG``: hosts and browsers on case-insensitive
    file systems load it), a stylesheet the plugin does not rewrite loads ``bg.png``, a script names
    ``图标.png`` percent-encoded, a template ``a&b.png`` HTML-escaped, a text file starts with
    ``first.png``, one that is not UTF-8 names ``scan.tiff``: each stays in the site. What nothing
    loads goes, also when its name ends another file's name that something loads (``icon.png`` in
    ``app-icon.png``, ``old.tif`` in ``scan.tiff``)."""
    shown = ["Logo.PNG", "bg.png", "图标.png", "a&b.png", "first.png", "scan.tiff", "gone.png", "icon.png", "old.tif"]
    files: dict[str, bytes | str] = {f"pics/{name}": png(300 + i) for i, name in enumerate(shown)}
    files["index.md"] = "".join(f"![{i}](pics/{name})\n\n" for i, name in enumerate(shown))
    files["about.md"] = '<span data-asset="pics/app-icon.png">a file with a longer name</span>\n'
    make_site(tmp_path, files, emulator_options(emulator, exclude_uploaded=True),
              theme={"name": "mkdocs", "custom_dir": "overrides"})  # fmt: skip
    overrides = tmp_path / "overrides"
    (overrides / "theme").mkdir(parents=True)
    (overrides / "main.html").write_text(_THEME, encoding="utf-8")
    (overrides / "theme/skin.css").write_text(".hero { background: url(../pics/bg.png) }\n", encoding="utf-8")
    (overrides / "theme/app.js").write_text('const icon = "pics/%E5%9B%BE%E6%A0%87.png";\n', encoding="utf-8")
    (overrides / "theme/preload.txt").write_text("first.png", encoding="utf-8")  # a name at the very start
    (overrides / "theme/legacy.js").write_bytes(b'// \xa9 1999\nvar scan = "pics/scan.tiff";\n')  # Latin-1
    build(tmp_path / "mkdocs.yml")
    site = tmp_path / "site"
    assert len(emulator.stored_files()) == len(shown)  # all uploaded: each is a candidate
    kept = sorted(p.name for p in (site / "pics").iterdir())
    assert kept == sorted(
        ["Logo.PNG", "bg.png", "图标.png", "a&b.png", "first.png", "scan.tiff"]
    )  # nothing loads the rest


# -- the journal: crash safety -------------------------------------------------------------------

_CRASHING_RUN = """
import json, os, sys
from pathlib import Path
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.manifest.store import ManifestStore
store = ManifestStore(Path(sys.argv[1]), Path(sys.argv[2]), "prod")
for n in json.loads(sys.argv[3]):
    if isinstance(n, int):
        store.put(f"{n}.png", mf.Entry(sha256=f"{n:064x}", size=n, cloud_path=f"docs/{n}.png",
                                      file_id=f"cloud://e.b/docs/{n}.png", url=f"https://b.tcb.qcloud.la/docs/{n}.png"))
    else:  # an object in the cloud that holds no image's bytes (the file changed while it was sent)
        store.retire(f"cloud://e.b/docs/{n}", f"docs/{n}")
os._exit(9)  # killed before it saved the manifest
"""


def _crashed_run(manifest: Path, cache: Path, done: list[int | str], pid: int | None = None) -> Path:
    """The journal that a run which did ``done`` (an int: an upload recorded, a str: an object
    retired) and was killed left behind; with ``pid``, as if that run had had this pid (a
    container's build is PID 1 in every life)."""
    child = _python(_CRASHING_RUN, str(manifest), str(cache), json.dumps(done))
    assert child.returncode == 9, child.stderr
    (journal,) = cache.glob("journal-*.jsonl")
    if pid is None:
        return journal
    head, _, nonce = journal.stem.rsplit("-", 2)  # journal-<key>-<pid>-<nonce>
    moved = journal.with_name(f"{head}-{pid}-{nonce}.jsonl")
    journal.rename(moved)
    return moved


def test_a_crashed_runs_retired_objects_are_recovered_for_prune(tmp_path: Path) -> None:
    manifest, cache = tmp_path / MANIFEST, tmp_path / "cache"
    _crashed_run(manifest, cache, [1, "1.changed.png"])
    checking = ManifestStore(manifest, cache, "prod", readonly=True)  # `check` sees it, and writes nothing
    assert checking.manifest.retired == {"cloud://e.b/docs/1.changed.png": "docs/1.changed.png"}
    checking.close()
    store = ManifestStore(manifest, cache, "prod")
    assert store.manifest.retired == {"cloud://e.b/docs/1.changed.png": "docs/1.changed.png"}
    store.close()
    assert mf.read(manifest).retired == {"cloud://e.b/docs/1.changed.png": "docs/1.changed.png"}


def test_journal_named_with_our_own_pid_is_replayed_when_no_store_of_ours_writes_it(tmp_path: Path) -> None:
    manifest, cache = tmp_path / MANIFEST, tmp_path / "cache"
    journal = _crashed_run(manifest, cache, [1, 2], pid=os.getpid())
    assert f"-{os.getpid()}-" in journal.name
    store = ManifestStore(manifest, cache, "prod")
    assert store.manifest.images == {"1.png": _entry(1), "2.png": _entry(2)}
    assert store.recovered == {"1.png", "2.png"}
    store.close()
    assert set(mf.read(manifest).images) == {"1.png", "2.png"} and not journal.exists()


def test_one_bad_line_in_the_middle_of_a_journal_loses_only_that_line(tmp_path: Path) -> None:
    manifest, cache = tmp_path / MANIFEST, tmp_path / "cache"
    journal = _crashed_run(manifest, cache, [1, 2, 3])
    lines = journal.read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[1])
    broken["entry"]["sha256"] = "not a hash"  # edited, or a disk error: not an entry
    journal.write_text("\n".join([lines[0], '{"put": "torn', json.dumps(broken), lines[2]]) + "\n", encoding="utf-8")
    store = ManifestStore(manifest, cache, "prod")
    assert store.manifest.images == {"1.png": _entry(1), "3.png": _entry(3)}
    store.close()


def test_a_line_torn_inside_a_chinese_character_loses_only_that_line(tmp_path: Path) -> None:
    """A kill can cut a line between the bytes of one character: the file is not valid UTF-8."""
    manifest, cache = tmp_path / MANIFEST, tmp_path / "cache"
    journal = _crashed_run(manifest, cache, [1])
    with open(journal, "ab") as handle:
        handle.write('{"put": "图'.encode()[:-1])
    store = ManifestStore(manifest, cache, "prod")
    assert store.manifest.images == {"1.png": _entry(1)}
    store.close()


def test_a_live_store_of_this_process_keeps_its_journal_when_another_store_opens(tmp_path: Path) -> None:
    """Two runs of one process (``mkdocs serve`` and a command, two sites sharing a manifest): the
    second must not take the first one's journal for a crashed run's, fold it in and delete it."""
    manifest, cache = tmp_path / MANIFEST, tmp_path / "cache"
    first = ManifestStore(manifest, cache, "prod")
    first.put("1.png", _entry(1))
    (journal,) = cache.glob("journal-*.jsonl")
    second = ManifestStore(manifest, cache, "prod")
    assert second.recovered == set() and second.manifest.images == {}
    assert journal.exists()  # were the first run killed now, its upload would still be recovered
    first.put("2.png", _entry(2))
    assert [json.loads(line)["put"] for line in journal.read_text(encoding="utf-8").splitlines()] == ["1.png", "2.png"]
    second.close()
    first.close()
    assert set(mf.read(manifest).images) == {"1.png", "2.png"}


# -- the store: what reaches the manifest on disk -------------------------------------------------


def test_removals_and_forgotten_retirements_reach_the_disk_beside_another_runs_upload(tmp_path: Path) -> None:
    """``prune`` removes entries and forgets deleted objects while a build records an upload."""
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    first = ManifestStore(path, cache, "prod")
    first.put("1.png", _entry(1))
    first.put("2.png", _entry(2))
    first.retire("cloud://e.b/docs/old.png", "docs/old.png")
    first.close()
    assert mf.read(path) == mf.Manifest(env="prod", images={"1.png": _entry(1), "2.png": _entry(2)},
                                        retired={"cloud://e.b/docs/old.png": "docs/old.png"})  # fmt: skip
    pruning, building = ManifestStore(path, cache, "prod"), ManifestStore(path, cache, "prod")
    pruning.remove("2.png")
    pruning.forget_retired("cloud://e.b/docs/old.png")
    building.put("3.png", _entry(3))
    building.close()
    pruning.close()
    assert mf.read(path) == mf.Manifest(env="prod", images={"1.png": _entry(1), "3.png": _entry(3)}, retired={})


def test_an_object_that_an_image_shows_is_never_retired_and_check_records_nothing(tmp_path: Path) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.put("1.png", _entry(1))
    store.retire(_entry(1).file_id, _entry(1).cloud_path)  # another image's upload had the same bytes
    store.close()
    assert mf.read(path).retired == {}
    checking = ManifestStore(path, cache, "prod", readonly=True)
    checking.retire("cloud://e.b/docs/x.png", "docs/x.png")
    assert not list(cache.glob("journal-*.jsonl"))
    checking.close()
    assert mf.read(path).retired == {}


def test_identical_content_is_found_by_its_hash_until_its_entry_goes(tmp_path: Path) -> None:
    store = ManifestStore(tmp_path / MANIFEST, tmp_path / "cache", "prod")
    store.put("1.png", _entry(1))
    assert store.by_sha(_entry(1).sha256) == {"": _entry(1)} and store.by_sha(_entry(2).sha256) == {}
    store.put("copy/1.png", _entry(1))
    store.save()
    assert store.by_sha(_entry(1).sha256) == {"": _entry(1)}
    store.remove("1.png")
    store.remove("copy/1.png")
    assert store.by_sha(_entry(1).sha256) == {}
    store.close()


# -- hashes cached by size and time --------------------------------------------------------------


def test_a_warm_run_trusts_size_and_time_and_rehashes_what_changed(tmp_path: Path) -> None:
    """The next run takes an unchanged file's hash from the cache without reading it (so a file
    rewritten with its old size and time keeps its old hash: the documented trade); a new time,
    a new size or ``force`` reads it again."""
    from mkdocs_wxcloud.manifest.hashing import HashCache, sha256_file

    image, cache = tmp_path / "a.png", tmp_path / "hashes.json"
    image.write_bytes(png(1))
    first = HashCache(cache)
    assert first.digest("a.png", image) == (sha256_file(image), len(png(1)))
    first.save()
    when = image.stat().st_mtime_ns
    image.write_bytes(png(2))  # new bytes, the same size
    os.utime(image, ns=(when, when))
    warm = HashCache(cache)
    old = (first.digest("a.png", image)[0], len(png(1)))
    assert warm.cached("a.png", image.stat()) == old and warm.digest("a.png", image) == old
    assert warm.digest("a.png", image, force=True) == (sha256_file(image), len(png(1))) != old
    os.utime(image, ns=(when + 10**9, when + 10**9))
    assert HashCache(cache).digest("a.png", image)[0] == sha256_file(image)  # a new time: read again
    image.write_bytes(png(3, size=16))
    os.utime(image, ns=(when, when))
    assert HashCache(cache).cached("a.png", image.stat()) is None  # a new size
    saved = HashCache(cache)
    saved.digest("a.png", image)
    saved.save()
    document = json.loads(cache.read_text(encoding="utf-8"))
    size, mtime, sha = document["data"]["files"]["a.png"]
    assert HashCache(cache).cached("a.png", image.stat()) == (sha, size)
    for damaged in ([size, mtime, "x"], [size, mtime], [size, mtime, sha, 0], [float(size), mtime, sha]):
        cache.write_text(json.dumps({**document, "data": {"files": {"a.png": damaged}}}), encoding="utf-8")
        assert HashCache(cache).cached("a.png", image.stat()) is None, damaged  # rebuilt from the files
    for damaged_file in ("not json", "[]", json.dumps({**document, "data": {"files": [1]}})):
        cache.write_text(damaged_file, encoding="utf-8")
        assert HashCache(cache).cached("a.png", image.stat()) is None


def test_an_upload_reader_sends_exactly_the_declared_size_and_hashes_what_it_sent(tmp_path: Path) -> None:
    """An upload declares its length first: a file that shrank is padded, one that grew is cut, and
    the digest is that of the bytes sent (so a changed file is caught); a retry rewinds it."""
    import hashlib

    from mkdocs_wxcloud.manifest.hashing import HashingReader

    data = bytes(range(256)) * 300
    (tmp_path / "a.bin").write_bytes(data)
    told: list[int] = []
    with open(tmp_path / "a.bin", "rb") as handle:
        reader = HashingReader(handle, len(data), told.append)
        first = reader.read(1000)
        assert len(first) == 1000 and len(reader) == len(data) - 1000 and reader.tell() == 1000
        assert first + reader.read() == data and reader.read(5) == b"" and len(reader) == 0
        assert reader.hexdigest() == hashlib.sha256(data).hexdigest() and told == [1000, len(data) - 1000]
        assert reader.seek(0) == 0 and told[-1] == -len(data) and reader.tell() == 0 and len(reader) == len(data)
        assert reader.read(None) == data and reader.hexdigest() == hashlib.sha256(data).hexdigest()  # type: ignore[arg-type]
        with pytest.raises(OSError):
            reader.seek(10)
    for size, sent in ((len(data) + 10, data + bytes(10)), (100, data[:100])):  # it shrank / it grew
        with open(tmp_path / "a.bin", "rb") as handle:
            reader = HashingReader(handle, size)
            assert reader.read(len(data) * 2) == sent and reader.hexdigest() == hashlib.sha256(sent).hexdigest()


# -- retries: a COS 500 is retried, a cancel ends a backoff at once ------------------------------


def _client(emu: Emulator, **options: Any) -> WxCloudClient:
    return wx_client(emu.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET,
                     **{"max_retries": 4, "backoff": 0.01, "timeout": 10.0, **options})  # fmt: skip


def test_cos_http_500_is_retried(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    failed: list[str] = []

    def internal_error_once(request: Exchange) -> Exchange | None:
        if request.method == "POST" and "/cos/" in request.path and not failed:
            failed.append(request.path)
            body = b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
            return Exchange(request.method, request.path, request.body, 500, {"Content-Type": "application/xml"}, body)
        return None

    image = tmp_path / "a.png"
    image.write_bytes(png(5))
    with Proxy(emulator.base_url, before=internal_error_once) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)  # COS is reached through it as well
        for name in ("NO_PROXY", "no_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        with _client(emulator) as client:
            client.upload("t/a.png", image)
        assert failed and proxy.count(emulator.base_url + "/cos/") == 2  # the 500, then the retry
    assert emulator.stored_files()["t/a.png"] == png(5)


def test_cancel_ends_a_long_retry_wait_at_once(tmp_path: Path, emulator: Emulator) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(png(6))
    emulator.fail_next("quota", count=5, path_prefix="/tcb/uploadfile")  # then a 60 s wait (minute quota)
    outcome: Future[str] = Future()

    def upload() -> None:
        try:
            outcome.set_result(client.upload("t/a.png", image))
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            outcome.set_exception(error)

    with _client(emulator, quota_wait=60.0) as client:
        worker = threading.Thread(target=upload, daemon=True)
        worker.start()
        while emulator.request_count("/tcb/uploadfile") < 1 and worker.is_alive():
            threading.Event().wait(0.01)
        client.cancel()
        worker.join(timeout=30)  # well before the 60 s wait would end by itself
        assert not worker.is_alive(), "cancel() did not end the retry wait"
    with pytest.raises(Cancelled, match="interrupted"):
        outcome.result(timeout=0)
    assert emulator.request_count("/tcb/uploadfile") == 1 and emulator.stored_files() == {}


# -- uploads: one image's problem, a cancelled run ----------------------------------------------


def test_an_image_that_keeps_changing_fails_alone(tmp_path: Path, caplog_wxcloud: pytest.LogCaptureFixture) -> None:
    """Each time its upload link is asked for, the file is rewritten: its bytes are never those
    hashed, and after a few tries that image fails; the others are uploaded all the same."""
    docs = tmp_path / "docs"
    edits = iter(range(1000))

    def rewrite_a(request: Exchange) -> None:
        if "tcb/uploadfile" in request.path and b"/a." in request.body:  # docs/a.<hash>.png
            (docs / "a.png").write_bytes(b"\x89PNG" + next(edits).to_bytes(8, "big") * 8)  # same size, new bytes
        return None

    files: dict[str, bytes | str] = {"a.png": b"\x89PNG" + b"\xff" * 64, **{f"{n}.png": png(n) for n in range(4)}}
    files["index.md"] = "".join(f"![{n}]({n}.png)\n\n" for n in ["a", 0, 1, 2, 3])
    with Emulator() as emu, Proxy(emu.base_url, before=rewrite_a) as api:
        make_site(tmp_path, files, {**emulator_options(emu, concurrency=1), "api_base": api.base_url})
        build(tmp_path / "mkdocs.yml")
        stored = emu.stored_files()
    assert sorted(bytes(v) for k, v in stored.items() if not k.startswith("docs/a.")) == sorted(
        png(n) for n in range(4)
    )
    messages = [r.getMessage() for r in caplog_wxcloud.records if r.levelno >= 30]
    assert messages == [
        "wxcloud: image 'a.png' not published, the site links the local file: "
        "kept changing while it was uploaded: run again once it is saved"
    ]
    page = (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert 'src="a.png"' in page and page.count(emu.base_url) == 4


class _CountingPool(ThreadPoolExecutor):
    """The caller's upload pool (as ``mkdocs serve`` keeps one), counting the work given to it."""

    def __init__(self) -> None:
        super().__init__(2)
        self.tasks = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        self.tasks += 1
        return super().submit(fn, *args, **kwargs)


def test_a_cancelled_run_says_interrupted_and_starts_nothing_more(tmp_path: Path) -> None:
    n = 12
    files: dict[str, bytes | str] = {f"img/{i}.png": png(400 + i) for i in range(n + 1)}
    with Emulator(latency=0.2) as emu, _CountingPool() as pool:  # the first upload is still under way
        make_site(tmp_path, files, emulator_options(emu, concurrency=1))
        settings = resolve(emulator_options(emu, concurrency=1), tmp_path)
        with open_run(settings, tmp_path / "docs", executor=pool) as run:
            for i in range(n):
                run.schedule(f"img/{i}.png")
            run.cancel()  # Ctrl-C: the upload under way finishes, the rest is dropped
            started = pool.tasks
            assert run.publish(f"img/{n}.png") is None
            assert pool.tasks == started  # no upload starts after the cancel
            report = run.finish()
        stored = len(emu.stored_files())
    interrupted = "not uploaded: the run was interrupted"
    assert {i: report.errors.get(f"img/{i}.png") for i in range(1, n + 1)} == dict.fromkeys(
        range(1, n + 1), interrupted
    )
    assert stored <= 1  # at most the upload under way finished (its link may not have been asked for)
    assert "interrupted" in report.errors.get("img/0.png", "interrupted")


# -- file ids that cannot be written in a page ---------------------------------------------------


def test_rewrite_never_writes_a_file_id_holding_a_comma(tmp_path: Path, emulator: Emulator,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A comma ends a srcset candidate: such an id (from before cloud paths avoided commas) is
    written as its URL, with a warning."""
    monkeypatch.chdir(tmp_path)
    page = '<img src="img/a.png" srcset="img/a.png 2x, img/b.png 3x" alt="a">\n'
    make_site(tmp_path, {"index.md": page, "img/a.png": png(1), "img/b.png": png(2)}, emulator_options(emulator))
    runner = CliRunner()
    assert runner.invoke(main, ["sync"], catch_exceptions=False).exit_code == 0
    data = yaml.safe_load((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    legacy = data["images"]["img/a.png"]
    old = legacy["cloud_path"]
    new = old.replace("/a.", "/a,1.")
    for field in ("cloud_path", "file_id", "url"):
        legacy[field] = legacy[field].replace(old, new)
    (tmp_path / MANIFEST).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(main, ["rewrite", "docs", "-o", "out", "--link", "file-id", "--offline"],
                           catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    written = (tmp_path / "out/index.md").read_text(encoding="utf-8")
    assert legacy["file_id"] not in written and "cloud://" in written  # b.png's id is fine
    url = legacy["url"].replace(",", "%2C")  # quoted: a URL keeps no comma either
    assert f'srcset="{url} 2x, {data["images"]["img/b.png"]["file_id"]} 3x"' in written
    assert "its file id cannot be written in a page as it is" in result.output


# -- the manifest's schema -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"url": "https://b.tcb.qcloud.la/docs/a b.png"}, "url"),
        ({"url": "https:///docs/1.png"}, "url"),
        ({"url": "https:docs/1.png"}, "url"),
        ({"version": True}, "version"),
    ],
)
def test_manifest_refuses_urls_with_spaces_or_no_host_and_a_boolean_version(
    tmp_path: Path, change: dict, named: str
) -> None:
    data: dict[str, Any] = {"version": mf.VERSION, "images": {"1.png": dataclasses.asdict(_entry(1))}}
    if "version" in change:
        data.update(change)
    else:
        data["images"]["1.png"].update(change)
    path = tmp_path / MANIFEST
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(ManifestError, match=f"`?{named}`?") as refused:
        ManifestStore(path, tmp_path / "cache", None)
    assert "\n" not in str(refused.value) and named in str(refused.value)
    assert path.read_bytes() == before


_REFUSED = [
    ("optimize", "x" * 81), ("done", "x" * 201), ("optimize", 5), ("done", "a\x07b"),
    ("width", 0), ("width", 100_001), ("height", True), ("height", "12"),
    ("size", -1), ("size", True), ("stored_size", -1), ("expires", "soon"), ("sha256", "AB" * 32),
]  # fmt: skip
_ACCEPTED = {"optimize": "x" * 80, "done": "x" * 200, "width": 1, "height": 100_000, "size": 0, "stored_size": 0}


@pytest.mark.parametrize(("field", "value"), _REFUSED)
def test_every_field_of_an_entry_is_checked(tmp_path: Path, field: str, value: object) -> None:
    """Widths go into pages, notes into messages: a value a pull request slips in is refused, named."""
    raw = {**dataclasses.asdict(_entry(1)), field: value}
    path = tmp_path / MANIFEST
    path.write_text(yaml.safe_dump({"version": mf.VERSION, "images": {"1.png": raw}}), encoding="utf-8")
    with pytest.raises(ManifestError, match=f"image '1.png' field `{field}`"):
        ManifestStore(path, tmp_path / "cache", None)


def test_fields_at_their_limits_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / MANIFEST
    raw = {**dataclasses.asdict(_entry(1)), **_ACCEPTED}
    path.write_text(yaml.safe_dump({"version": mf.VERSION, "images": {"1.png": raw}}), encoding="utf-8")
    entry = ManifestStore(path, tmp_path / "cache", None).manifest.images["1.png"]
    assert {name: getattr(entry, name) for name in _ACCEPTED} == _ACCEPTED


_GOOD = (
    "version: 1\nenv: prod\nimages:\n  1.png:\n    sha256: '" + "1".rjust(64, "0") + "'\n    size: 1\n"
    "    cloud_path: docs/1.png\n    file_id: cloud://e.b/docs/1.png\n    url: https://b.tcb.qcloud.la/docs/1.png\n"
    "retired:\n  - file_id: cloud://e.b/docs/old.png\n    cloud_path: docs/old.png\n"
)


_FIX = "fix it, or restore the manifest from version control (the manifest was left unchanged)"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (_GOOD + "  - just text\n", f"13: retired item 2: must be a mapping of exactly file_id and cloud_path: {_FIX}"),
        (_GOOD + "  - file_id: cloud://e.b/x.png\n    cloud_path: docs/x.png\n    size: 1\n",
         f"13: retired item 2: must be a mapping of exactly file_id and cloud_path: {_FIX}"),
        (_GOOD + "  - file_id: cloud://e.b/x.png\n    cloud_path: ''\n",
         f"14: retired item 2 field `cloud_path`: must be a non-empty text without control characters: {_FIX}"),
        (_GOOD + "  - file_id: ''\n    cloud_path: docs/x.png\n",
         f"13: retired item 2 field `file_id`: must be a cloud file id (cloud://env.bucket/path): {_FIX}"),
        (_GOOD + "imagez: {}\n", f"13: `imagez`: unknown key (a manifest has version, env, images and retired): {_FIX}"),
        (_GOOD.replace("env: prod", "env: 5"), f"2: `env`: must be a cloud environment id: {_FIX}"),
        (_GOOD.split("retired:")[0] + "retired: {}\n", f"10: `retired`: must be a list of {{file_id, cloud_path}}: {_FIX}"),
        ("version: 1\nimages: []\n", f"2: `images`: must be a mapping of docs paths to entries: {_FIX}"),
        ("- a\n- b\n", "1: the manifest: not a mkdocs-wxcloud manifest (the top level must be a mapping with "
                       f"`images:`): {_FIX}"),
        (_GOOD.replace("    size: 1\n", ""), f"4: image '1.png' field `size`: is missing: {_FIX}"),
        (_GOOD.replace("    size: 1\n", "    size: 1\n    colour: red\n"),
         "7: image '1.png' field `colour`: unknown field (an entry has sha256, size, cloud_path, file_id, url, "
         "expires, stored_size, width, height, optimize, done, source): upgrade mkdocs-wxcloud if a newer one wrote it, "
         f"else {_FIX}"),
        (_GOOD.replace("file_id: cloud://e.b/docs/1.png", "file_id: cloud://e.b/docs/2.png"),
         f"8: image '1.png' field `file_id`: must be the id of the entry's cloud_path (cloud://env.bucket/<cloud_path>): {_FIX}"),
        (_GOOD.split("  1.png:")[0] + "  1.png: 5\n",
         f"4: image '1.png': must be a mapping of sha256, size, cloud_path, file_id and url: {_FIX}"),
        (_GOOD.replace("  1.png:", "  ../1.png:"), "4: image '../1.png': the image path must be a normalised path "
                                                  f"inside docs_dir, as mkdocs-wxcloud writes it: {_FIX}"),
    ],
)  # fmt: skip
def test_a_broken_manifest_names_the_line_and_the_item_at_fault(tmp_path: Path, text: str, problem: str) -> None:
    """One line: where (file, line, image or item, field), what is wrong, what to do."""
    path = tmp_path / MANIFEST
    path.write_text(_GOOD, encoding="utf-8")
    assert mf.read(path).retired == {"cloud://e.b/docs/old.png": "docs/old.png"}  # the good part alone is fine
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as refused:
        ManifestStore(path, tmp_path / "cache", "prod")
    assert str(refused.value) == f"{path}:{problem}"


_NOTE = "oxipng: 5 B -> 3 B, " * 5
_FULL = mf.Entry(sha256="ab" * 32, size=5, cloud_path="docs/图/b.png", file_id="cloud://e.b/docs/图/b.png",
                 url="https://b.tcb.qcloud.la/docs/%E5%9B%BE/b.png?sign=" + "x" * 100 + "&t=1", expires=1700000000,
                 stored_size=3, width=10, height=20, optimize="lossless", done=_NOTE.strip())  # fmt: skip
_PLAIN = mf.Entry(sha256="cd" * 32, size=1, cloud_path="docs/a.png", file_id="cloud://e.b/docs/a.png")
_BOTH = mf.Manifest(env="prod", images={"图/b.png": _FULL, "a.png": _PLAIN},
                    retired={"cloud://e.b/docs/old.png": "docs/old.png"})  # fmt: skip


def test_the_manifest_text_is_one_line_per_field_in_a_fixed_order() -> None:
    """The file is committed and reviewed in diffs: its layout is part of what it is."""
    assert mf.to_yaml(_BOTH) == (
        "# Images of this site in WeChat cloud storage, written by mkdocs-wxcloud.\n"
        "# Commit this file: it lets builds and `mkdocs-wxcloud check` skip the network.\n"
        "version: 1\nenv: prod\nimages:\n"
        "  a.png:\n    sha256: " + "cd" * 32 + "\n    size: 1\n    cloud_path: docs/a.png\n"
        "    file_id: cloud://e.b/docs/a.png\n    url: ''\n"
        "  图/b.png:\n    sha256: " + "ab" * 32 + "\n    size: 5\n    cloud_path: docs/图/b.png\n"
        "    file_id: cloud://e.b/docs/图/b.png\n    url: " + _FULL.url + "\n    expires: 1700000000\n"
        "    stored_size: 3\n    width: 10\n    height: 20\n    optimize: lossless\n"
        "    done: '" + _NOTE.strip() + "'\n"
        "retired:\n  - file_id: cloud://e.b/docs/old.png\n    cloud_path: docs/old.png\n"
    )


def test_a_warm_read_of_the_manifest_gives_what_the_yaml_says(tmp_path: Path) -> None:
    """The parsed form is cached beside the manifest: every field and the retired list survive it."""
    path, cache = tmp_path / MANIFEST, tmp_path / "parsed.json"
    path.write_text(mf.to_yaml(_BOTH), encoding="utf-8")
    assert mf.read(path, cache) == _BOTH and cache.exists()
    assert mf.read(path, cache) == _BOTH  # from the cache
    path.write_text(mf.to_yaml(mf.Manifest(env="prod", images={"a.png": _PLAIN})), encoding="utf-8")
    assert mf.read(path, cache) == mf.Manifest(env="prod", images={"a.png": _PLAIN})  # the text changed


# -- atomic writes -------------------------------------------------------------------------------


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / MANIFEST
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("the writer failed")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder/inside").write_text("x", encoding="utf-8")
    with pytest.raises(OSError):
        write_atomic(tmp_path / "folder", "a directory cannot be replaced by a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", MANIFEST]
    assert target.read_text(encoding="utf-8") == "old\n"


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / MANIFEST
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    write_atomic(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text(encoding="utf-8") == "new\n"
    write_atomic(target, "newer\n", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    fresh = tmp_path / "fresh.yml"
    write_atomic(fresh, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask  # as open() would have made it


_WRITER = """
import sys
from pathlib import Path
from mkdocs_wxcloud.atomic import write_atomic
target, contents = Path(sys.argv[1]), [Path(p).read_bytes() for p in sys.argv[2:]]
print("ready", flush=True)
while True:
    for content in contents:
        write_atomic(target, content)
"""


def test_a_writer_killed_at_any_moment_leaves_the_old_or_the_new_content(tmp_path: Path) -> None:
    manifests = [mf.to_yaml(mf.Manifest(env="prod", images={f"{k}/{n}.png": _entry(n) for n in range(4000)}))
                 for k in ("old", "new")]  # fmt: skip
    contents = [text.encode() for text in manifests]
    sources = []
    for name, content in zip(("old", "new"), contents):
        sources.append(tmp_path / f"{name}.source")
        sources[-1].write_bytes(content)
    target = tmp_path / "site" / MANIFEST
    target.parent.mkdir()
    target.write_bytes(contents[0])
    chance = random.Random(26)
    for _ in range(12):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), *map(str, sources)],
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        threading.Event().wait(chance.uniform(0.0, 0.05))  # a random moment in a write
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=CHILD_TIMEOUT)
        writer.stdout.close()
        assert target.read_bytes() in contents  # never torn, never empty
    for leftover in target.parent.glob(".*.tmp"):  # what a killed writer could not remove
        leftover.unlink()
