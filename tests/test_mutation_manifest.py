"""The manifest's behaviours that mutation testing (tools/mutation.py) found no test for.

Each test states what a user or the next run relies on: a journal of a live run is never taken for a
crashed one's, a retirement survives a crash, an unwritable cache or manifest folder is one line
naming the file, a manifest edited by a merge (duplicate keys) still names the line at fault, the
store writes what it holds at every save and keeps another run's entries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import os
import resource
import signal
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml
from filelock import FileLock

from mkdocs_wxcloud.errors import ManifestError
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.manifest import store as store_module
from mkdocs_wxcloud.manifest.hashing import HashCache, HashingReader, sha256_file
from mkdocs_wxcloud.manifest.store import ManifestStore

MANIFEST = "wxcloud-manifest.yml"


def _entry(n: int, **changes: object) -> mf.Entry:
    base = mf.Entry(sha256=f"{n:064x}", size=n, cloud_path=f"docs/{n}.png", file_id=f"cloud://e.b/docs/{n}.png",
                    url=f"https://b.tcb.qcloud.la/docs/{n}.png")  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _journals(cache: Path) -> list[Path]:
    return sorted(cache.glob("journal-*.jsonl"))


def _as_if_of(journal: Path, pid: int) -> Path:
    """The journal renamed as if the process ``pid`` had written it (``journal-<key>-<pid>-<nonce>``)."""
    head, _, nonce = journal.stem.rsplit("-", 2)
    moved = journal.with_name(f"{head}-{pid}-{nonce}.jsonl")
    journal.rename(moved)
    return moved


def _crash(store: ManifestStore) -> Path:
    """Leave ``store``'s journal as a run that was killed leaves it (its process gone)."""
    (journal,) = _journals(store._journal.folder)
    return _as_if_of(journal, 999_999_999)


# -- the journal: whose it is, what it holds ------------------------------------------------------


def test_the_journal_of_a_live_process_is_neither_replayed_nor_signalled(tmp_path: Path) -> None:
    """Another process (a second build, `mkdocs serve`) writing the same manifest is alive: its
    journal is its own, and looking at it must not disturb that process."""
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    writer = ManifestStore(path, cache, "prod")
    writer.put("1.png", _entry(1))
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        (journal,) = _journals(cache)
        journal = _as_if_of(journal, live.pid)
        store = ManifestStore(path, cache, "prod")
        assert store.manifest.images == {} and store.recovered == set()
        store.close()
        assert journal.exists() and mf.read(path).images == {}
        live.send_signal(signal.SIGTERM)  # the first signal it gets: no other was sent to it
        assert live.wait(timeout=60) == -signal.SIGTERM
    finally:
        if live.poll() is None:
            live.kill()
            live.wait()
        assert live.stdin is not None
        live.stdin.close()
    writer._journal.close()


def test_a_journal_whose_name_holds_no_pid_is_a_dead_runs(tmp_path: Path) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    writer = ManifestStore(path, cache, "prod")
    writer.put("1.png", _entry(1))
    (journal,) = _journals(cache)
    head = journal.stem.rsplit("-", 2)[0]
    journal.rename(journal.with_name(f"{head}-x.jsonl"))
    recovered = ManifestStore(path, cache, "prod")
    assert recovered.manifest.images == {"1.png": _entry(1)} and _journals(cache) == []


def test_a_retirement_of_a_killed_run_is_replayed_and_a_shown_object_is_never_journaled(tmp_path: Path) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.put("1.png", _entry(1))
    store.retire(_entry(1).file_id, _entry(1).cloud_path)  # shown by 1.png: nothing to record
    store.retire("cloud://e.b/docs/old.png", "docs/old.png")
    journal = _crash(store)
    assert len(journal.read_text(encoding="utf-8").splitlines()) == 2
    recovered = ManifestStore(path, cache, "prod")
    assert recovered.manifest.retired == {"cloud://e.b/docs/old.png": "docs/old.png"}
    assert mf.read(path).retired == {"cloud://e.b/docs/old.png": "docs/old.png"}


