"""Assets beyond images (issue #15): which kinds are published, big files streamed with their bytes
counted, the COS size limit, and the ``assets`` option's errors; end to end against the emulator."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
import yaml
from conftest import build, emulator_options, free_port, make_site, png, start_emulator, stop_emulator
from inprocess import build_errors, cli

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.manifest.hashing import HashingReader
from mkdocs_wxcloud.publishing import uploads

MANIFEST = "wxcloud-manifest.yml"
PAGE = """# 媒体

<video src="媒体/录屏.mp4" poster="图片/封面.png" controls></video>

<audio controls><source src="媒体/旁白.mp3" type="audio/mpeg"></audio>

[下载手册](文件/手册.pdf) · [源码包](文件/源码.zip) · [笔记](notes.md)

<div style="background-image: url('图片/背景.png')">x</div>

    <video src="媒体/录屏.mp4"></video> and [in code](文件/手册.pdf)
"""
FILES: dict[str, bytes | str] = {
    "index.md": PAGE,
    "notes.md": "# notes\n",
    "媒体/录屏.mp4": b"\x00\x00\x00\x18ftypmp42" + bytes(4000),
    "媒体/旁白.mp3": b"ID3\x03" + bytes(3000),
    "文件/手册.pdf": b"%PDF-1.4\n" + bytes(2000),
    "文件/源码.zip": b"PK\x03\x04" + bytes(1000),
    "图片/封面.png": png(1),
    "图片/背景.png": png(2),
}


def manifest(root: Path) -> dict:
    return yaml.safe_load((root / MANIFEST).read_text(encoding="utf-8"))


def built(root: Path) -> str:
    return (root / "site/index.html").read_text(encoding="utf-8")


def test_the_listed_kinds_are_published_and_every_command_covers_them(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    with Emulator() as emu:
        config = make_site(
            tmp_path, FILES, emulator_options(emu, assets=["images", "video", "audio", "documents", ".zip"])
        )
        build(config)
        images = manifest(tmp_path)["images"]
        assert set(images) == set(FILES) - {"index.md", "notes.md"}
        html = built(tmp_path)
        for path, entry in images.items():
            assert entry["url"].startswith(emu.base_url) and entry["url"] in html, path
            assert requests.get(entry["url"], timeout=10).content == FILES[path], path
        assert 'href="notes/"' in html  # a page is never an asset
        assert '&lt;video src="媒体/录屏.mp4"&gt;' in html and quote("文件/手册.pdf") not in html
        emu.reset_counts()
        for command in (["check", "--strict"], ["sync"], ["prune"]):
            result = cli(*command)
            assert result.exit_code == 0, (command, result.stderr)
            assert result.stdout == "", command  # prune: nothing unreferenced
        assert emu.request_count("/tcb/uploadfile") == 0

        # by default documents and archives are links to download, not what a page shows: they stay
        make_site(tmp_path, {}, emulator_options(emu))
        build(config)
        html = built(tmp_path)
        assert f'href="{quote("文件/手册.pdf")}"' in html and f'href="{quote("文件/源码.zip")}"' in html
        assert images["媒体/录屏.mp4"]["url"] in html and images["媒体/旁白.mp3"]["url"] in html
        result = cli("check", "--strict")  # the cloud copies of the PDF and the zip are stale now
        assert result.exit_code == 1
        assert [line.split(": ")[1] for line in result.stdout.splitlines()] == ["文件/手册.pdf", "文件/源码.zip"]
        assert "4 file(s), " in result.stderr
        listed = cli("prune").stdout
        for path in ("文件/手册.pdf", "文件/源码.zip"):
            assert images[path]["file_id"] in listed


def test_extra_css_built_copies_change_only_in_their_urls(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    css = ('\ufeff/* url(../图片/封面.png) */\r\n.hero { background: url("../图片/背景.png") }\r\n'
           '.tip::after { content: "url(../图片/封面.png)" }\r\n.gone { background: url(../图片/没有.png) }\r\n')  # fmt: skip
    monkeypatch.chdir(tmp_path)
    with Emulator() as emu:
        config = make_site(
            tmp_path, {**FILES, "样式/主题.css": css}, emulator_options(emu), extra_css=["./样式/主题.css"]
        )
        build(config)
        images = manifest(tmp_path)["images"]
        built = (tmp_path / "site/样式/主题.css").read_bytes().decode("utf-8")
        assert built == css.replace(
            "../图片/背景.png", images["图片/背景.png"]["url"]
        )  # BOM, CRLF, comment, string kept
        result = cli("check")
        assert result.exit_code == 1
        assert result.stdout.splitlines() == [f"{Path('docs/样式/主题.css')}:4: ../图片/没有.png: not found in docs_dir: "
                                              "fix the path or add the file"]  # fmt: skip


def test_a_reference_cache_of_another_release_is_ignored(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """An older release found no <video>: trusting its cache, `prune --yes` would delete a live file."""
    monkeypatch.chdir(tmp_path)
    with Emulator() as emu:
        make_site(
            tmp_path, {"index.md": '<video src="clip.mp4"></video>\n', "clip.mp4": bytes(100)}, emulator_options(emu)
        )
        assert cli("sync").exit_code == 0
        cache = tmp_path / ".cache/plugin/wxcloud/references.json"
        data = json.loads(cache.read_text(encoding="utf-8"))
        data["release"] = "0.1"  # as 0.1 wrote it, with the page's references as 0.1 found them: none
        data["data"]["pages"] = {page: [key, []] for page, (key, _) in data["data"]["pages"].items()}
        cache.write_text(json.dumps(data), encoding="utf-8")
        assert cli("check", "--strict").exit_code == 0
        assert cli("prune", "--yes").stdout == ""
        assert len(emu.stored_files()) == 1


def test_a_large_video_is_streamed_and_the_progress_counts_its_bytes(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    size = 48 << 20
    block = bytes(range(256)) * 4096  # 1 MB
    monkeypatch.chdir(tmp_path)
    port = free_port()
    emulator = start_emulator(port, tmp_path / "emulator-data")  # its own process: only the client is measured
    try:
        options = {
            "api_base": f"http://127.0.0.1:{port}",
            "appid": DEFAULT_APPID,
            "secret": DEFAULT_SECRET,
            "env": DEFAULT_ENV,
        }
        make_site(tmp_path, {"index.md": '<video src="录屏.mp4"></video>\n'}, options)
        with (tmp_path / "docs/录屏.mp4").open("wb") as out:
            for _ in range(size // len(block)):
                out.write(block)
        assert cli("sync", "--dry-run").exit_code == 0  # imports what loading the config needs, outside the measure
        tracemalloc.start()
        try:
            result = cli("sync")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert result.exit_code == 0, result.stderr
        assert peak < size / 16, f"peak {peak} bytes while publishing a {size} byte video: not streamed"
        assert "uploading: 1/1 files, 48.0 MB of 48.0 MB" in result.stderr
        url = manifest(tmp_path)["images"]["录屏.mp4"]["url"]
        served = requests.get(url, timeout=60).content
        assert len(served) == size and served[-len(block) :] == block
    finally:
        stop_emulator(emulator)


def test_a_file_over_the_storage_limit_fails_alone_and_names_itself(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(uploads, "COS_MAX_BYTES", 1 << 20)  # 5 GB files have no place in a test
    monkeypatch.chdir(tmp_path)
    with Emulator() as emu:
        page = '<video src="big.mp4" poster="poster.png"></video>\n'
        make_site(tmp_path, {"index.md": page, "big.mp4": bytes(2 << 20), "poster.png": png(3)}, emulator_options(emu))
        result = cli("sync")
        assert result.exit_code == 1
        assert "Traceback" not in result.stderr
        found = [line for line in result.stderr.splitlines() if "big.mp4" in line]
        assert found == ["error: big.mp4: is 2.0 MB, over the 1.0 MB that cloud storage takes in one upload: "
                         "host it elsewhere, or leave its kind out of `assets`"], result.stderr  # fmt: skip
        assert f"uploading: 1/2 files, {len(png(3))} B of 2.0 MB" in result.stderr  # where the progress ended
        assert set(manifest(tmp_path)["images"]) == {"poster.png"}
        assert emu.request_count("/tcb/uploadfile") == 1  # nothing was asked for the big one


BAD_ASSETS = [
    (["images", "*.png"], "option `assets`: '*.png' is neither a group"),
    (["images", ".css"], "option `assets`: .css files are part of the site itself"),
    ([], "option `assets` must be a list"),
]


@pytest.mark.parametrize(("value", "needle"), BAD_ASSETS)
def test_a_bad_assets_option_is_one_line(tmp_path: Path, value: object, needle: str) -> None:
    config = make_site(tmp_path, {"index.md": "![a](a.png)\n", "a.png": png(1)}, {"offline": True, "assets": value})
    assert sum(needle in line for line in build_errors(config)) == 1
    result = cli("check", cwd=tmp_path)
    assert result.exit_code != 0 and "Traceback" not in result.stderr, result.stderr
    assert sum(needle in line for line in result.stderr.splitlines()) == 1, result.stderr


def test_a_bad_assets_option_is_one_line_from_each_command_as_a_process(tmp_path: Path) -> None:
    value, needle = BAD_ASSETS[0]
    make_site(tmp_path, {"index.md": "![a](a.png)\n", "a.png": png(1)}, {"offline": True, "assets": value})
    for command in ([sys.executable, "-m", "mkdocs", "build"],
                    [str(Path(sys.executable).parent / "mkdocs-wxcloud"), "check"]):  # fmt: skip
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert sum(needle in line for line in result.stderr.splitlines()) == 1, result.stderr


def test_the_hashing_reader_takes_back_the_bytes_of_a_retry() -> None:
    told: list[int] = []
    reader = HashingReader(io.BytesIO(b"x" * 100), 100, told.append)
    reader.read(60)
    reader.seek(0)  # a retried request sends the whole file again
    while reader.read(64):
        pass
    assert told == [60, -60, 64, 36] and sum(told) == 100
    assert re.fullmatch("[0-9a-f]{64}", reader.hexdigest())
