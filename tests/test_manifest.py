"""The manifest, its store (journal, lock, merge) and cloud paths."""

from __future__ import annotations

import dataclasses
import json
import posixpath
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mkdocs_wxcloud.errors import ManifestError
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.manifest import schema
from mkdocs_wxcloud.manifest.store import ManifestStore
from mkdocs_wxcloud.publishing.cloudpath import MAX_ENCODED_BYTES, cloud_path

SHA = "ab" * 32


def _entry(n: int, **kw: object) -> mf.Entry:
    base = {"sha256": f"{n:064x}", "size": n, "cloud_path": f"docs/{n}.png", "file_id": f"cloud://e.b/docs/{n}.png",
            "url": f"https://b.tcb.qcloud.la/docs/{n}.png"}  # fmt: skip
    return mf.Entry(**{**base, **kw})


def test_yaml_is_deterministic_readable_and_round_trips() -> None:
    manifest = mf.Manifest(
        env="prod", images={"图/b.png": _entry(2), "a.png": _entry(1)}, retired={"cloud://x": "x.png"}
    )
    text = mf.to_yaml(manifest)
    assert text == mf.to_yaml(mf.from_yaml(text, "m.yml"))
    assert text.index("a.png:") < text.index("图/b.png:")  # sorted, Chinese written as is
    assert mf.from_yaml(text, "m.yml") == manifest


# texts that YAML reads in other ways, or that need quotes, among ordinary names and Chinese ones
_YAML_TEXT = st.text(
    st.sampled_from(list("aZ09_-./:%=@+~ #'\",[]{}&*!|>?\\\t\n\x85\xa0\u2028\ufeff图片ª")), max_size=12
)
_YAML_WORDS = st.sampled_from(["", "yes", "null", "~", "123", "0x1F", "1_000", ".inf", "2024-01-01", "<<", "=", "-",
                               "a:", "图:", "-a", "https://h:1/a.png?sign=x&t=1", "a?", "a&", "?a", "&a", "kept: already as small", "it's: x", "a" * 127, "a" * 128,
                               "a" * 129])  # fmt: skip


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # the manifest's own (libyaml's emitter differs in corners)


