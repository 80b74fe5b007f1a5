"""The ``mkdocs-wxcloud`` command line end to end: in-process (CliRunner) and as a real subprocess,
always against the emulator over real HTTP."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from conftest import emulator_options, free_port, make_site, png, start_emulator, stop_emulator, wx_client
from inprocess import cli

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator

SCRIPT = Path(sys.executable).parent / "mkdocs-wxcloud"
MANIFEST = "wxcloud-manifest.yml"
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers there


# -- helpers -------------------------------------------------------------------------------------


def run(*args: object, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed console script as a user would."""
    return subprocess.run(
        [str(SCRIPT), *map(str, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def manifest(root: Path, name: str = MANIFEST) -> dict:
    return yaml.safe_load((root / name).read_text(encoding="utf-8"))


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative POSIX path -> bytes), caches (.cache/...) left out."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.relative_to(root).as_posix().startswith(".cache/")
    }


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def site(root: Path, emu: Emulator, files: dict[str, bytes | str], **plugin: object) -> Path:
    return make_site(root, files, emulator_options(emu, **plugin))


def set_plugin(root: Path, plugin: dict) -> None:
    """Replace the plugin options of an existing ``root/mkdocs.yml`` (same docs, same manifest)."""
    path = root / "mkdocs.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["plugins"] = [{"wxcloud": plugin}]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def summary_line(stderr: str) -> str:
    """The final summary: uploaded (bytes), reused, failed, seconds."""
    last = lines(stderr)[-1]
    assert re.search(r"\d+ uploaded \(\d+(\.\d)? (B|KB|MB|GB)\), \d+ reused, \d+ failed in \d+\.\d s", last), stderr
    return last


# -- sync ----------------------------------------------------------------------------------------


def test_sync_uploads_exactly_the_missing_images_and_links_50_per_call(here: Path, emulator: Emulator) -> None:
    files: dict[str, bytes | str] = {f"img/i{n:03}.png": png(n) for n in range(120)}
    files["index.md"] = "# Many\n\n" + "".join(f"![{n}](img/i{n:03}.png)\n\n" for n in range(120))
    files["sub/page.md"] = "![same bytes](../img/copy.png)\n\n![again](../img/i000.png)\n"
    files["img/copy.png"] = png(0)  # identical to i000.png: one upload for both
    files["img/unused.png"] = png(200)  # no page references it: never uploaded
    site(here, emulator, files)
    docs = tree(here / "docs")

    result = cli("sync")
    assert result.exit_code == 0, result.stderr
    assert emulator.request_count("/tcb/uploadfile") == 120
    assert emulator.request_count("/tcb/batchdownloadfile") == 3  # 120 distinct file ids, 50 a call
    assert emulator.request_count("/tcb/batchdeletefile") == 0
    stored = emulator.stored_files()
    assert sorted(stored.values()) == sorted(png(n) for n in range(120))
    images = manifest(here)["images"]
    assert set(images) == {f"img/i{n:03}.png" for n in range(120)} | {"img/copy.png"}
    assert images["img/copy.png"]["file_id"] == images["img/i000.png"]["file_id"]
    for path, entry in images.items():
        assert entry["url"].startswith(emulator.base_url)
        assert stored[entry["cloud_path"]] == (here / "docs" / path).read_bytes()
    assert "120 uploaded" in summary_line(result.stderr)
    assert tree(here / "docs") == docs  # sync never touches a page or an image

    # nothing missing: not a single request, the manifest byte for byte the same
    before = (here / MANIFEST).read_bytes()
    emulator.reset_counts()
    result = cli("sync")
    assert result.exit_code == 0, result.stderr
    assert emulator.request_count() == 0
    assert (here / MANIFEST).read_bytes() == before
    assert "0 uploaded" in summary_line(result.stderr)

    # one new image and one changed image: exactly two uploads, one link call
    old = images["img/i005.png"]
    (here / "docs/img/new.png").write_bytes(png(201))
    (here / "docs/img/i005.png").write_bytes(png(202))
    (here / "docs/sub/page.md").write_text("![n](../img/new.png)\n\n![c](../img/copy.png)\n", encoding="utf-8")
    emulator.reset_counts()
    result = cli("sync")
    assert result.exit_code == 0, result.stderr
    assert emulator.request_count("/tcb/uploadfile") == 2
    assert emulator.request_count("/tcb/batchdownloadfile") == 1
    images = manifest(here)["images"]
    assert images["img/new.png"]["url"].startswith(emulator.base_url)
    assert images["img/i005.png"]["cloud_path"] != old["cloud_path"]  # changed content, new path
    assert emulator.stored_files()[images["img/i005.png"]["cloud_path"]] == png(202)
    assert {r["file_id"] for r in manifest(here).get("retired", [])} == {old["file_id"]}
    last = summary_line(result.stderr)
    assert "2 uploaded" in last and "0 failed" in last


def test_sync_dry_run_lists_paths_and_changes_nothing(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {
        "index.md": "![a](img/a.png)\n\n![b](img/b.png)\n",
        "中文/页面.md": "![图](../图片/截图 一.png)\n",
        "img/a.png": png(1), "img/b.png": png(2), "图片/截图 一.png": png(3),
    })  # fmt: skip
    result = cli("sync", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert lines(result.stdout) == ["img/a.png", "img/b.png", "图片/截图 一.png"]
    assert emulator.request_count() == 0
    assert not (here / MANIFEST).exists()

    # after a real sync of one page, the dry run lists only what is still missing
    (here / "docs/index.md").write_text("![a](img/a.png)\n", encoding="utf-8")
    assert cli("sync").exit_code == 0
    (here / "docs/index.md").write_text("![a](img/a.png)\n\n![b](img/b.png)\n", encoding="utf-8")
    before = (here / MANIFEST).read_bytes()
    emulator.reset_counts()
    result = cli("sync", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert lines(result.stdout) == ["img/b.png"]
    assert emulator.request_count() == 0
    assert (here / MANIFEST).read_bytes() == before


def test_sync_and_check_as_subprocesses(tmp_path: Path, emulator: Emulator) -> None:
    site(tmp_path, emulator, {
        "index.md": "# Home\n\n![a](img/a.png)\n",
        # raw HTML resolves against the page's URL (guide/page/), Markdown against its file
        "guide/page.md": "Text\n\n<img src=\"../../img/b.png\">\n\n![a again](../img/a.png)\n",
        "img/a.png": png(1), "img/b.png": png(2),
    })  # fmt: skip
    check = run("check", cwd=tmp_path)
    assert check.returncode == 1, check.stderr
    assert re.search(r"^docs/index\.md:3: img/a\.png: .*not in the manifest.*mkdocs-wxcloud sync", check.stdout, re.M)
    assert re.search(r"^docs/guide/page\.md:3: \.\./\.\./img/b\.png: .*mkdocs-wxcloud sync", check.stdout, re.M)
    assert emulator.request_count() == 0

    sync = run("sync", cwd=tmp_path)
    assert sync.returncode == 0, sync.stderr
    assert emulator.request_count("/tcb/uploadfile") == 2
    assert "2 uploaded" in summary_line(sync.stderr)
    assert "Traceback" not in sync.stderr

    # the CI gate: no credentials, an API base where nothing listens, no request
    set_plugin(tmp_path, {})
    emulator.reset_counts()
    check = run("check", cwd=tmp_path, env={"WXCLOUD_API_BASE": NOWHERE})
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == ""
    assert emulator.request_count() == 0

    sync = run("sync", "--dry-run", cwd=tmp_path)
    assert sync.returncode == 0 and sync.stdout.strip() == ""


def test_writing_commands_leave_a_corrupt_manifest_alone(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](img/a.png)\n", "img/a.png": png(1)})
    docs = tree(here / "docs")
    broken = b"version: 1\nimages:\n  img/a.png: {sha256: [unclosed\n"
    (here / MANIFEST).write_bytes(broken)
    for command in (["sync"], ["sync", "--dry-run"], ["prune", "--yes"], ["rewrite", "docs", "--in-place"]):
        result = cli(*command)
        assert result.exit_code == 2, command
        assert len(lines(result.stderr)) == 1 and MANIFEST in result.stderr, (command, result.stderr)
        assert (here / MANIFEST).read_bytes() == broken
    assert tree(here / "docs") == docs
    assert emulator.request_count() == 0


def test_sync_from_elsewhere_takes_docs_dir_and_plugin_options(here: Path, emulator: Emulator) -> None:
    make_site(here / "site", {"index.md": "![a](img/a.png)\n", "img/a.png": png(1)},
              emulator_options(emulator, prefix="handbook/v1", manifest="meta/images.yml"))  # fmt: skip
    result = cli("sync", "-f", "site/mkdocs.yml")
    assert result.exit_code == 0, result.stderr
    assert not (here / MANIFEST).exists() and not (here / "site" / MANIFEST).exists()
    entry = manifest(here / "site", "meta/images.yml")["images"]["img/a.png"]
    assert entry["cloud_path"].startswith("handbook/v1/img/a.")
    assert list(emulator.stored_files()) == [entry["cloud_path"]]
    result = cli("rewrite", "-f", "site/mkdocs.yml", "site/docs", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert tree(here / "out") == {"index.md": f"![a]({entry['url']})\n".encode()}
    assert cli("check", "-f", "site/mkdocs.yml").exit_code == 0
    outside = here / "README.md"
    outside.write_text("![a](site/docs/img/a.png)\n", encoding="utf-8")
    result = cli("rewrite", "-f", "site/mkdocs.yml", "README.md", "--in-place")
    assert result.exit_code == 2 and "README.md" in result.stderr
    assert outside.read_text(encoding="utf-8") == "![a](site/docs/img/a.png)\n"


# -- check ---------------------------------------------------------------------------------------

CHECK_PAGE = """# Guide

![ok](../img/ok.png)

![new](../img/new.png)

<img src="../../img/changed.png" width="10">

![gone](../img/gone.png)

```md
![in code](../img/incode.png)
```
"""


def _problem_site(root: Path, emu: Emulator) -> None:
    """A synced site, then one image added, one changed and one reference to a missing file."""
    site(root, emu, {
        "guide/page.md": "![ok](../img/ok.png)\n\n<img src=\"../../img/changed.png\">\n",
        "img/ok.png": png(1), "img/changed.png": png(2), "img/new.png": png(3), "img/incode.png": png(4),
    })  # fmt: skip
    assert cli("sync").exit_code == 0
    (root / "docs/guide/page.md").write_text(CHECK_PAGE, encoding="utf-8")
    (root / "docs/img/changed.png").write_bytes(png(22))
    emu.reset_counts()


def test_check_clean_site_needs_no_credentials_and_no_network(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](img/a.png)\n\n<img src=\"img/b.png\">\n", "img/a.png": png(1),
                          "img/b.png": png(2)})  # fmt: skip
    assert cli("sync").exit_code == 0
    before = (here / MANIFEST).read_bytes()
    emulator.reset_counts()
    for plugin in ({}, {"api_base": NOWHERE}, {"api_base": emulator.base_url, "env": DEFAULT_ENV}):
        set_plugin(here, plugin)
        result = cli("check")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert result.stdout == ""
        assert "0 problem(s)" in result.stderr
    assert emulator.request_count() == 0
    assert (here / MANIFEST).read_bytes() == before


def test_check_reports_each_problem_on_its_page_and_line(here: Path, emulator: Emulator) -> None:
    _problem_site(here, emulator)
    result = cli("check")
    assert result.exit_code == 1
    out = sorted(lines(result.stdout), key=lambda line: int(line.split(":")[1]))
    assert len(out) == 3, result.stdout
    assert re.fullmatch(
        r"docs/guide/page\.md:5: \.\./img/new\.png: .*not in the manifest.*mkdocs-wxcloud sync.*", out[0]
    )
    assert re.fullmatch(r"docs/guide/page\.md:7: \.\./\.\./img/changed\.png: .*changed.*mkdocs-wxcloud sync.*", out[1])
    assert re.fullmatch(r"docs/guide/page\.md:9: \.\./img/gone\.png: .*not found.*", out[2])
    assert "incode" not in result.stdout and "ok.png" not in result.stdout
    assert "3 problem(s)" in result.stderr
    assert emulator.request_count() == 0


def test_check_shows_paths_relative_to_the_current_directory(here: Path, emulator: Emulator) -> None:
    make_site(here / "site", {"index.md": "# T\n\n![a](a.png)\n", "a.png": png(1)}, {})
    result = cli("check", "-f", "site/mkdocs.yml")
    assert result.exit_code == 1
    assert lines(result.stdout)[0].startswith("site/docs/index.md:3: a.png: ")
    assert (here / "site/docs/index.md").is_file()  # the path printed is one the user can open


def test_check_formats_json_and_github(here: Path, emulator: Emulator) -> None:
    _problem_site(here, emulator)
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    found = {(p["level"], p["file"], p["line"], p["image"]) for p in data["problems"]}
    assert found == {
        ("error", "docs/guide/page.md", 5, "../img/new.png"),
        ("error", "docs/guide/page.md", 7, "../../img/changed.png"),
        ("error", "docs/guide/page.md", 9, "../img/gone.png"),
    }
    assert all(p["message"] for p in data["problems"])

    result = cli("check", "--format", "github")
    assert result.exit_code == 1
    out = sorted(lines(result.stdout), key=lambda line: int(line.split("line=")[1].split(":")[0]))
    assert len(out) == 3
    assert out[0].startswith("::error file=docs/guide/page.md,line=5::../img/new.png: ")
    assert out[1].startswith("::error file=docs/guide/page.md,line=7::../../img/changed.png: ")
    assert out[2].startswith("::error file=docs/guide/page.md,line=9::../img/gone.png: ")

    # fixed: json says ok
    (here / "docs/guide/page.md").write_text("![ok](../img/ok.png)\n", encoding="utf-8")
    (here / "docs/img/changed.png").write_bytes(png(2))
    result = cli("check", "--format", "json")
    data = json.loads(result.stdout)
    assert data["ok"] is True
    # changed.png is still in the manifest but no longer referenced: a warning, not an error
    assert [(p["level"], p["image"]) for p in data["problems"]] == [("warning", "img/changed.png")]
    assert result.exit_code == 0


def test_check_unreferenced_entries_warn_and_fail_with_strict(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](img/a.png)\n\n![b](img/b.png)\n", "img/a.png": png(1),
                          "img/b.png": png(2)})  # fmt: skip
    assert cli("sync").exit_code == 0
    (here / "docs/index.md").write_text("![a](img/a.png)\n", encoding="utf-8")
    result = cli("check")
    assert result.exit_code == 0
    out = lines(result.stdout)
    assert len(out) == 1 and out[0].startswith("warning: ") and "img/b.png" in out[0] and "prune" in out[0]
    result = cli("check", "--strict")
    assert result.exit_code == 1
    assert "img/b.png" in result.stdout
    result = cli("check", "--format", "github")
    assert result.exit_code == 0
    assert lines(result.stdout)[0].startswith("::warning ")