def test_a_store_used_again_after_closing_journals_again(tmp_path: Path) -> None:
    """`mkdocs serve` keeps one store across rebuilds: what the next build uploads is journaled too."""
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.put("1.png", _entry(1))
    store.close()
    assert _journals(cache) == []
    store.put("2.png", _entry(2))
    _crash(store)
    assert set(ManifestStore(path, cache, "prod").manifest.images) == {"1.png", "2.png"}


def test_a_cache_folder_several_levels_deep_is_created(tmp_path: Path) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "a/b/cache"
    ManifestStore(path, cache, "prod").close()  # nothing recorded: the empty manifest is written
    assert mf.read(path) == mf.Manifest() and cache.is_dir()
    path, cache = tmp_path / "site" / MANIFEST, tmp_path / "c/d/cache"
    store = ManifestStore(path, cache, "prod")
    store.put("1.png", _entry(1))
    assert len(_journals(cache)) == 1
    store.close()
    assert mf.read(path).images == {"1.png": _entry(1)}


def test_a_cache_folder_that_is_a_file_is_one_line_naming_what_to_check(tmp_path: Path) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    cache.write_text("not a folder", encoding="utf-8")
    store = ManifestStore(path, cache, "prod")
    with pytest.raises(ManifestError) as refused:
        store.put("1.png", _entry(1))
    journal = store._journal.path
    assert str(refused.value) == f"{journal}: cannot be written (File exists): check `cache_dir`"
    with pytest.raises(ManifestError) as refused:
        ManifestStore(path, cache, "prod").close()
    assert str(refused.value) == f"{path}: cannot be written (File exists): check `manifest` and `cache_dir`"


def test_a_journal_that_cannot_grow_stops_the_upload_it_would_record(tmp_path: Path) -> None:
    """A full disk (here: a file size limit) while a record is written is the run's error, in one line."""
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.ensure_writable()
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, limits[1]))
    try:
        with pytest.raises(ManifestError) as refused:
            store.put("1.png", _entry(1))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert str(refused.value) == f"{store._journal.path}: cannot be written (File too large): check `cache_dir`"


def test_an_unwritable_manifest_folder_is_found_before_the_first_upload(tmp_path: Path) -> None:
    """/proc takes no new file, even from root: the probe must write in the manifest's own folder."""
    store = ManifestStore(Path("/proc/wxcloud-manifest.yml"), tmp_path / "cache", "prod")
    with pytest.raises(ManifestError) as refused:
        store.ensure_writable()
    assert str(refused.value) == (
        "/proc/wxcloud-manifest.yml: cannot be written (No such file or directory): check `manifest` and `cache_dir`"
    )
    deep = tmp_path / "x/y" / MANIFEST
    ManifestStore(deep, tmp_path / "cache", "prod").ensure_writable()
    assert deep.parent.is_dir() and list(deep.parent.iterdir()) == []  # the probe is gone


def test_a_lock_held_too_long_is_one_line_naming_the_lock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.close()
    (lock_file,) = cache.glob("*.lock")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(lock_file.stat().st_mode) == 0o644 & ~umask  # a lock file, not a program
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT", 0.05)
    held = FileLock(str(lock_file))
    with held.acquire(timeout=5):
        store = ManifestStore(path, cache, "prod")
        store.put("1.png", _entry(1))
        with pytest.raises(ManifestError) as refused:
            store.save()
    assert str(refused.value) == (
        f"{path}: another mkdocs-wxcloud run has held the manifest lock for 0 s ({lock_file}): wait for it, "
        "or delete the lock file if no such run is left"
    )
    store.close()
    assert set(mf.read(path).images) == {"1.png"}


# -- the store: what each save writes ----------------------------------------------------------