@settings(max_examples=300, deadline=None)
@given(key=st.one_of(_YAML_TEXT, _YAML_WORDS), text=st.one_of(_YAML_TEXT, _YAML_WORDS), size=st.integers(0, 1 << 40))
def test_manifest_is_written_byte_for_byte_as_pyyaml_writes_it(key: str, text: str, size: int) -> None:
    """Entries are written without PyYAML when their form is certain: the text must be PyYAML's own."""
    entry = mf.Entry(sha256=text, size=size, cloud_path=text, file_id="cloud://e.b/" + text, url=text, done=text)
    fields = {k: v for k, v in dataclasses.asdict(entry).items() if v not in (None, "") or k == "url"}
    dumped = yaml.dump({key: fields}, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, width=1 << 16)
    expected = "images:\n" + textwrap.indent(dumped, "  ")
    written = mf.to_yaml(mf.Manifest(env="e", images={key: entry}))
    assert written[written.index("images:\n") :] == expected


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("images:\n  a.png: [unclosed\n", "m.yml:"),
        ("- just\n- a list\n", "not a mkdocs-wxcloud manifest"),
        ("images:\n  a.png:\n    sha256: x\n", "m.yml:3: image 'a.png' field `sha256`"),
        ("version: 99\nimages: {}\n", "version 99"),
    ],
)
def test_broken_manifest_is_one_clear_error_and_never_overwritten(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "m.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match=where) as error:
        ManifestStore(path, tmp_path / "cache", "prod")
    assert "\n" not in str(error.value)
    assert path.read_text(encoding="utf-8") == text


def test_manifest_of_another_env_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text(mf.to_yaml(mf.Manifest(env="test-env")), encoding="utf-8")
    with pytest.raises(ManifestError, match="written for env 'test-env'.*'prod'"):
        ManifestStore(path, tmp_path / "cache", "prod")


def test_unchanged_store_does_not_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    store = ManifestStore(path, tmp_path / "cache", "prod")
    store.put("a.png", _entry(1))
    store.close()
    before = path.stat().st_mtime_ns, path.read_bytes()
    store = ManifestStore(path, tmp_path / "cache", "prod")
    store.put("a.png", _entry(1))
    store.close()
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_concurrent_stores_merge_instead_of_overwriting(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    first = ManifestStore(path, tmp_path / "cache", "prod")
    second = ManifestStore(path, tmp_path / "cache", "prod")
    first.put("a.png", _entry(1))
    second.put("b.png", _entry(2))
    first.close()
    second.close()
    assert set(mf.read(path).images) == {"a.png", "b.png"}


def test_journal_of_a_dead_run_is_replayed(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    cache = tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.put("a.png", _entry(1))  # journaled; the run "dies" before saving
    journal = next(cache.glob("journal-*.jsonl"))
    dead = journal.with_name(f"journal-{journal.name.split('-')[1]}-999999999-dead.jsonl")
    journal.rename(dead)
    with open(dead, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"put": "b.png", "entry": dataclasses.asdict(_entry(2))}) + "\n")
        handle.write('{"put": "torn li')  # a line cut by the kill
    assert not path.exists()
    recovered = ManifestStore(path, cache, "prod")
    assert set(recovered.manifest.images) == {"a.png", "b.png"}
    assert set(mf.read(path).images) == {"a.png", "b.png"} and not dead.exists()


def test_readonly_store_sees_journals_but_writes_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = tmp_path / "m.yml"
    writer = ManifestStore(path, cache, "prod")
    writer.put("a.png", _entry(1))
    journal = next(cache.glob("journal-*.jsonl"))
    dead = journal.with_name(f"journal-{journal.name.split('-')[1]}-999999999-dead.jsonl")
    journal.rename(dead)
    store = ManifestStore(path, cache, "prod", readonly=True)
    assert set(store.manifest.images) == {"a.png"}
    store.put("b.png", _entry(2))
    store.close()
    assert not path.exists() and dead.exists()


def test_replaced_upload_is_retired_until_pruned(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    store = ManifestStore(path, tmp_path / "cache", "prod")
    store.put("a.png", _entry(1))
    store.put("a.png", _entry(2))
    store.close()
    manifest = mf.read(path)
    assert manifest.retired == {_entry(1).file_id: _entry(1).cloud_path}


def test_cloud_path_has_the_hash_keeps_chinese_and_obeys_the_rules() -> None:
    path = cloud_path("docs", "界面/首页 截图.PNG", SHA)
    assert path == f"docs/界面/首页_截图.{SHA[:12]}.png"  # a file id with it can be written in a page as it is
    assert cloud_path("", "封面 (1), 'x'.png", SHA) == f"封面__1____x_.{SHA[:12]}.png"
    assert cloud_path("", "a[1]~#.png", SHA) == f"a_1___.{SHA[:12]}.png"
    assert cloud_path("/pre/", "../x.png", SHA).startswith("pre/x.")
    long = cloud_path("docs", "长" * 400 + ".png", SHA)
    assert long == f"docs/{SHA}.png" and len(quote(long).encode()) <= MAX_ENCODED_BYTES
    assert cloud_path("docs", "a.png", SHA) != cloud_path("docs", "a.png", "cd" * 32)


def _kill_journal(store: ManifestStore) -> Path:
    """Make the journal of ``store`` look like the one of a run that died."""
    journal = store._journal.path
    dead = journal.with_name(f"journal-{journal.name.split('-')[1]}-999999999-dead.jsonl")
    journal.rename(dead)
    return dead


def test_journal_replay_skips_another_env_and_retires_replaced_uploads(tmp_path: Path) -> None:
    path, cache = tmp_path / "m.yml", tmp_path / "cache"
    store = ManifestStore(path, cache, "prod")
    store.put("a.png", _entry(1))
    store.close()
    other = ManifestStore(path.with_name("other.yml"), cache, "test")  # same cache, other manifest
    other.put("a.png", _entry(9))
    store = ManifestStore(path, cache, "prod")
    store.put("a.png", _entry(2))  # the image changed; the run dies before saving
    _kill_journal(store)
    recovered = ManifestStore(path, cache, "prod")
    assert recovered.manifest.images["a.png"] == _entry(2)
    assert recovered.manifest.retired == {_entry(1).file_id: _entry(1).cloud_path}
    assert recovered.recovered == {"a.png"}
    other.close()


def test_journal_records_of_another_env_are_not_replayed(tmp_path: Path) -> None:
    path, cache = tmp_path / "m.yml", tmp_path / "cache"
    store = ManifestStore(path, cache, "test")
    store.put("a.png", _entry(1))
    _kill_journal(store)
    assert ManifestStore(path, cache, "prod").manifest.images == {}


@settings(max_examples=300, deadline=None)
@given(path=st.text(st.sampled_from(list("a图./ ")), min_size=1, max_size=10))
def test_an_image_path_is_accepted_only_normalised_and_inside_docs(path: str) -> None:
    """One regex decides what ``posixpath.normpath`` and the climbing rule decided (and "." is no file)."""
    inside = path == posixpath.normpath(path) and not path.startswith(("/", "../")) and path not in (".", "..")
    entry = {"sha256": "0" * 64, "size": 1, "cloud_path": "a.png", "file_id": "cloud://e.b/a.png", "url": ""}
    try:
        schema.check_image(path, entry)
    except schema.Invalid:
        assert not inside
    else:
        assert inside
    cloud = {**entry, "cloud_path": path, "file_id": f"cloud://e.b/{path}"}
    try:
        schema.check_image("a.png", cloud)
    except schema.Invalid:
        assert not inside
    else:
        assert inside