def test_check_missing_image_file_fails(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](img/a.png)\n", "img/a.png": png(1)})
    assert cli("sync").exit_code == 0
    (here / "docs/img/a.png").unlink()
    result = cli("check")
    assert result.exit_code == 1
    assert re.fullmatch(r"docs/index\.md:1: img/a\.png: .*not found.*", lines(result.stdout)[0])


def test_check_lists_pages_again_when_a_name_or_an_exclusion_changed(here: Path, emulator: Emulator) -> None:
    """The pages are remembered under docs_dir's file names and MkDocs' options: any change is seen."""
    site(here, emulator, {"index.md": "![a](img/a.png)\n", "img/a.png": png(1)})
    assert cli("sync").exit_code == 0
    assert cli("check").exit_code == 0
    (here / "docs/new.md").write_text("![b](img/b.png)\n", encoding="utf-8")  # a page added
    result = cli("check")
    assert result.exit_code == 1 and "docs/new.md:1: img/b.png" in result.stdout
    config = yaml.safe_load((here / "mkdocs.yml").read_text(encoding="utf-8"))
    (here / "mkdocs.yml").write_text(yaml.safe_dump({**config, "exclude_docs": "new.md"}), encoding="utf-8")
    assert cli("check").exit_code == 0  # excluded: MkDocs does not build it
    (here / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (here / "docs/new.md").rename(here / "docs/renamed.md")
    result = cli("check")
    assert result.exit_code == 1 and "docs/renamed.md:1" in result.stdout and "new.md" not in result.stdout


def test_a_listing_cache_naming_a_page_outside_docs_is_ignored(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](img/a.png)\n", "img/a.png": png(1)})
    (here / "outside.md").write_text("![b](docs/img/missing.png)\n", encoding="utf-8")
    assert cli("sync").exit_code == 0 and cli("check").exit_code == 0
    [cache] = here.glob("**/listing.json")
    document = json.loads(cache.read_text(encoding="utf-8"))
    document["data"]["documents"]["../outside.md"] = "../outside/index.html"  # the key still matches
    cache.write_text(json.dumps(document), encoding="utf-8")
    result = cli("check")
    assert result.exit_code == 0 and "outside" not in result.stdout


def test_check_reports_an_unreadable_page_by_its_path(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "# fine\n", "bad.md": b"\xff\xfe not UTF-8 ![x](x.png)\n"})
    result = cli("check")
    assert result.exit_code == 1
    assert lines(result.stdout)[0].startswith("docs/bad.md: ") and "UTF-8" in result.stdout
    result = cli("check", "--format", "github")
    assert result.exit_code == 1
    assert re.fullmatch(r"::error file=docs/bad\.md::[^:].*UTF-8.*", lines(result.stdout)[0]), result.stdout
    result = cli("check", "--format", "json")
    problem = json.loads(result.stdout)["problems"][0]
    assert problem["file"] == "docs/bad.md" and "UTF-8" in problem["message"]


