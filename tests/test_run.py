"""The spine: one schema for every host, one run type, lookups that never write, caches never misread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import build, emulator_options, make_site, png

from mkdocs_wxcloud import caches
from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.hosts.markdown.extension import WxCloudExtension
from mkdocs_wxcloud.hosts.mkdocs.config import WxCloudConfig
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.manifest.hashing import HashCache
from mkdocs_wxcloud.publishing.current import State
from mkdocs_wxcloud.publishing.run import Mode, open_run
from mkdocs_wxcloud.publishing.settings import Settings, resolve


def test_every_host_takes_the_options_of_the_one_schema() -> None:
    names = {option.name for option in Settings.options()}
    assert {name for name, _ in WxCloudConfig._schema} == names
    assert names <= set(WxCloudExtension().getConfigs())
    for option in Settings.options():  # each is checked, defaults included
        assert option.check(option.name, option.default) is not None or option.default is None


def test_a_variable_fills_an_option_left_empty_and_an_option_wins_over_it(tmp_path: Path) -> None:
    settings = resolve({"env": None}, tmp_path, environ={"WXCLOUD_ENV": "from-variable"})
    assert settings.env == "from-variable"
    assert resolve({"env": "written"}, tmp_path, environ={"WXCLOUD_ENV": "v"}).env == "written"
    assert resolve({}, tmp_path, environ={}).api_base == Settings.api_base.default


def _published(tmp_path: Path, emu: Emulator) -> Settings:
    make_site(tmp_path, {"index.md": "![a](a.png)\n", "a.png": png(1), "copy.png": png(1)}, emulator_options(emu))
    build(tmp_path / "mkdocs.yml")
    return resolve(emulator_options(emu), tmp_path)


def test_a_lookup_writes_nothing(tmp_path: Path, emulator: Emulator) -> None:
    settings = _published(tmp_path, emulator)
    manifest = (tmp_path / "wxcloud-manifest.yml").read_bytes()
    with open_run(settings, tmp_path / "docs", Mode(offline=True)) as run:
        status = run.resolve("copy.png")  # the same bytes as a.png: the build would take its entry
        assert status.state is State.ELSEWHERE and status.url and status.adopted
        assert run.store.get("copy.png") is None and not list(settings.cache_dir.glob("journal-*"))
        assert run.finish().summary.reused == 0  # a lookup is not a use
    assert (tmp_path / "wxcloud-manifest.yml").read_bytes() == manifest


def test_publishing_records_what_a_lookup_only_reports(tmp_path: Path, emulator: Emulator) -> None:
    settings = _published(tmp_path, emulator)
    emulator.reset_counts()
    with open_run(settings, tmp_path / "docs") as run:
        run.schedule("copy.png")  # the same bytes as a.png: no upload, its entry is recorded at the end
        summary = run.finish().summary
    assert (summary.uploaded, summary.reused, summary.requests) == (0, 1, 0) and emulator.request_count() == 0
    assert "copy.png" in mf.read(tmp_path / "wxcloud-manifest.yml").images


def test_a_poisoned_manifest_cache_never_reaches_a_page(tmp_path: Path, emulator: Emulator) -> None:
    """The parsed form of the manifest is cached: a cache that says `javascript:` is refused by the
    schema, as the manifest would be, and the YAML is read instead."""
    _published(tmp_path, emulator)
    cached = next((tmp_path / ".cache/plugin/wxcloud").glob("manifest-*.json"))
    document = json.loads(cached.read_text(encoding="utf-8"))
    document["data"]["images"]["a.png"]["url"] = "javascript:alert(1)"
    cached.write_text(json.dumps(document), encoding="utf-8")
    build(tmp_path / "mkdocs.yml")
    page = (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert "javascript:" not in page and emulator.base_url in page


@pytest.mark.parametrize("document", [
    {"cache": "references", "format": 1, "data": {"files": {"a.png": [74, 0, "a" * 64]}}},  # another kind
    {"cache": "hashes", "format": 99, "data": {"files": {"a.png": [74, 0, "a" * 64]}}},  # another format
    {"cache": "hashes", "format": 1, "data": {"files": {"a.png": [True, 0, "a" * 64]}}},  # a bool is no size
    {"version": 1, "files": {"a.png": [74, 0, "a" * 64]}},  # as an older release wrote it: fields by position
])  # fmt: skip
def test_a_foreign_or_stale_cache_is_ignored_never_misread(tmp_path: Path, document: dict) -> None:
    path = tmp_path / "hashes.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    image = tmp_path / "a.png"
    image.write_bytes(png(7))
    info = image.stat()
    path.write_text(json.dumps(document).replace('"a.png": [74, 0', f'"a.png": [{info.st_size}, {info.st_mtime_ns}'))
    assert HashCache(path).cached("a.png", info) is None  # a miss: the file is hashed again


def test_the_cache_rule_round_trips_by_name(tmp_path: Path) -> None:
    caches.save(tmp_path / "c.json", "kind", 3, {"a": 1})
    assert caches.load(tmp_path / "c.json", "kind", 3) == {"a": 1}
    assert caches.load(tmp_path / "c.json", "kind", 4) is None and caches.load(tmp_path / "c.json", "other", 3) is None
    (tmp_path / "c.json").write_text("{torn", encoding="utf-8")
    assert caches.load(tmp_path / "c.json", "kind", 3) is None


def test_an_image_an_old_release_stored_when_its_optimizer_died_is_optimized_again(
    tmp_path: Path, emulator: Emulator
) -> None:
    import images

    make_site(tmp_path, {"index.md": "![p](photo.jpg)\n", "photo.jpg": images.photo()},
              emulator_options(emulator, optimize="lossless"))  # fmt: skip
    build(tmp_path / "mkdocs.yml")
    manifest = tmp_path / "wxcloud-manifest.yml"
    done = mf.read(manifest).images["photo.jpg"].done
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        f"done: {done}", "done: 'kept: the optimizer''s process failed on it'"), encoding="utf-8")  # fmt: skip
    emulator.reset_counts()
    build(tmp_path / "mkdocs.yml")
    assert mf.read(manifest).images["photo.jpg"].done == done  # optimized again, and recorded so


def test_command_output_escapes_control_characters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from inprocess import cli

    monkeypatch.chdir(tmp_path)
    make_site(tmp_path, {"index.md": "![x](evil\x1b]52;c;aGk=\x07.png)\n"}, {})
    result = cli("check")
    assert result.exit_code == 1 and "\x1b" not in result.stdout and "\\x1b" in result.stdout
