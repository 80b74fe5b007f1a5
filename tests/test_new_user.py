"""What a new user trips over (issue 21): each first-run surprise, as the user meets it, over real HTTP."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import pytest
import yaml
from conftest import build, emulator_options, make_site, png
from inprocess import cli

from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.errors import ConfigError
from mkdocs_wxcloud.references import assets

MANIFEST = "wxcloud-manifest.yml"


def wx_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("wxcloud:")]


# -- 3. an unknown word in `assets` --------------------------------------------------------------


@pytest.mark.parametrize("word", ["videos", "apk", "Zip"])
def test_a_word_in_assets_that_is_no_group_and_has_no_dot_is_an_error(word: str) -> None:
    with pytest.raises(ConfigError) as raised:
        assets.parse(["images", word])
    assert str(raised.value) == (
        f"option `assets`: {word!r} is neither a group (images, video, audio, documents) nor an extension: "
        "write extensions with a dot, such as .zip"
    )


def test_extensions_with_their_dot_and_groups_are_taken() -> None:
    parsed = assets.parse(["video", ".APK", ".zip"])
    assert parsed.publishes("a.apk", "a") and parsed.publishes("b.zip", "a") and parsed.publishes("c.mp4", "video")
    assert not parsed.images


def test_check_fails_on_a_mistyped_group_instead_of_passing(here: Path) -> None:
    make_site(here, {"index.md": '<video src="a.mp4"></video>\n', "a.mp4": b"\x00\x00\x00\x18ftypmp42"},
              {"offline": True, "assets": ["images", "videos"]})  # fmt: skip
    result = cli("check")
    assert result.exit_code == 2
    assert "'videos' is neither a group" in result.stderr


# -- 1. the emulator's demo credentials ----------------------------------------------------------


def test_the_emulator_banner_and_help_show_the_demo_secret(tmp_path: Path) -> None:
    from conftest import free_port, start_emulator, stop_emulator

    from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET

    port = free_port()
    code, out = stop_emulator(start_emulator(port, tmp_path / "data"))
    assert code == 0
    assert f"(appid {DEFAULT_APPID}, secret {DEFAULT_SECRET}, env {DEFAULT_ENV})" in out
    help_text = "".join(cli("emulator", "--help").output.split())  # click wraps lines at spaces and hyphens
    assert f"TheAppSecretitaccepts(default:thepublicdemosecret{DEFAULT_SECRET})." in help_text


# -- 2. `dimensions: true` without Pillow --------------------------------------------------------


def test_dimensions_without_pillow_says_so_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 caplog_wxcloud: pytest.LogCaptureFixture) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, "PIL", None)  # what `import PIL` finds when Pillow is not installed
    pages = {f"p{i}.md": f"![a](a{i}.png)\n" for i in range(3)}
    make_site(tmp_path, {**pages, **{f"a{i}.png": png(i) for i in range(3)}}, {"offline": True, "dimensions": True})
    build(tmp_path / "mkdocs.yml")
    needs = "wxcloud: `dimensions: true` needs Pillow: pip install 'mkdocs-wxcloud[optimize]'"
    assert wx_lines(caplog_wxcloud).count(needs) == 1


# -- 4, 5. missing credentials: every one at once, worded so that redaction leaves them alone ----


APPID = "no AppID (option `appid` or variable WXCLOUD_APPID)"
SECRET = "no AppSecret (option `secret` or variable WXCLOUD_SECRET)"
ENV = "no cloud environment (option `env` or variable WXCLOUD_ENV)"


@pytest.mark.parametrize(("plugin", "missing"), [
    ({}, [APPID, SECRET, ENV]),
    ({"appid": "wx1"}, [SECRET, ENV]),
    ({"env": "e1"}, [APPID, SECRET]),
    ({"appid": "wx1", "env": "e1"}, [SECRET]),
    ({"auth": "openapi"}, [ENV]),
])  # fmt: skip
def test_missing_credentials_are_named_at_once_in_one_line(here: Path, plugin: dict, missing: list[str]) -> None:
    make_site(here, {"index.md": "![a](a.png)\n", "a.png": png(1)}, {"api_base": "http://127.0.0.1:9", **plugin})
    result = cli("sync")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"error: missing credentials: {', '.join(missing)}"]


# -- 6. a first build with a mistyped env --------------------------------------------------------


def test_a_mistyped_env_on_the_first_build_does_not_pin_the_manifest(tmp_path: Path, emulator: Emulator) -> None:
    from mkdocs.exceptions import Abort, PluginError

    files: dict[str, bytes | str] = {"index.md": "![a](a.png)\n", "a.png": png(1)}
    make_site(tmp_path, files, emulator_options(emulator, env="emulator-typo"))
    with pytest.raises((Abort, PluginError)):
        build(tmp_path / "mkdocs.yml")
    assert (yaml.safe_load((tmp_path / MANIFEST).read_text()) or {}).get("env") is None
    make_site(tmp_path, files, emulator_options(emulator))  # the env corrected
    build(tmp_path / "mkdocs.yml")
    written = yaml.safe_load((tmp_path / MANIFEST).read_text())
    assert written["env"] == emulator.envs[0] and list(written["images"]) == ["a.png"]


def test_sync_writes_an_empty_manifest_without_an_env_then_pins_it_with_the_first_entry(
    here: Path, emulator: Emulator
) -> None:
    make_site(here, {"index.md": "# no images yet\n"}, emulator_options(emulator))
    assert cli("sync").exit_code == 0
    written = yaml.safe_load((here / MANIFEST).read_text())  # Zensical's `watch` needs the file
    assert written["env"] is None and not written["images"]
    make_site(here, {"index.md": "![a](a.png)\n", "a.png": png(1)}, emulator_options(emulator))
    assert cli("sync").exit_code == 0
    written = yaml.safe_load((here / MANIFEST).read_text())
    assert written["env"] == emulator.envs[0] and list(written["images"]) == ["a.png"]


# -- 7. the hint to view the site names the emulator's address -----------------------------------


def test_the_hint_to_view_the_site_names_a_non_default_port(tmp_path: Path,
                                                            caplog_wxcloud: pytest.LogCaptureFixture) -> None:  # fmt: skip
    from conftest import free_port

    port = free_port()
    data = tmp_path / "emu"
    make_site(tmp_path, {"index.md": "![a](a.png)\n", "a.png": png(1)},
              {"emulator": True, "emulator_address": f"127.0.0.1:{port}", "emulator_data": str(data)})  # fmt: skip
    build(tmp_path / "mkdocs.yml")
    hints = [line for line in wx_lines(caplog_wxcloud) if "to view the built site" in line]
    assert len(hints) == 1 and f"run `mkdocs-wxcloud emulator --data {data} --port {port}` to view" in hints[0]


# -- 8. the API cannot be reached: said once, with its cause -------------------------------------


def unreachable_site(root: Path, n: int) -> tuple[Path, str]:
    from conftest import free_port

    api = f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    pages = {f"p{i}.md": f"![a](a{i}.png)\n" for i in range(n)}
    options = {"api_base": api, "appid": "wx1", "secret": "s3cret-value", "env": "e1", "retries": 0}
    return make_site(root, {**pages, **{f"a{i}.png": png(i) for i in range(n)}}, options), api


def test_an_unreachable_api_is_one_warning_with_its_cause(tmp_path: Path,
                                                          caplog_wxcloud: pytest.LogCaptureFixture) -> None:  # fmt: skip
    config, api = unreachable_site(tmp_path, 7)
    build(config)
    warnings = [r.getMessage() for r in caplog_wxcloud.records if r.levelno >= logging.WARNING]
    assert warnings == [f"wxcloud: the WeChat API at {api} could not be reached (connection refused): 7 files not "
                        "published (a0.png, a1.png, a2.png, a3.png, a4.png and 2 more), the pages link the local "
                        "files"]  # fmt: skip
    assert '<img alt="a" src="../a0.png" />' in (tmp_path / "site" / "p0" / "index.html").read_text()


def test_an_unreachable_api_still_fails_a_strict_build(tmp_path: Path) -> None:
    from mkdocs.exceptions import Abort

    config, _ = unreachable_site(tmp_path, 2)
    with pytest.raises(Abort):
        build(config, strict=True)


def test_an_unreachable_api_is_one_warning_under_the_markdown_extension(
    here: Path, caplog_wxcloud: pytest.LogCaptureFixture
) -> None:
    import markdown

    _, api = unreachable_site(here, 3)
    options = yaml.safe_load((here / "mkdocs.yml").read_text())["plugins"][0]["wxcloud"]
    for i in range(3):  # a new Markdown per page, as Zensical makes
        config = {"wxcloud": {**options, "docs_dir": "docs", "page": f"p{i}.md", "upload": True}}
        html = markdown.Markdown(extensions=["wxcloud"], extension_configs=config).convert(f"![a](a{i}.png)")
        assert html == f'<p><img alt="a" src="a{i}.png" /></p>'
    warnings = [r.getMessage() for r in caplog_wxcloud.records if r.levelno >= logging.WARNING]
    assert warnings == [f"wxcloud: the WeChat API at {api} could not be reached (connection refused): no more files "
                        "are published, the pages link the local files"]  # fmt: skip


# -- 9. a summary line on every build, and progress on a terminal --------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_every_build_says_what_it_did_and_a_cold_one_shows_progress_on_a_terminal(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog_wxcloud: pytest.LogCaptureFixture
) -> None:
    import re

    pages = {f"p{i}.md": f"![a](a{i}.png)\n" for i in range(3)}
    config = make_site(tmp_path, {**pages, **{f"a{i}.png": png(i) for i in range(3)}}, emulator_options(emulator))
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    build(config)
    size = len(png(0)) + len(png(1)) + len(png(2))
    shown = terminal.getvalue()
    assert f"\rwxcloud: uploading 3/3 files, {size} B of {size} B\x1b[K" in shown and shown.endswith("\r\x1b[K")
    summary = [line for line in wx_lines(caplog_wxcloud) if " reused, " in line]
    assert len(summary) == 1 and re.fullmatch(
        rf"wxcloud: 3 uploaded \({size} B\), 0 reused, 0 failed in \d+\.\d s, \d+ requests", summary[0]
    ), summary
    caplog_wxcloud.clear()
    terminal.truncate(0)
    build(config)  # warm: nothing to upload, and still a line
    summary = [line for line in wx_lines(caplog_wxcloud) if " reused, " in line]
    assert len(summary) == 1 and re.fullmatch(
        r"wxcloud: 0 uploaded \(0 B\), 3 reused, 0 failed in \d+\.\d s, 0 requests", summary[0]
    ), summary
    assert "uploading" not in terminal.getvalue()


def test_no_progress_line_when_stderr_is_no_terminal(tmp_path: Path, emulator: Emulator, capsys) -> None:  # noqa: ANN001
    config = make_site(tmp_path, {"index.md": "![a](a.png)\n", "a.png": png(1)}, emulator_options(emulator))
    build(config)
    assert "uploading" not in capsys.readouterr().err


# -- 10. `rewrite --root`: its manifest and caches beside where it runs, not in the root ---------


def test_rewrite_with_a_root_keeps_the_manifest_and_caches_out_of_it(here: Path, emulator: Emulator,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET

    (here / "content/img").mkdir(parents=True)
    (here / "content/a.md").write_text("![a](img/a.png)\n", encoding="utf-8")
    (here / "content/img/a.png").write_bytes(png(1))
    for name, value in [("API_BASE", emulator.base_url), ("APPID", DEFAULT_APPID), ("SECRET", DEFAULT_SECRET),
                        ("ENV", DEFAULT_ENV)]:  # fmt: skip
        monkeypatch.setenv(f"WXCLOUD_{name}", value)
    result = cli("rewrite", "content", "--root", "content", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.relative_to(here / "content").as_posix() for p in (here / "content").rglob("*")) == [
        "a.md", "img", "img/a.png"
    ]  # fmt: skip
    assert list(yaml.safe_load((here / MANIFEST).read_text())["images"]) == ["img/a.png"]
    assert (here / ".cache/plugin/wxcloud").is_dir()


# -- 11, 12. `rewrite`: a missing file fails it; -o inside docs_dir is refused -------------------


def test_rewrite_fails_on_a_missing_file_as_check_does(here: Path, emulator: Emulator) -> None:
    make_site(here, {"a.md": "![a](a.png)\n\n![gone](gone.png)\n", "a.png": png(1)}, emulator_options(emulator))
    result = cli("rewrite", "docs", "-o", "out")
    assert result.exit_code == 1
    assert "docs/a.md:3: gone.png: not found in docs_dir: fix the path or add the file" in result.stderr
    assert cli("check").exit_code == 1


def test_rewrite_refuses_an_output_folder_inside_docs_dir(here: Path, emulator: Emulator) -> None:
    make_site(here, {"a.md": "![a](a.png)\n", "a.png": png(1)}, emulator_options(emulator))
    result = cli("rewrite", "docs", "-o", "docs/out")
    assert result.exit_code == 2
    assert ("-o docs/out is inside the docs folder docs: the next build would publish the rewritten copies; "
            "write them outside it") in result.stderr  # fmt: skip
    assert not (here / "docs/out").exists() and emulator.request_count() == 0


# -- 13. `sync --dry-run` tells uploads from links -----------------------------------------------


def test_sync_dry_run_counts_files_that_lack_only_a_link_apart(here: Path, emulator: Emulator) -> None:
    files: dict[str, bytes | str] = {
        "index.md": "![a](a.png)\n\n![b](b.png)\n\n![c](c.png)\n",
        "a.png": png(1),
        "b.png": png(2),
    }
    make_site(here, files, emulator_options(emulator))
    assert cli("sync").exit_code == 0
    written = yaml.safe_load((here / MANIFEST).read_text())
    written["images"]["b.png"]["url"] = ""  # uploaded, and interrupted before its link came
    (here / MANIFEST).write_text(yaml.safe_dump(written))
    (here / "docs/c.png").write_bytes(png(3))
    emulator.reset_counts()
    result = cli("sync", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == ["c.png", "b.png  (uploaded; only its link is fetched)"]
    assert "1 file(s) to upload, 1 link(s) to fetch (dry run)" in result.stderr.splitlines()
    assert emulator.request_count() == 0


# -- 14, 15. `prune` with nothing to do; `prune -q` ----------------------------------------------


def test_prune_with_nothing_to_do_says_so(here: Path, emulator: Emulator) -> None:
    make_site(here, {"index.md": "![a](a.png)\n", "a.png": png(1)}, emulator_options(emulator))
    assert cli("sync").exit_code == 0
    for args in ([], ["--yes"]):
        result = cli("prune", *args)
        assert result.exit_code == 0
        assert (result.stdout, result.stderr) == ("", "nothing to prune\n")


def test_prune_quiet_prints_nothing_but_errors(here: Path, emulator: Emulator) -> None:
    make_site(here, {"index.md": "![a](a.png)\n\n![b](b.png)\n", "a.png": png(1), "b.png": png(2)},
              emulator_options(emulator))  # fmt: skip
    assert cli("sync").exit_code == 0
    (here / "docs/index.md").write_text("![a](a.png)\n", encoding="utf-8")
    result = cli("prune", "-q")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert len(cli("prune").stdout.splitlines()) == 1  # not quiet: the file is listed
    result = cli("prune", "-q", "--yes")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert len(emulator.stored_files()) == 1


# -- 16. a video is called a video ---------------------------------------------------------------


def test_a_video_over_max_size_gets_advice_for_a_video_and_json_names_its_kind(here: Path, emulator: Emulator) -> None:
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(2000)
    page = '![a](a.png)\n\n<video src="v.mp4"></video>\n'
    files: dict[str, bytes | str] = {"index.md": page, "a.png": png(1), "v.mp4": video}
    make_site(here, files, emulator_options(emulator, max_size="1 KB"))
    assert cli("sync").exit_code == 0
    (here / "docs/b.pdf").write_bytes(b"%PDF-1.4")
    (here / "docs/index.md").write_text(f"{page}\n[manual](b.pdf)\n", encoding="utf-8")
    make_site(here, {}, emulator_options(emulator, max_size="1 KB", assets=["images", "video", "documents"]))
    result = cli("check", "--format", "json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert [(p["level"], p["line"], p["asset"], p["kind"], p["image"]) for p in problems] == [
        ("warning", 3, "v.mp4", "video", "v.mp4"),
        ("error", 5, "b.pdf", "document", "b.pdf"),
    ]
    assert problems[0]["message"] == (
        "is 2.0 KB in the cloud (not optimized), over `max_size` (1.0 KB): make the video smaller, or host it elsewhere"
    )


# -- 17. `exclude_uploaded` leaves no empty folders ----------------------------------------------


def test_exclude_uploaded_removes_the_folders_it_emptied(tmp_path: Path, emulator: Emulator) -> None:
    files: dict[str, bytes | str] = {"index.md": "![a](media/img/a.png)\n\n![b](shared/b.png)\n\n[notes](shared/notes.txt)\n",
             "media/img/a.png": png(1), "shared/b.png": png(2), "shared/notes.txt": "kept\n"}  # fmt: skip
    config = make_site(tmp_path, files, emulator_options(emulator, exclude_uploaded=True))
    build(config)
    site = tmp_path / "site"
    assert not (site / "media").exists()
    assert sorted(p.name for p in (site / "shared").iterdir()) == ["notes.txt"]


# -- 18. raw HTML that is not found names the path looked for ------------------------------------


def test_raw_html_not_found_names_the_path_it_looked_for(here: Path, caplog_wxcloud: pytest.LogCaptureFixture) -> None:
    files: dict[str, bytes | str] = {"guide/page.md": 'Text\n\n<img src="img/x.png">\n', "guide/img/x.png": png(1)}
    make_site(here, files, {"offline": True})
    build(here / "mkdocs.yml")
    why = "not found in docs_dir: fix the path or add the file; looked for guide/page/img/x.png (raw HTML is " \
          "relative to the page's URL)"  # fmt: skip
    found = [r.getMessage() for r in caplog_wxcloud.records if "x.png" in r.getMessage()]
    assert found == [f"guide/page.md:3: image 'img/x.png' {why}"]
    result = cli("check")
    assert result.exit_code == 1
    assert result.stdout == f"docs/guide/page.md:3: img/x.png: {why}\n"