def test_check_github_annotations_escape_their_properties(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"faq, part 1.md": "![x](x.png)\n", "x.png": png(1)})
    result = cli("check", "--format", "github")
    assert result.exit_code == 1
    # GitHub splits properties at `,` and `:`: they must come as %2C and %3A (and `%` as %25)
    assert lines(result.stdout)[0].startswith("::error file=docs/faq%2C part 1.md,line=1::x.png: "), result.stdout


def test_check_corrupt_manifest_is_a_configuration_error(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](img/a.png)\n", "img/a.png": png(1)})
    for broken in (b"images: [unclosed\n", b"- just\n- a list\n",
                   b"version: 1\nimages:\n  img/a.png: {sha256: x}\n"):  # fmt: skip
        (here / MANIFEST).write_bytes(broken)
        for output in ("text", "json", "github"):
            result = cli("check", "--format", output)
            assert result.exit_code == 2, (broken, result.stdout, result.stderr)
            err = lines(result.stderr)
            assert len(err) == 1 and MANIFEST in err[0], result.stderr
            assert (here / MANIFEST).read_bytes() == broken


def test_check_without_mkdocs_yml_is_a_usage_error(here: Path) -> None:
    result = cli("check")
    assert result.exit_code == 2
    assert "mkdocs.yml" in result.stderr and len(lines(result.stderr)) == 1
    result = cli("check", "-f", "elsewhere/site.yml")
    assert result.exit_code == 2
    assert "elsewhere/site.yml" in result.stderr
    assert cli("check", "--format", "xml").exit_code == 2
    (here / "mkdocs.yml").write_text("site_name: [unclosed\n", encoding="utf-8")
    result = cli("check")
    assert result.exit_code == 2 and "mkdocs.yml" in result.stderr
    missing = run("check", "-f", here / "nope.yml", cwd=here)
    assert missing.returncode == 2 and "nope.yml" in missing.stderr and "Traceback" not in missing.stderr