def test_every_save_writes_all_the_store_holds_and_keeps_the_env(tmp_path: Path) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    path.write_text(mf.to_yaml(mf.Manifest(env="prod")), encoding="utf-8")
    store = ManifestStore(path, cache, None)  # no env configured: the manifest's is kept
    store.put("1.png", _entry(1))
    store.retire("cloud://e.b/docs/old.png", "docs/old.png")
    store.save()
    assert not store.changed_on_disk()
    store.put("2.png", _entry(2))  # after a save: the next one writes it all again
    store.save()
    assert mf.read(path) == mf.Manifest(env="prod", images={"1.png": _entry(1), "2.png": _entry(2)},
                                        retired={"cloud://e.b/docs/old.png": "docs/old.png"})  # fmt: skip
    assert store.get("2.png") == _entry(2) and store.get("3.png") is None


def test_the_first_image_pins_the_env(tmp_path: Path) -> None:
    path = tmp_path / MANIFEST
    store = ManifestStore(path, tmp_path / "cache", "prod")
    store.put("1.png", _entry(1))
    store.close()
    assert mf.read(path).env == "prod"


def test_another_runs_write_is_seen_and_merged_at_each_save(tmp_path: Path) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    first, second = ManifestStore(path, cache, "prod"), ManifestStore(path, cache, "prod")
    first.put("1.png", _entry(1))
    first.save()
    assert not first.changed_on_disk() and second.changed_on_disk()
    second.put("2.png", _entry(2))
    second.save()
    assert first.changed_on_disk()
    first.put("3.png", _entry(3))
    first.save()
    assert set(mf.read(path).images) == {"1.png", "2.png", "3.png"}
    first.close()
    second.close()


def test_a_retirement_alone_is_saved(tmp_path: Path) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.put("1.png", _entry(1))
    store.close()
    store = ManifestStore(path, cache, "prod")
    store.retire("cloud://e.b/docs/old.png", "docs/old.png")
    store.close()
    assert mf.read(path).retired == {"cloud://e.b/docs/old.png": "docs/old.png"}


def test_what_two_runs_both_removed_or_forgot_is_gone_once(tmp_path: Path) -> None:
    """Two `prune` runs at once remove the same entry and forget the same deleted object."""
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.put("1.png", _entry(1))
    store.put("2.png", _entry(2))
    store.retire("cloud://e.b/docs/old.png", "docs/old.png")
    store.close()
    first, second = ManifestStore(path, cache, "prod"), ManifestStore(path, cache, "prod")
    for run in (first, second):
        run.remove("2.png")
        run.forget_retired("cloud://e.b/docs/old.png")
        run.forget_retired("cloud://e.b/docs/never-retired.png")
        assert run.manifest.retired == {}
    first.close()
    second.close()
    assert mf.read(path) == mf.Manifest(env="prod", images={"1.png": _entry(1)})


def test_an_object_retired_again_after_it_was_forgotten_stays_retired(tmp_path: Path) -> None:
    """`prune` forgets an object it deleted; a later retirement of that id in the same run must reach the file."""
    path = tmp_path / MANIFEST
    store = ManifestStore(path, tmp_path / "cache", "prod")
    store.retire("cloud://e.b/docs/old.png", "docs/old.png")
    store.forget_retired("cloud://e.b/docs/old.png")
    store.retire("cloud://e.b/docs/old.png", "docs/old.png")
    store.close()
    assert mf.read(path).retired == {"cloud://e.b/docs/old.png": "docs/old.png"}


def test_an_upload_of_a_retired_object_unretires_it_and_is_found_by_its_hash(tmp_path: Path) -> None:
    store = ManifestStore(tmp_path / MANIFEST, tmp_path / "cache", "prod")
    store.retire(_entry(1).file_id, _entry(1).cloud_path)
    assert store.by_sha(_entry(2).sha256) == {}  # the index of hashes is built
    store.put("1.png", _entry(1))
    assert store.manifest.retired == {}
    store.put("2.png", _entry(2, optimize="lossless"))
    assert store.by_sha(_entry(2).sha256) == {"lossless": _entry(2, optimize="lossless")}
    store.close()


