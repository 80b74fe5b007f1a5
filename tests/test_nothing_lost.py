"""Nothing lost: prune deletes nothing a page may show, Ctrl-C keeps every finished upload, an
upload that could not be recorded is never made, ``exclude_uploaded`` breaks no reference, and a
file that vanished from the cloud is found and uploaded again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import build, emulator_options, make_site, png, wx_client
from inprocess import cli
from proxy import Exchange, Proxy

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.wechat.client import WxCloudClient

BIN = Path(sys.executable).parent
MANIFEST = "wxcloud-manifest.yml"
CACHE = ".cache/plugin/wxcloud"


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "mkdocs-wxcloud"), *args], cwd=root, capture_output=True, text=True, timeout=180)


def client(emu: Emulator) -> WxCloudClient:
    return wx_client(api_base=emu.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET)


def many(n: int) -> dict[str, bytes | str]:
    files: dict[str, bytes | str] = {f"img/{i}.png": png(1000 + i) for i in range(n)}
    files["index.md"] = "".join(f"![{i}](img/{i}.png)\n\n" for i in range(n))
    return files


# -- prune ---------------------------------------------------------------------------------------


def _pruneable(root: Path, emu: Emulator, stale: int) -> None:
    """A synced site whose page then stops showing ``stale`` of its images."""
    make_site(root, many(stale + 1), emulator_options(emu))
    assert cli("sync", cwd=root).exit_code == 0
    (root / "docs/index.md").write_text("![0](img/0.png)\n", encoding="utf-8")


def test_prune_deletes_nothing_while_a_page_cannot_be_read(tmp_path: Path, emulator: Emulator) -> None:
    _pruneable(tmp_path, emulator, 0)
    (tmp_path / "docs/other.md").write_text("![1](img/1.png)\n", encoding="utf-8")
    make_site(tmp_path, {"img/1.png": png(1001)}, emulator_options(emulator))
    assert cli("sync", cwd=tmp_path).exit_code == 0
    (tmp_path / "docs/other.md").write_bytes("![1](img/1.png) \xff\n".encode("latin-1"))  # not UTF-8
    before = (tmp_path / MANIFEST).read_bytes()
    emulator.reset_counts()
    result = run(tmp_path, "prune", "--yes")
    assert result.returncode == 1
    assert "docs/other.md" in result.stderr and "not valid UTF-8" in result.stderr
    assert "nothing deleted: 1 page(s) could not be read" in result.stderr
    assert emulator.request_count() == 0 and (tmp_path / MANIFEST).read_bytes() == before
    assert len(emulator.stored_files()) == 2


def test_prune_deletes_nothing_beyond_max_delete(tmp_path: Path, emulator: Emulator) -> None:
    _pruneable(tmp_path, emulator, 5)
    emulator.reset_counts()
    refused = run(tmp_path, "prune", "--yes", "--max-delete", "3")
    assert refused.returncode == 1
    assert "nothing deleted: 5 files is more than --max-delete 3" in refused.stderr
    assert "mkdocs-wxcloud prune --yes --max-delete 5" in refused.stderr
    assert emulator.request_count() == 0 and len(emulator.stored_files()) == 6
    done = cli("prune", "--yes", "--max-delete", "5", cwd=tmp_path)
    assert done.exit_code == 0, done.stderr
    assert len(emulator.stored_files()) == 1 and set(mf.read(tmp_path / MANIFEST).images) == {"img/0.png"}


def test_prune_max_delete_defaults_to_a_safe_number(tmp_path: Path, emulator: Emulator) -> None:
    """Without --max-delete, 101 files are refused and 100 deleted: the default is exactly 100."""
    _pruneable(tmp_path, emulator, 101)
    emulator.reset_counts()
    refused = run(tmp_path, "prune", "--yes")
    assert refused.returncode == 1
    assert "nothing deleted: 101 files is more than --max-delete 100" in refused.stderr
    assert emulator.request_count() == 0 and len(emulator.stored_files()) == 102
    (tmp_path / "docs/index.md").write_text("![0](img/0.png)\n\n![1](img/1.png)\n", encoding="utf-8")
    done = run(tmp_path, "prune", "--yes")
    assert done.returncode == 0, done.stderr
    assert "deleted 100 of 100 file(s)" in done.stderr
    assert set(emulator.stored_files()) == {e.cloud_path for e in mf.read(tmp_path / MANIFEST).images.values()}
    assert set(mf.read(tmp_path / MANIFEST).images) == {"img/0.png", "img/1.png"}


# -- Ctrl-C --------------------------------------------------------------------------------------


def _interrupt(process: subprocess.Popen, emu: Emulator, after: int) -> tuple[int, str]:
    """Send SIGINT once ``after`` COS uploads are done; the uploads seen at that moment, and stderr."""
    deadline = time.monotonic() + 120
    while emu.request_count("/cos/") < after and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    seen = emu.request_count("/cos/")
    process.send_signal(signal.SIGINT)
    return seen, process.communicate(timeout=120)[1]


def _every_upload_recorded(root: Path, emu: Emulator) -> int:
    manifest = mf.read(root / MANIFEST)
    stored = emu.stored_files()
    assert {e.cloud_path for e in manifest.images.values()} == set(stored)
    assert not list((root / CACHE).glob("journal-*.jsonl"))  # folded into the manifest, not only journaled
    return len(stored)


@pytest.mark.parametrize("command", ["sync", "build"])
def test_ctrl_c_cancels_what_has_not_started_and_records_what_finished(tmp_path: Path, command: str) -> None:
    n = 300
    with Emulator(latency=0.02) as emu:
        make_site(tmp_path, many(n), emulator_options(emu, concurrency=8))
        argv = [str(BIN / "mkdocs-wxcloud"), "sync"] if command == "sync" else [str(BIN / "mkdocs"), "build"]
        process = subprocess.Popen(argv, cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        seen, stderr = _interrupt(process, emu, after=20)
        uploaded = _every_upload_recorded(tmp_path, emu)
        token_requests = emu.request_count("/cgi-bin/")
    assert "Traceback" not in stderr
    assert process.returncode == (130 if command == "sync" else 1), stderr
    assert uploaded < n / 2  # the queue was dropped, not run to its end
    assert uploaded - seen <= 8 * 2  # at most the uploads under way (one COS POST each) finished
    assert token_requests == 1  # no second client after the interrupt
    if command == "sync":
        assert "interrupted: the uploads that finished are recorded" in stderr


def test_a_run_after_ctrl_c_uploads_only_the_rest(tmp_path: Path) -> None:
    n = 120
    with Emulator(latency=0.02) as emu:
        make_site(tmp_path, many(n), emulator_options(emu, concurrency=4))
        process = subprocess.Popen(
            [str(BIN / "mkdocs-wxcloud"), "sync"], cwd=tmp_path, stderr=subprocess.PIPE, text=True
        )
        _interrupt(process, emu, after=10)
        first = _every_upload_recorded(tmp_path, emu)
        emu.reset_counts()
        emu.latency = 0.0  # the interrupt needed a slow service, the rest of the uploads does not
        assert cli("sync", cwd=tmp_path).exit_code == 0
        assert emu.request_count("/cos/") == n - first
        assert _every_upload_recorded(tmp_path, emu) == n


# -- an upload that could not be recorded is never made ----------------------------------------


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, where nobody (root neither) can write")
@pytest.mark.parametrize("option", [{"cache_dir": "/proc/self"}, {"manifest": "/proc/self/wxcloud-manifest.yml"}])
def test_nothing_is_uploaded_when_the_run_could_not_record_it(tmp_path: Path, emulator: Emulator, option: dict) -> None:
    make_site(tmp_path, many(3), emulator_options(emulator, **option))
    result = cli("sync", cwd=tmp_path)
    assert result.exit_code == 2
    assert "cannot be written" in result.stderr and "Traceback" not in result.stderr
    assert emulator.request_count("/tcb/uploadfile") == 0 and emulator.stored_files() == {}


# -- exclude_uploaded ----------------------------------------------------------------------------


def test_exclude_uploaded_keeps_every_file_the_built_site_may_load(tmp_path: Path, emulator: Emulator) -> None:
    """Styles, posters and ``extra_css`` load from the cloud too; ``<input type=image>`` is not ours."""
    page = (
        "![cloud](img/cloud.png) ![bg](img/bg.png) ![poster](img/poster.png) ![btn](img/btn.png) ![css](img/css.png)\n\n"
        "<div style=\"background-image: url('img/bg.png')\">x</div>\n\n"
        '<video src="clip.mp4" poster="img/poster.png"></video>\n\n'
        '<form><input type="image" src="img/btn.png" alt="go"></form>\n'
    )
    files: dict[str, bytes | str] = {"index.md": page, "extra.css": ".hero { background: url(img/css.png) }\n", "clip.mp4": b"\0" * 16,
             **{f"img/{n}.png": png(70 + i) for i, n in enumerate(["cloud", "bg", "poster", "btn", "css"])}}  # fmt: skip
    config = make_site(tmp_path, files, emulator_options(emulator, exclude_uploaded=True), extra_css=["extra.css"],
                       theme={"name": "mkdocs"})  # fmt: skip
    build(config, strict=True)
    site = tmp_path / "site"
    for gone in ("img/cloud.png", "img/bg.png", "img/poster.png", "img/css.png", "clip.mp4"):
        assert not (site / gone).exists(), gone  # linked from the cloud everywhere, loaded by nothing else
    assert (site / "img/btn.png").exists()  # an image button the plugin does not rewrite
    assert "url(http" in (site / "extra.css").read_text(encoding="utf-8")


# -- files that vanished from the cloud ----------------------------------------------------------


def test_check_remote_finds_lost_files_and_sync_repair_uploads_them(tmp_path: Path, emulator: Emulator) -> None:
    make_site(tmp_path, many(3), emulator_options(emulator))
    assert cli("sync", cwd=tmp_path).exit_code == 0
    manifest = mf.read(tmp_path / MANIFEST)
    lost = manifest.images["img/1.png"]
    with client(emulator) as c:
        assert c.delete([lost.file_id]) == {}  # deleted in the cloud console, say
    assert cli("check", cwd=tmp_path).exit_code == 0  # offline, it cannot know
    check = run(tmp_path, "check", "--remote")
    assert check.returncode == 1
    line = next(line for line in check.stdout.splitlines() if "img/1.png" in line)
    entry_line = (tmp_path / MANIFEST).read_text(encoding="utf-8").splitlines().index("  img/1.png:") + 1
    assert line.startswith(f"{MANIFEST}:{entry_line}: img/1.png: ") and "missing from the cloud" in line
    assert "sync --repair" in line and check.stdout.count("\n") == 1
    emulator.reset_counts()
    repair = cli("sync", "--repair", cwd=tmp_path)
    assert repair.exit_code == 0, repair.stderr
    assert emulator.request_count("/cos/") == 1
    assert emulator.stored_files()[lost.cloud_path] == png(1001)
    assert cli("check", "--remote", cwd=tmp_path).exit_code == 0


def test_sync_repair_retires_rather_than_drops_what_the_server_says_is_gone(tmp_path: Path, emulator: Emulator) -> None:
    """If that answer was wrong and no upload replaces the file, `prune` must still see it."""
    make_site(tmp_path, many(2), emulator_options(emulator))
    assert cli("sync", cwd=tmp_path).exit_code == 0
    lost = mf.read(tmp_path / MANIFEST).images["img/1.png"]
    with client(emulator) as c:
        assert c.delete([lost.file_id]) == {}
    emulator.fail_next("daily_quota", 1, "/tcb/uploadfile")  # the upload again fails: nothing replaces it
    assert cli("sync", "--repair", cwd=tmp_path).exit_code != 0
    manifest = mf.read(tmp_path / MANIFEST)
    assert "img/1.png" not in manifest.images and manifest.retired.get(lost.file_id) == lost.cloud_path


def test_a_file_the_link_call_does_not_see_yet_is_uploaded_once_more(tmp_path: Path, emulator: Emulator) -> None:
    def not_yet(answer: Exchange) -> Exchange:  # the first link call: WeChat has not indexed the upload
        if answer.path.startswith("/tcb/batchdownloadfile") and proxy.count("/tcb/batchdownloadfile") == 1:
            data = json.loads(answer.answer)
            data["file_list"] = [
                {**i, "status": 1, "download_url": "", "errmsg": "STORAGE_FILE_NONEXIST"} for i in data["file_list"]
            ]
            answer.answer = json.dumps(data).encode()
        return answer

    with Proxy(emulator.base_url, after=not_yet) as proxy:
        make_site(
            tmp_path,
            {"index.md": "![x](x.png)\n", "x.png": png(80)},
            emulator_options(emulator, api_base=proxy.base_url),
        )
        result = cli("sync", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert proxy.count("/tcb/uploadfile") == 2 and proxy.count("/tcb/batchdownloadfile") == 2
    assert mf.read(tmp_path / MANIFEST).images["x.png"].url


# -- rewrite -------------------------------------------------------------------------------------


def test_rewrite_handles_long_page_names_and_entity_encoded_attributes(tmp_path: Path, emulator: Emulator) -> None:
    long_name = "很长的页面名" * 14 + ".md"  # 254 bytes: the file system's limit, with no room for more
    assert len(long_name.encode()) >= 242
    # raw HTML resolves against the page's URL (<name>/), Markdown against its file
    page = '<img src="../img/a&quot;b.png" alt="q"> <img src="../img/&#22270;.png" alt="e"> ![m](img/a&b.png)\n'
    files: dict[str, bytes | str] = {
        long_name: page,
        'img/a"b.png': png(90),
        "img/图.png": png(91),
        "img/a&b.png": png(92),
    }
    make_site(tmp_path, files, emulator_options(emulator))
    result = cli("rewrite", "docs", "-o", "out", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    entries = mf.read(tmp_path / MANIFEST).images
    text = (tmp_path / "out" / long_name).read_text(encoding="utf-8")
    quoted, encoded, amp = (entries[p].url for p in ('img/a"b.png', "img/图.png", "img/a&b.png"))
    assert f'<img src="{quoted}" alt="q">' in text
    assert f'<img src="{encoded}" alt="e">' in text
    assert f"![m]({amp})" in text
    assert os.listdir(tmp_path / "out") == [long_name]  # no temporary file left beside it