# -- rewrite -------------------------------------------------------------------------------------

INDEX = """# 首页

![one](@one@ "title") and ![图](@cn@)

<img src="@two@" width="30" alt="two">

```md
![not me](img/one.png)
```

`![nor me](img/two.png)`

[remote](https://example.com/x.png) [deep](a/b/deep.md)
"""

DEEP = (
    "Intro line with trailing spaces   \r\n"
    "\r\n"
    "![up](@one_up@)\r\n"
    "\r\n"
    "    ![indented code](../../img/two.png)\r\n"
    "\r\n"
    "Text ![inline](@three_up@) text.\r\n"
)

CHINESE = "说明：\n\n![x](@cn_rel@)\n"

SOURCES = {
    "@one@": ("img/one.png", "img/one.png"),
    "@cn@": ("图片/截图.png", "图片/截图.png"),
    "@two@": ("img/two.png", "img/two.png"),
    "@one_up@": ("../../img/one.png", "img/one.png"),
    "@three_up@": ("../../img/three.png", "img/three.png"),
    "@cn_rel@": ("../图片/截图.png", "图片/截图.png"),
}
PAGES = {"index.md": INDEX, "a/b/深层 页面.md": DEEP, "中文/说明.md": CHINESE}
BOM = {"a/b/深层 页面.md"}
IMAGES = {"img/one.png": png(1), "img/two.png": png(2), "img/three.png": png(3), "图片/截图.png": png(4)}


def _fill(template: str, urls: dict[str, str] | None) -> str:
    """The page with its image references as written (urls None) or as cloud URLs."""
    for marker, (written, path) in SOURCES.items():
        template = template.replace(marker, written if urls is None else urls[path])
    return template


def _page_bytes(page: str, text: str) -> bytes:
    return (b"\xef\xbb\xbf" if page in BOM else b"") + text.encode("utf-8")


def _rewrite_site(root: Path, emu: Emulator, **plugin: object) -> None:
    files: dict[str, bytes | str] = dict(IMAGES)
    site(root, emu, files, **plugin)
    for page, template in PAGES.items():
        path = root / "docs" / page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_page_bytes(page, _fill(template, None)))


def _expected(root: Path, page: str, manifest_name: str = MANIFEST, prefix: str = "") -> bytes:
    images = manifest(root, manifest_name)["images"]
    urls = {path: images[prefix + path]["url"] for _, path in SOURCES.values() if prefix + path in images}
    return _page_bytes(page, _fill(PAGES[page], urls))