@pytest.mark.parametrize(("on_disk", "saved"), [(3, True), (4, False)])
def test_a_long_run_rewrites_the_manifest_once_a_quarter_of_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_disk: int, saved: bool
) -> None:
    """Between saves the journal holds the uploads; the manifest is rewritten (once the interval has
    passed) only when the changes are at least a quarter of the entries."""
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    path.write_text(mf.to_yaml(mf.Manifest("prod", {f"{n}.png": _entry(n) for n in range(on_disk)})), "utf-8")
    monkeypatch.setattr(store_module, "SAVE_INTERVAL", 0.0)
    store = ManifestStore(path, cache, "prod")
    store.put("new.png", _entry(99))  # one change of on_disk + 1 entries
    assert ("new.png" in mf.read(path).images) is saved
    store.put("newer.png", _entry(100))
    assert ("newer.png" in mf.read(path).images) is not saved  # saved: 1 change of 5; not: 2 of 6
    store.close()


def test_a_warm_store_reads_the_manifest_without_parsing_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parsed manifest is cached by the hash of its text, whoever wrote it last: a large manifest
    costs a warm build no YAML parsing."""
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.put("1.png", _entry(1))
    store.close()
    other = ManifestStore(path, cache, "prod")

    def no_yaml(text: str, where: str) -> mf.Manifest:
        raise AssertionError(f"{where} parsed as YAML")

    monkeypatch.setattr(mf, "from_yaml", no_yaml)
    assert ManifestStore(path, cache, "prod").manifest.images == {"1.png": _entry(1)}
    other.put("2.png", _entry(2))
    other.close()  # merges with the disk as it is now: from the cache, too
    store.put("3.png", _entry(3))
    store.close()
    assert set(ManifestStore(path, cache, "prod").manifest.images) == {"1.png", "2.png", "3.png"}


# -- the manifest file: where each entry is, and what may be in it -------------------------------

_SHA = "ab" * 32


def _image(key: str, **fields: object) -> str:
    raw = {"sha256": _SHA, "size": 1, "cloud_path": "imported/a.png", "file_id": "cloud://e.b/imported/a.png",
           "url": "https://b.tcb.qcloud.la/imported/a.png", **fields}  # fmt: skip
    return yaml.safe_dump({"version": 1, "images": {key: raw}}, allow_unicode=True)


def test_an_imported_file_is_keyed_by_its_source_url_without_a_fragment(tmp_path: Path) -> None:
    source = "https://example.com/a.png"
    assert mf.from_yaml(_image(source, source=source), "m.yml").images[source].source == source
    refused = "the source URL must be an http(s) URL without a #fragment, as mkdocs-wxcloud writes it"
    for key in (source + "#top", "img/a.png"):
        with pytest.raises(ManifestError) as error:
            mf.from_yaml(_image(key, source=source), "m.yml")
        assert str(error.value) == (
            f"m.yml:2: image {key!r}: {refused}: fix it, or restore the manifest from version control "
            "(the manifest was left unchanged)"
        )


def test_the_line_of_each_image_is_known_for_messages(tmp_path: Path) -> None:
    path = tmp_path / MANIFEST
    path.write_text(mf.to_yaml(mf.Manifest("prod", {"a.png": _entry(1), "图/b.png": _entry(2)})), encoding="utf-8")
    assert mf.image_lines(path) == {"a.png": 6, "图/b.png": 12}
    assert mf.image_lines(tmp_path / "missing.yml") == {}
    for text in ("images: [a.png]\n", "- a\n", "images: {a.png: [unclosed\n", "version: 1\n"):
        path.write_text(text, encoding="utf-8")
        assert mf.image_lines(path) == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # a merge left two `retired:` keys: the second counts, the line is the first one's
        (
            "retired:\n  - {file_id: cloud://e.b/a.png, cloud_path: a.png}\nretired:\n"
            "  - {file_id: cloud://e.b/a.png, cloud_path: a.png}\n  - {file_id: x, cloud_path: x}\n",
            "1: retired item 2 field `file_id`",
        ),
        ("retired: none\nretired:\n  - {file_id: x, cloud_path: x}\n", "1: retired item 1 field `file_id`"),
        ("images: [a.png]\nimages:\n  a.png: {sha256: x}\n", "1: image 'a.png' field `sha256`"),
    ],
)
def test_a_manifest_with_a_key_written_twice_names_a_line_of_it(text: str, problem: str) -> None:
    with pytest.raises(ManifestError) as refused:
        mf.from_yaml(text, "m.yml")
    assert str(refused.value).startswith(f"m.yml:{problem}: ")


# -- hashes ------------------------------------------------------------------------------------


def test_hashing_a_file_warns_of_nothing(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG" * 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. a buffering that binary files do not support
        assert sha256_file(image) == hashlib.sha256(b"\x89PNG" * 1000).hexdigest()


class _Trickle(io.RawIOBase):
    """A stream that hands out at most 7 bytes a read, as a pipe or a socket may."""

    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        piece = self._data[self._at : self._at + min(7, len(buffer))]
        buffer[: len(piece)] = piece
        self._at += len(piece)
        return len(piece)

    def seek(self, offset: int, whence: int = 0) -> int:
        self._at = offset
        return offset


def test_an_upload_reader_gathers_short_reads_and_reads_nothing_for_zero(tmp_path: Path) -> None:
    data = bytes(range(100))
    reader = HashingReader(_Trickle(data), 60)  # type: ignore[arg-type]
    assert reader.read(0) == b"" and reader.tell() == 0
    assert reader.read(50) == data[:50] and reader.read() == data[50:60] and reader.read() == b""
    with pytest.raises(OSError, match="^HashingReader can only seek to the start$"):
        reader.seek(5)
    assert reader.seek(0) == 0 and reader.read() == data[:60]  # no callback to tell of the rewind


def test_a_hash_cache_without_a_file_hashes_and_saves_nothing(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"x")
    cache = HashCache(None)
    assert cache.digest("a.png", image) == (sha256_file(image), 1)
    cache.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_a_hash_cache_is_written_only_when_it_learned_something(tmp_path: Path) -> None:
    image, path = tmp_path / "a.png", tmp_path / "hashes.json"
    image.write_bytes(b"x")
    HashCache(path).save()
    assert not path.exists()
    cache = HashCache(path)
    cache.digest("a.png", image)
    cache.save()
    path.unlink()
    cache.save()  # nothing new since the last save
    assert not path.exists()


def test_a_hash_cache_that_cannot_be_saved_is_a_debug_note(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    image, folder = tmp_path / "a.png", tmp_path / "hashes.json"
    image.write_bytes(b"x")
    folder.mkdir()
    (folder / "inside").write_text("x", encoding="utf-8")
    cache = HashCache(folder)
    cache.digest("a.png", image)
    with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.wxcloud"):
        cache.save()
    (message,) = [r.getMessage() for r in caplog.records if r.name == "mkdocs.plugins.wxcloud"]
    assert message.startswith("wxcloud: hash cache not saved: [Errno ") and str(folder) in message


# -- the manifest's text: errors a user reads, and the parsed cache ------------------------------

_LEFT = "fix it or restore it from version control; it was left unchanged"
_KEPT = "fix it, or restore the manifest from version control (the manifest was left unchanged)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("images:\n  a.png: [unclosed\n", f"m.yml:3: the manifest is not valid YAML (did not find expected ',' or ']'): {_LEFT}"),
        ("images: {}\n\x07\n", f"m.yml: the manifest is not valid YAML (not valid YAML): {_LEFT}"),
        ("version: 99\nimages: {}\n", "m.yml:1: `version`: manifest version 99 is not supported by this mkdocs-wxcloud "
                                     "(expects 1): upgrade mkdocs-wxcloud (the manifest was left unchanged)"),
    ],
)  # fmt: skip
def test_a_manifest_that_is_no_yaml_or_of_another_version_says_where_and_what_to_do(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as refused:
        mf.from_yaml(text, "m.yml")
    assert str(refused.value) == message


def _entry_text(key: str = "1.png", **fields: object) -> str:
    raw = {**dataclasses.asdict(_entry(1)), **fields}
    return yaml.safe_dump({"images": {key: raw}}, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (_entry_text(""), "image ''", "the image path must be a non-empty text without control characters"),
        (_entry_text("/1.png"), "image '/1.png'", "the image path must be a normalised path inside docs_dir, as "
                                                  "mkdocs-wxcloud writes it"),
        (_entry_text(".."), "image '..'", "the image path must be a normalised path inside docs_dir, as mkdocs-wxcloud "
                                          "writes it"),
        (_entry_text(cloud_path="docs//1.png", file_id="cloud://e.b/docs//1.png"), "image '1.png' field `cloud_path`",
         "must be a cloud storage path (no leading '/', no empty, '.' or '..' parts)"),
        (_entry_text(cloud_path="docs/./1.png", file_id="cloud://e.b/docs/./1.png"),
         "image '1.png' field `cloud_path`", "must be a cloud storage path (no leading '/', no empty, '.' or '..' parts)"),
        (_entry_text(file_id="e.b/docs/1.png"), "image '1.png' field `file_id`",
         "must be a cloud file id (cloud://env.bucket/path)"),
        (_entry_text(size=-1), "image '1.png' field `size`", "must be a whole number of at least 0"),
        (_entry_text(url="https://[::1/docs/1.png"), "image '1.png' field `url`", "must be an http:// or https:// URL"),
        ("retired:\n- {file_id: \"cloud://e.b/a\\a.png\", cloud_path: a.png}\n", "retired item 1 field `file_id`",
         "must be a cloud file id (cloud://env.bucket/path)"),
    ],
)  # fmt: skip
def test_each_rule_of_an_entry_is_told_in_words(text: str, where: str, problem: str) -> None:
    with pytest.raises(ManifestError) as refused:
        mf.from_yaml(text, "m.yml")
    assert str(refused.value).split(": ", 1)[1] == f"{where}: {problem}: {_KEPT}"


def test_a_plain_http_url_is_a_web_url() -> None:
    entry = mf.from_yaml(_entry_text(url="http://b.tcb.qcloud.la/docs/1.png"), "m.yml").images["1.png"]
    assert entry.url == "http://b.tcb.qcloud.la/docs/1.png"


def test_a_manifest_that_cannot_be_read_is_named_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / MANIFEST
    path.write_bytes(b"images: {}\n# \xff\n")
    with pytest.raises(ManifestError) as refused:
        ManifestStore(path, tmp_path / "cache", "prod")
    assert str(refused.value) == (
        f"{path}: cannot read the manifest ('utf-8' codec can't decode byte 0xff in position 13: invalid start "
        "byte); it was left unchanged"
    )
    assert path.read_bytes() == b"images: {}\n# \xff\n"


def test_the_parsed_manifest_is_cached_and_never_trusted_over_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm read skips YAML; a cached form that is not what the text says (another text, an edit
    that breaks a rule, an envelope without the text's hash) is ignored, never used."""
    from mkdocs_wxcloud import caches

    path, parsed = tmp_path / MANIFEST, tmp_path / "parsed.json"
    full = mf.Manifest("prod", {"1.png": _entry(1, expires=5, width=3, optimize="lossless")}, {"cloud://e.b/o": "o"})
    path.write_text(mf.to_yaml(full), encoding="utf-8")
    assert mf.read(path, parsed) == full  # parsed, and remembered
    parse = mf.from_yaml
    monkeypatch.setattr(mf, "from_yaml", lambda text, where: pytest.fail(f"{where} parsed as YAML"))
    assert mf.read(path, parsed) == full
    document = caches.load(parsed, "manifest", 2)
    assert document is not None
    monkeypatch.setattr(mf, "from_yaml", parse)
    hostile = {**document, "images": {"1.png": {**document["images"]["1.png"], "url": "javascript:alert(1)"}}}
    no_hash = {k: v for k, v in document.items() if k != "sha256"}
    for cached in (hostile, no_hash, {**document, "sha256": "0" * 64}):
        caches.save(parsed, "manifest", 2, cached)
        assert mf.read(path, parsed) == full