def test_rewrite_to_output_mirrors_the_tree_and_changes_only_image_urls(here: Path, emulator: Emulator) -> None:
    _rewrite_site(here, emulator)
    originals = tree(here / "docs")

    # one file: only its image is uploaded, only it is written
    result = cli("rewrite", "docs/中文/说明.md", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert emulator.request_count("/tcb/uploadfile") == 1
    assert set(tree(here / "out")) == {"中文/说明.md"}

    result = cli("rewrite", "docs", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert emulator.request_count("/tcb/uploadfile") == 4  # one, two, three; 截图 was done
    assert tree(here / "docs") == originals  # -o never touches a source
    written = tree(here / "out")
    assert set(written) == set(PAGES)
    for page in PAGES:
        assert written[page] == _expected(here, page), page
    deep = written["a/b/深层 页面.md"]
    assert deep.startswith(b"\xef\xbb\xbf") and deep.count(b"\r\n") == DEEP.count("\r\n") and b"\n\n" not in deep
    assert b"    ![indented code](../../img/two.png)\r\n" in deep
    index = written["index.md"].decode("utf-8")
    assert "```md\n![not me](img/one.png)\n```" in index and "`![nor me](img/two.png)`" in index
    # every cloud URL written serves the bytes of the local image it replaced
    images = manifest(here)["images"]
    for path, data in IMAGES.items():
        url = images[path]["url"]
        assert url.startswith(emulator.base_url) and url in "".join(w.decode("utf-8") for w in written.values())
        assert requests.get(url, timeout=10).content == data


def test_rewrite_in_place_is_the_only_way_sources_change(here: Path, emulator: Emulator) -> None:
    _rewrite_site(here, emulator)
    images_before = {p: (here / "docs" / p).read_bytes() for p in IMAGES}
    assert cli("sync").exit_code == 0
    assert cli("check").exit_code == 0
    assert cli("prune").exit_code == 0
    for page, template in PAGES.items():  # sync, check and prune left the pages alone
        assert (here / "docs" / page).read_bytes() == _page_bytes(page, _fill(template, None))

    emulator.reset_counts()
    result = cli("rewrite", "--in-place", "docs")
    assert result.exit_code == 0, result.stderr
    assert emulator.request_count("/tcb/uploadfile") == 0  # all in the manifest already
    for page in PAGES:
        assert (here / "docs" / page).read_bytes() == _expected(here, page), page
    assert {p: (here / "docs" / p).read_bytes() for p in IMAGES} == images_before

    # a second run finds no local image left: nothing requested, nothing changed
    rewritten = tree(here / "docs")
    emulator.reset_counts()
    result = cli("rewrite", "--in-place", "docs")
    assert result.exit_code == 0, result.stderr
    assert emulator.request_count() == 0
    assert tree(here / "docs") == rewritten


def test_rewrite_needs_exactly_one_of_output_and_in_place(here: Path, emulator: Emulator) -> None:
    _rewrite_site(here, emulator)
    originals = tree(here)
    for args in (["docs"], ["docs", "-o", "out", "--in-place"]):
        result = cli("rewrite", *args)
        assert result.exit_code == 2, args
        assert "-o" in result.stderr and "--in-place" in result.stderr
    assert cli("rewrite", "-o", "out").exit_code == 2  # no PATH
    assert cli("rewrite", "no/such/dir", "-o", "out").exit_code == 2
    assert tree(here) == originals
    assert emulator.request_count() == 0


def test_rewrite_without_mkdocs_yml(here: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    project = here / "proj"
    for name, content in {
        "notes/a.md": "# A\n\n![a](img/a.png)\n",
        "notes/sub/b.md": "![b](../img/b.png)\n\n![a](/notes/img/a.png)\n",
        "notes/img/a.png": png(1),
        "notes/img/b.png": png(2),
    }.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    originals = tree(project)

    # no credentials anywhere: a clear error naming the variables, nothing written
    result = cli("rewrite", "proj/notes", "-o", "out", "--root", "proj", "--manifest", "meta/m.yml")
    assert result.exit_code != 0
    assert "WXCLOUD_" in result.stderr
    assert not (here / "out").exists() or tree(here / "out") == {}

    monkeypatch.setenv("WXCLOUD_API_BASE", emulator.base_url)
    monkeypatch.setenv("WXCLOUD_APPID", DEFAULT_APPID)
    monkeypatch.setenv("WXCLOUD_SECRET", DEFAULT_SECRET)
    monkeypatch.setenv("WXCLOUD_ENV", DEFAULT_ENV)
    result = cli("rewrite", "proj/notes", "-o", "out", "--root", "proj", "--manifest", "meta/m.yml")
    assert result.exit_code == 0, result.stderr
    assert tree(project) == originals
    images = manifest(here, "meta/m.yml")["images"]
    assert set(images) == {"notes/img/a.png", "notes/img/b.png"}  # relative to --root
    assert emulator.request_count("/tcb/uploadfile") == 2
    url_a, url_b = images["notes/img/a.png"]["url"], images["notes/img/b.png"]["url"]
    assert tree(here / "out") == {
        "notes/a.md": f"# A\n\n![a]({url_a})\n".encode(),
        "notes/sub/b.md": f"![b]({url_b})\n\n![a]({url_a})\n".encode(),
    }
    assert not (here / "mkdocs.yml").exists() and not (project / MANIFEST).exists()

    # --root defaults to the current directory
    monkeypatch.chdir(project)
    emulator.reset_counts()
    result = cli("rewrite", "notes/a.md", "--in-place", "--manifest", "../meta/m.yml")
    assert result.exit_code == 0, result.stderr
    assert emulator.request_count("/tcb/uploadfile") == 0  # same root, same manifest: nothing new
    assert (project / "notes/a.md").read_text(encoding="utf-8") == f"# A\n\n![a]({url_a})\n"
    assert (project / "notes/sub/b.md").read_bytes() == originals["notes/sub/b.md"]


def test_rewrite_without_mkdocs_yml_defaults_to_root_manifest(
    here: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "notes/img").mkdir(parents=True)
    (here / "notes/a.md").write_text("# A\n\n![a](img/a.png)\n", encoding="utf-8")
    (here / "notes/img/a.png").write_bytes(png(1))
    monkeypatch.setenv("WXCLOUD_API_BASE", emulator.base_url)
    monkeypatch.setenv("WXCLOUD_APPID", DEFAULT_APPID)
    monkeypatch.setenv("WXCLOUD_SECRET", DEFAULT_SECRET)
    monkeypatch.setenv("WXCLOUD_ENV", DEFAULT_ENV)
    result = cli("rewrite", "notes/a.md", "--in-place")
    assert result.exit_code == 0, result.stderr
    url = manifest(here)["images"]["notes/img/a.png"]["url"]
    assert (here / "notes/a.md").read_text(encoding="utf-8") == f"# A\n\n![a]({url})\n"


def test_rewrite_output_inside_the_input_is_not_read_back(
    here: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / "a.md").write_text("![a](a.png)\n", encoding="utf-8")
    (here / "a.png").write_bytes(png(1))
    for name, value in (("API_BASE", emulator.base_url), ("APPID", DEFAULT_APPID), ("SECRET", DEFAULT_SECRET),
                        ("ENV", DEFAULT_ENV)):  # fmt: skip
        monkeypatch.setenv(f"WXCLOUD_{name}", value)
    assert cli("rewrite", ".", "-o", "out", "--manifest", "../m.yml").exit_code == 0
    first = tree(here / "out")
    assert set(first) == {"a.md"}
    result = cli("rewrite", ".", "-o", "out", "--manifest", "../m.yml")
    assert result.exit_code == 0, result.stderr
    assert tree(here / "out") == first


def test_rewrite_writes_nothing_when_an_upload_fails(here: Path, emulator: Emulator) -> None:
    _rewrite_site(here, emulator, retries=0)
    originals = tree(here / "docs")
    emulator.fail_next("http502", count=1000)
    result = cli("rewrite", "docs", "-o", "out")
    assert result.exit_code == 1
    assert "error" in result.stderr
    assert not (here / "out").exists() or tree(here / "out") == {}
    result = cli("rewrite", "docs", "--in-place")
    assert result.exit_code == 1
    assert tree(here / "docs") == originals
    assert emulator.stored_files() == {}
    assert "Traceback" not in result.stderr


def test_rewrite_offline_uses_only_the_manifest(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"p1.md": "![a](img/a.png)\n", "img/a.png": png(1), "img/b.png": png(2)})
    assert cli("sync").exit_code == 0
    (here / "docs/p2.md").write_text("Before\n\n![b](img/b.png)\n", encoding="utf-8")
    url_a = manifest(here)["images"]["img/a.png"]["url"]
    emulator.reset_counts()
    result = cli("rewrite", "docs", "-o", "out", "--offline")
    assert emulator.request_count() == 0
    assert (here / "out/p1.md").read_text(encoding="utf-8") == f"![a]({url_a})\n"
    if (here / "out/p2.md").exists():  # written with the unknown image left local, or not at all
        assert (here / "out/p2.md").read_text(encoding="utf-8") == "Before\n\n![b](img/b.png)\n"
    assert "b.png" in result.stderr
    assert "img/b.png" not in manifest(here)["images"]
    assert len(emulator.stored_files()) == 1


def test_rewrite_link_file_id_writes_cloud_ids_for_the_mini_program(here: Path, emulator: Emulator) -> None:
    page = ("![图](图片/封面 (1).png?v=2#c)\n\n[手册](文件/手册.pdf)\n\n"
            '<video src="媒体/录屏.mp4" poster="图片/封面 (1).png"></video>\n\n'
            '<div style="background:url(\'图片/封面 (1).png\')">x</div>\n')  # fmt: skip
    site(here, emulator, {"index.md": page, "图片/封面 (1).png": png(1), "文件/手册.pdf": b"%PDF-1.4 x",
                          "媒体/录屏.mp4": b"\x00\x00\x00\x18ftypmp42"}, assets=["images", "video", "documents"])  # fmt: skip
    result = cli("rewrite", "docs", "-o", "out", "--link", "file-id")
    assert result.exit_code == 0, result.stderr
    images = manifest(here)["images"]
    ids = {path: images[path]["file_id"] for path in images}
    assert set(ids) == {"图片/封面 (1).png", "文件/手册.pdf", "媒体/录屏.mp4"}
    cover = ids["图片/封面 (1).png"]
    assert "/图片/封面__1_." in cover  # verbatim, Chinese included (WeChat matches ids as stored)
    assert (here / "out/index.md").read_text(encoding="utf-8") == (
        f"![图]({cover})\n\n[手册]({ids['文件/手册.pdf']})\n\n"
        f'<video src="{ids["媒体/录屏.mp4"]}" poster="{cover}"></video>\n\n'
        f"<div style=\"background:url('{images['图片/封面 (1).png']['url']}')\">x</div>\n"
    )  # WXSS loads no cloud ids: a style keeps the URL
    # the default stays URLs
    assert cli("rewrite", "docs", "-o", "urls").exit_code == 0
    assert "cloud://" not in (here / "urls/index.md").read_text(encoding="utf-8")

    # an id from before such names were avoided cannot be written as it is: the URL is, with a warning
    legacy = (here / MANIFEST).read_text(encoding="utf-8").replace("封面__1_.", "封面 (1).")
    (here / MANIFEST).write_text(legacy, encoding="utf-8")
    result = cli("rewrite", "docs", "-o", "legacy", "--link", "file-id", "--offline")
    assert result.exit_code == 0, result.stderr
    written = (here / "legacy/index.md").read_text(encoding="utf-8")
    assert "封面 (1)." not in written and f"![图]({images['图片/封面 (1).png']['url']}?v=2#c)" in written
    assert sum("its file id cannot be written in a page as it is" in line for line in result.stderr.splitlines()) == 2


# -- prune ---------------------------------------------------------------------------------------


def test_prune_lists_then_deletes_unreferenced_and_retired_files(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {
        "index.md": "![a](img/a.png)\n\n![b](img/b.png)\n\n![c](img/c.png)\n",
        "img/a.png": png(1), "img/b.png": png(2), "img/c.png": png(3),
    })  # fmt: skip
    assert cli("sync").exit_code == 0
    first = manifest(here)["images"]
    (here / "docs/img/b.png").write_bytes(png(22))  # b changes: its old upload is retired
    (here / "docs/index.md").write_text("![a](img/a.png)\n\n![b](img/b.png)\n", encoding="utf-8")  # c dropped
    assert cli("sync").exit_code == 0
    data = manifest(here)
    assert first["img/b.png"]["file_id"] in {r["file_id"] for r in data.get("retired", [])}
    stale = {first["img/b.png"]["cloud_path"], first["img/c.png"]["cloud_path"]}
    kept = {data["images"]["img/a.png"]["cloud_path"], data["images"]["img/b.png"]["cloud_path"]}
    assert set(emulator.stored_files()) == stale | kept

    before = (here / MANIFEST).read_bytes()
    docs = tree(here / "docs")
    emulator.reset_counts()
    result = cli("prune")
    assert result.exit_code == 0, result.stderr
    listed = lines(result.stdout)
    assert len(listed) == 2
    assert {line.split()[0] for line in listed} == stale
    assert first["img/b.png"]["file_id"] in result.stdout and first["img/c.png"]["file_id"] in result.stdout
    assert "--yes" in result.stderr
    assert (here / MANIFEST).read_bytes() == before
    assert set(emulator.stored_files()) == stale | kept
    assert emulator.request_count("/tcb/batchdeletefile") == 0

    result = cli("prune", "--yes")
    assert result.exit_code == 0, result.stderr
    assert set(emulator.stored_files()) == kept
    assert emulator.request_count("/tcb/batchdeletefile") == 1
    data = manifest(here)
    assert set(data["images"]) == {"img/a.png", "img/b.png"}
    assert not data.get("retired")
    assert "deleted 2 of 2" in result.stderr
    assert tree(here / "docs") == docs
    for entry in data["images"].values():  # what is still referenced still works
        assert requests.get(entry["url"], timeout=10).status_code == 200

    emulator.reset_counts()
    result = cli("prune", "--yes")
    assert result.exit_code == 0 and lines(result.stdout) == []
    assert emulator.request_count() == 0
    assert cli("check", "--strict").exit_code == 0


def test_prune_never_deletes_content_still_referenced_under_another_name(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](img/a.png)\n\n![copy](img/copy.png)\n", "img/a.png": png(1),
                          "img/copy.png": png(1)})  # fmt: skip
    assert cli("sync").exit_code == 0
    assert len(emulator.stored_files()) == 1
    (here / "docs/index.md").write_text("![copy](img/copy.png)\n", encoding="utf-8")
    result = cli("prune", "--yes")
    assert result.exit_code == 0, result.stderr
    assert lines(result.stdout) == []
    assert len(emulator.stored_files()) == 1
    url = manifest(here)["images"]["img/copy.png"]["url"]
    assert requests.get(url, timeout=10).content == png(1)
    assert cli("check").exit_code == 0


def test_prune_counts_files_already_gone_as_deleted(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](img/a.png)\n\n![b](img/b.png)\n", "img/a.png": png(1),
                          "img/b.png": png(2)})  # fmt: skip
    assert cli("sync").exit_code == 0
    gone = manifest(here)["images"]["img/a.png"]["file_id"]
    with wx_client(api_base=emulator.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET) as c:
        assert c.delete([gone]) == {}  # someone deleted it in the console
    (here / "docs/index.md").write_text("nothing\n", encoding="utf-8")
    result = cli("prune", "--yes")
    assert result.exit_code == 0, result.stderr
    assert emulator.stored_files() == {}
    assert manifest(here)["images"] == {}


def test_prune_deletes_50_per_call(here: Path, emulator: Emulator) -> None:
    files: dict[str, bytes | str] = {f"img/{n:02}.png": png(n) for n in range(60)}
    files["index.md"] = "".join(f"![{n}](img/{n:02}.png)\n\n" for n in range(60))
    site(here, emulator, files)
    assert cli("sync").exit_code == 0
    assert len(emulator.stored_files()) == 60
    (here / "docs/index.md").write_text("# No images any more\n", encoding="utf-8")
    emulator.reset_counts()
    result = cli("prune", "--yes")
    assert result.exit_code == 0, result.stderr
    assert len(lines(result.stdout)) == 60
    assert emulator.request_count("/tcb/batchdeletefile") == 2
    assert emulator.stored_files() == {}
    assert manifest(here)["images"] == {}