def test_each_manifest_sharing_a_cache_replays_only_its_own_journals(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    one, other = tmp_path / "one" / MANIFEST, tmp_path / "other" / MANIFEST
    store = ManifestStore(one, cache, "prod")
    assert not store.changed_on_disk()
    store.put("1.png", _entry(1))
    _crash(store)
    assert ManifestStore(other, cache, "prod").manifest.images == {}
    assert ManifestStore(one, cache, "prod").manifest.images == {"1.png": _entry(1)}
    (lock,) = cache.glob("*.lock")
    assert len(lock.name) == len("manifest-0123456789ab.lock")  # as earlier releases named it (and its journals)
    assert not ManifestStore(one, cache, "prod").changed_on_disk()


def test_a_recovery_replays_what_follows_a_retirement_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.retire("cloud://e.b/docs/old.png", "docs/old.png")
    store.put("1.png", _entry(1))
    _crash(store)
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.wxcloud"):
        recovered = ManifestStore(path, cache, "prod")
    assert recovered.manifest.images == {"1.png": _entry(1)} and recovered.recovered == {"1.png"}
    assert [r.getMessage() for r in caplog.records if r.name == "mkdocs.plugins.wxcloud"] == [
        "wxcloud: recovered 1 journal(s) of an interrupted run"
    ]


def test_a_save_never_undoes_what_another_run_saved_since(tmp_path: Path) -> None:
    """Each run's changes reach the disk once: a later save of this run writes only what changed
    since, so another run's newer entry, retirement or forgetting stays."""
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    first, second = ManifestStore(path, cache, "prod"), ManifestStore(path, cache, "prod")
    first.put("1.png", _entry(1))
    first.retire("cloud://e.b/docs/old.png", "docs/old.png")
    first.save()
    second.put("1.png", _entry(1, url="https://b.tcb.qcloud.la/docs/1.png?v=2"))
    second.forget_retired("cloud://e.b/docs/old.png")
    second.save()
    first.put("2.png", _entry(2))
    first.save()
    assert mf.read(path) == mf.Manifest(
        "prod", {"1.png": _entry(1, url="https://b.tcb.qcloud.la/docs/1.png?v=2"), "2.png": _entry(2)}
    )
    first.retire("cloud://e.b/docs/old.png", "docs/old.png")  # uploaded, and replaced, once more
    first.save()
    second.put("3.png", _entry(3))
    second.save()  # it forgot old.png before this retirement: it keeps it
    assert mf.read(path).retired == {"cloud://e.b/docs/old.png": "docs/old.png"}
    first.close()
    second.close()


def test_a_retirement_journaled_for_another_env_is_not_replayed(tmp_path: Path) -> None:
    path, cache = tmp_path / MANIFEST, tmp_path / "cache"
    store = ManifestStore(path, cache, "test")
    store.retire("cloud://test.b/docs/old.png", "docs/old.png")
    _crash(store)
    assert ManifestStore(path, cache, "prod").manifest.retired == {}