def test_prune_keeps_the_manifest_when_deleting_fails(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](img/a.png)\n", "img/a.png": png(1)}, retries=0)
    assert cli("sync").exit_code == 0
    (here / "docs/index.md").write_text("nothing\n", encoding="utf-8")
    before = (here / MANIFEST).read_bytes()
    emulator.fail_next("http502", count=100)
    result = cli("prune", "--yes")
    assert result.exit_code == 1
    assert (here / MANIFEST).read_bytes() == before
    assert len(emulator.stored_files()) == 1
    assert "Traceback" not in result.stderr and "error" in result.stderr


# -- emulator ------------------------------------------------------------------------------------


def test_emulator_subprocess_serves_and_keeps_its_data(here: Path) -> None:
    port = free_port()
    data = here / "emu-data"
    proc = start_emulator(port, data)
    try:
        base = f"http://127.0.0.1:{port}"
        make_site(
            here,
            {"index.md": "![a](a.png)\n", "a.png": png(7)},
            {"api_base": base, "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET, "env": DEFAULT_ENV},
        )
        result = cli("sync")
        assert result.exit_code == 0, result.stderr
    finally:
        code, out = stop_emulator(proc)
    assert code == 0
    assert base in out
    url = manifest(here)["images"]["a.png"]["url"]
    assert url.startswith(base)
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)

    proc = start_emulator(port, data)  # same port, same data: the same link works again
    try:
        assert requests.get(url, timeout=10).content == png(7)
    finally:
        code, _ = stop_emulator(proc)
    assert code == 0


def test_emulator_on_a_busy_port_is_an_error(emulator: Emulator) -> None:
    result = cli("emulator", "--port", emulator.port)
    assert result.exit_code == 2
    assert str(emulator.port) in result.stderr and len(lines(result.stderr)) == 1


# -- progress and verbosity ----------------------------------------------------------------------


def test_progress_is_plain_lines_off_a_terminal_and_ends_with_a_summary(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](a.png) ![b](b.png) ![c](c.png)\n", "a.png": png(1), "b.png": png(2),
                          "c.png": png(3)})  # fmt: skip
    result = cli("sync")
    assert result.exit_code == 0
    err = lines(result.stderr)
    assert not any("\r" in line or "\x1b" in line for line in err)
    assert "uploading: 3/3 files, 222 B of 222 B" in err  # bytes: one video weighs a thousand screenshots
    last = summary_line(result.stderr)
    assert "3 uploaded" in last and "0 reused" in last and "0 failed" in last and "222 B" in last

    (here / "docs/index.md").write_text("![a](a.png) ![b](b.png) ![c](c.png) ![d](d.png)\n", encoding="utf-8")
    (here / "docs/d.png").write_bytes(png(4))
    result = cli("sync")
    last = summary_line(result.stderr)
    assert "1 uploaded" in last and "3 reused" in last


def test_progress_bar_on_a_terminal(tmp_path: Path, emulator: Emulator) -> None:
    import pty

    files: dict[str, bytes | str] = {f"{n}.png": png(n) for n in range(20)}
    files["index.md"] = "".join(f"![{n}]({n}.png)\n\n" for n in range(20))
    site(tmp_path, emulator, files)
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(SCRIPT), "sync"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave)  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=60) == 0
    text = b"".join(chunks).decode("utf-8", "replace")
    assert re.search(r"uploading\s+\[#+", text), text
    assert "uploading: " not in text  # no plain progress lines on a terminal
    assert "20 uploaded" in text and "reused" in text


def test_verbose_shows_debug(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](a.png)\n", "a.png": png(1)})
    result = cli("sync", "-v")
    assert result.exit_code == 0
    assert "uploaded" in result.stderr
    assert "debug: " in result.stderr  # e.g. that it got an access token (never the token itself)
    result = cli("check", "-q")
    assert result.exit_code == 0 and result.stdout == ""
    (here / "docs/index.md").write_text("![a](a.png)\n\n![b](b.png)\n", encoding="utf-8")
    result = cli("check", "-q")
    assert result.exit_code == 1 and "b.png" in result.stdout  # the findings are the output


def test_quiet_silences_progress_and_summary(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](a.png)\n\n![b](b.png)\n", "a.png": png(1), "b.png": png(2)})
    result = cli("sync", "-q")
    assert result.exit_code == 0
    assert manifest(here)["images"]["b.png"]["url"]
    assert result.stderr == "", "-q (show only errors) must silence progress and summary"


def test_quiet_still_shows_errors(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"index.md": "![a](a.png)\n", "a.png": png(1)}, retries=0)
    emulator.fail_next("http502", count=100)
    result = cli("sync", "-q")
    assert result.exit_code == 1
    assert "error: " in result.stderr and "502" in result.stderr
    assert "uploaded" not in result.stderr  # the summary is info: silenced


# -- secrets -------------------------------------------------------------------------------------

CUSTOM_SECRET = "c0ffee-custom-app-secret-5e3c7a9b1d"


def test_secret_from_the_environment_never_shows(tmp_path: Path) -> None:
    with Emulator(secret=CUSTOM_SECRET) as emu:
        make_site(tmp_path, {"index.md": "![a](a.png)\n\n![b](b.png)\n", "a.png": png(1), "b.png": png(2)},
                  {"api_base": emu.base_url, "appid": DEFAULT_APPID, "env": DEFAULT_ENV})  # fmt: skip
        result = run("sync", "-v", cwd=tmp_path, env={"WXCLOUD_SECRET": CUSTOM_SECRET})
        assert result.returncode == 0, result.stderr
        assert len(emu.stored_files()) == 2
        tokens = emu.issued_tokens()
    assert tokens
    shown = result.stdout + result.stderr
    assert CUSTOM_SECRET not in shown
    assert not any(token in shown for token in tokens)
    assert "access_token=" not in shown or "access_token=***" in shown
    saved = (tmp_path / MANIFEST).read_text(encoding="utf-8") + (tmp_path / "mkdocs.yml").read_text(encoding="utf-8")
    assert CUSTOM_SECRET not in saved and not any(token in saved for token in tokens)


def _wrong_secret_site(root: Path, emu: Emulator) -> None:
    files: dict[str, bytes | str] = {f"{n}.png": png(n) for n in range(12)}
    files["index.md"] = "".join(f"![{n}]({n}.png)\n\n" for n in range(12))
    make_site(root, files, {"api_base": emu.base_url, "appid": DEFAULT_APPID, "env": DEFAULT_ENV, "retries": 1})


def test_wrong_secret_fails_without_showing_it(tmp_path: Path) -> None:
    wrong = "wrong-secret-0123456789abcdef"
    with Emulator(secret=CUSTOM_SECRET) as emu:
        _wrong_secret_site(tmp_path, emu)
        result = run("sync", "-v", cwd=tmp_path, env={"WXCLOUD_SECRET": wrong})
        assert emu.stored_files() == {}
    assert result.returncode == 1
    shown = result.stdout + result.stderr
    assert wrong not in shown and CUSTOM_SECRET not in shown
    assert "Traceback" not in shown
    assert "WXCLOUD_SECRET" in result.stderr
    assert not (tmp_path / MANIFEST).exists() or wrong not in (tmp_path / MANIFEST).read_text(encoding="utf-8")


def test_wrong_secret_is_one_clear_line(tmp_path: Path) -> None:
    with Emulator(secret=CUSTOM_SECRET) as emu:
        _wrong_secret_site(tmp_path, emu)
        result = run("sync", cwd=tmp_path, env={"WXCLOUD_SECRET": "wrong-secret-0123456789abcdef"})
    assert result.returncode == 1
    about_secret = [line for line in lines(result.stderr) if "WXCLOUD_SECRET" in line or "`secret`" in line]
    assert len(about_secret) == 1, result.stderr


def test_rewrite_into_the_docs_folder_itself_is_refused(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"a.md": "![a](a.png)\n", "a.png": png(1)})
    before = (here / "docs/a.md").read_bytes()
    result = cli("rewrite", "docs", "-o", "docs")
    assert result.exit_code == 2 and "--in-place" in result.output
    assert (here / "docs/a.md").read_bytes() == before


def test_check_sees_images_that_snippets_bring_in(here: Path, emulator: Emulator) -> None:
    files = {"a.md": '--8<-- "part.txt"\n', "part.txt": "![a](a.png)\n", "a.png": png(1), "b.png": png(2)}
    config = make_site(
        here, files, emulator_options(emulator), extensions=[{"pymdownx.snippets": {"base_path": ["docs"]}}]
    )
    assert cli("sync").exit_code == 0
    assert cli("check").exit_code == 0
    (here / "docs/part.txt").write_text("![a](a.png) ![b](b.png)\n", encoding="utf-8")
    result = cli("check", "-f", config)
    assert result.exit_code == 1 and "b.png" in result.stdout


def test_check_flags_entries_only_an_interrupted_run_recorded(here: Path, emulator: Emulator) -> None:
    site(here, emulator, {"a.md": "![a](a.png)\n", "a.png": png(1)})
    assert cli("sync").exit_code == 0
    cache = here / ".cache/plugin/wxcloud"
    saved = (here / MANIFEST).read_text(encoding="utf-8")
    (here / "docs/a.png").write_bytes(png(2))
    assert cli("sync").exit_code == 0
    # put the new entry back into a journal of a dead run, and the old manifest back on disk
    from mkdocs_wxcloud.manifest import model as mf

    entry = mf.read(here / MANIFEST).images["a.png"]
    key = next(cache.glob("manifest-*.lock")).stem.split("-")[1]
    (cache / f"journal-{key}-999999999-dead.jsonl").write_text(
        json.dumps({"env": DEFAULT_ENV, "put": "a.png", "entry": dataclasses.asdict(entry)}) + "\n", encoding="utf-8"
    )
    (here / MANIFEST).write_text(saved, encoding="utf-8")
    result = cli("check")
    assert result.exit_code == 1 and "interrupted run" in result.stdout
    assert (here / MANIFEST).read_text(encoding="utf-8") == saved  # check wrote nothing
    assert cli("sync").exit_code == 0 and cli("check").exit_code == 0
