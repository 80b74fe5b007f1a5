"""The commands judge the site the build makes, with the site's own MkDocs plugins (issue 21).

One small site per popular plugin, with the real package: the build publishes and links its
images; then ``check --strict`` passes on the complete build and ``prune --yes`` deletes nothing that
the built site shows.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import emulator_options, png
from inprocess import cli
from sites import LogRecorder, build, write_files

from mkdocs_wxcloud.emulator import Emulator


def _site(root: Path, files: dict[str, bytes | str], plugins: list, **config: object) -> Path:
    write_files(root / "docs", files)
    data = {"site_name": "t", "docs_dir": "docs", "site_dir": "site", "plugins": plugins, **config}
    path = root / "mkdocs.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _needs(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")


def _built_then_judged(root: Path, emu: Emulator, config: Path, shown: set[str], strict: bool = True) -> str:
    """Build (uploads and links), then ``check --strict`` passes and ``prune --yes`` deletes nothing;
    ``shown``: docs paths of files the built site shows, all of them in the cloud. What check said."""
    build(config)
    stored = set(emu.stored_files())
    for path in shown:
        stem = path.rsplit(".", 1)[0]
        assert any(cloud.startswith(f"docs/{stem}.") for cloud in stored), (path, stored)
    checked = cli("check", *(["--strict"] if strict else []), "-f", config, cwd=root)
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    pruned = cli("prune", "--yes", "-f", config, cwd=root)
    assert pruned.exit_code == 0, pruned.stderr
    assert set(emu.stored_files()) == stored, pruned.stdout
    assert "nothing to prune" in pruned.stderr
    return checked.stdout


def test_macros_that_write_image_paths(tmp_path: Path) -> None:
    _needs("mkdocs_macros")
    with Emulator() as emu:
        files = {
            "index.md": "# Home\n\n![a]({{ config.extra.imgdir }}/a.png)\n\n{{ figure('b') }}\n\n[gone](gone.md)\n",
            "img/a.png": png(1),
            "img/b.png": png(2),
        }
        write_files(tmp_path, {"main.py": "def define_env(env):\n    @env.macro\n    def figure(name):\n"
                                          "        return f'![{name}](img/{name}.png)'\n"})  # fmt: skip
        config = _site(tmp_path, files, ["macros", {"wxcloud": emulator_options(emu)}], extra={"imgdir": "img"})
        _built_then_judged(tmp_path, emu, config, {"img/a.png", "img/b.png"})


def test_include_markdown_images_relative_to_the_included_file(tmp_path: Path) -> None:
    _needs("mkdocs_include_markdown_plugin")
    with Emulator() as emu:
        files = {
            "guide/page.md": '# Guide\n\n{% include-markdown "../_parts/_part.md" %}\n\n'
            '{% include-markdown "../../shared/outside.md" %}\n',
            "_parts/_part.md": "![x](../img/x.png)\n",
            "img/x.png": png(3),
            "img/y.png": png(4),
        }
        write_files(tmp_path, {"shared/outside.md": "![y](../docs/img/y.png)\n"})
        plugins = ["include-markdown", {"wxcloud": emulator_options(emu)}]
        config = _site(tmp_path, files, plugins, exclude_docs="_parts/\n")
        _built_then_judged(tmp_path, emu, config, {"img/x.png", "img/y.png"})


def test_material_blog_raw_html_against_the_post_url_and_author_avatars(tmp_path: Path) -> None:
    _needs("material")
    with Emulator() as emu:
        post = ("---\ndate: 2024-01-15\nslug: 文章\nauthors: [ann]\n---\n\n# 文章\n\n![md](../../img/md.png)\n\n"
                "<!-- more -->\n\n<img src=\"../../../../../img/raw.png\">\n")  # fmt: skip
        files = {
            "index.md": "# Home\n",
            "blog/index.md": "# Blog\n",
            "blog/.authors.yml": "authors:\n  ann:\n    name: Ann\n    description: Writer\n    avatar: img/ann.png\n",
            "blog/posts/post.md": post,
            "img/md.png": png(5),
            "img/raw.png": png(6),
            "img/ann.png": png(7),
        }
        plugins = ["blog", {"wxcloud": emulator_options(emu)}]
        config = _site(tmp_path, files, plugins, theme={"name": "material"})
        said = _built_then_judged(tmp_path, emu, config, {"img/md.png", "img/raw.png"}, strict=False)
    # the avatar comes from the theme's template: the build leaves it local, and check says so (once)
    assert said == (
        "warning: blog/index.html:401: ../img/ann.png: the built site loads img/ann.png from the site, not the "
        "cloud: the theme or a plugin writes this URL outside the pages' Markdown; after `mkdocs build`, "
        "`mkdocs-wxcloud publish site/` publishes it\n"
    )
    assert cli("check", "--strict", "-f", config, cwd=tmp_path).exit_code == 1


I18N = {"locale": "en", "default": True, "name": "English"}, {"locale": "zh", "name": "中文"}


def test_static_i18n_localized_files_by_suffix(tmp_path: Path) -> None:
    _needs("mkdocs_static_i18n")
    with Emulator() as emu:
        files = {
            "index.en.md": "# Home\n\n![ui](images/界面.png)\n",
            "index.zh.md": "# 首页\n\n![ui](images/界面.png)\n",
            "images/界面.en.png": png(10),
            "images/界面.zh.png": png(11),
        }
        i18n = {"i18n": {"docs_structure": "suffix", "languages": list(I18N)}}
        config = _site(tmp_path, files, [i18n, {"wxcloud": emulator_options(emu)}])
        _built_then_judged(tmp_path, emu, config, {"images/界面.en.png", "images/界面.zh.png"})
        zh = (tmp_path / "site/zh/index.html").read_text(encoding="utf-8")
        assert "/docs/images/%E7%95%8C%E9%9D%A2.zh." in zh  # each language links its own picture


def test_static_i18n_folder_fallback_to_the_default_language(tmp_path: Path) -> None:
    _needs("mkdocs_static_i18n")
    with Emulator() as emu:
        files = {
            "en/index.md": "# Home\n\n![ui](images/pic.png)\n",
            "zh/index.md": "# 首页\n\n![ui](images/pic.png)\n",  # no zh/images/pic.png: the English one is shown
            "en/images/pic.png": png(12),
        }
        i18n = {"i18n": {"docs_structure": "folder", "fallback_to_default": True, "languages": list(I18N)}}
        config = _site(tmp_path, files, [i18n, {"wxcloud": emulator_options(emu)}])
        _built_then_judged(tmp_path, emu, config, {"en/images/pic.png"})
        assert "/docs/en/images/pic." in (tmp_path / "site/zh/index.html").read_text(encoding="utf-8")


def _minified(root: Path, emu: Emulator, **minify: object) -> Path:
    files = {
        "index.md": "# Home\n\n![a](img/a.png)\n",
        "css/extra.css": ".hero { background: url(../img/bg.png); }\n",
        "img/a.png": png(20),
        "img/bg.png": png(21),
    }
    plugins = [{"minify": {"minify_css": True, "css_files": ["css/extra.css"], **minify}},
               {"wxcloud": emulator_options(emu)}]  # fmt: skip
    return _site(root, files, plugins, extra_css=["css/extra.css"])


def test_minify_css_files_renames_the_stylesheet_that_the_build_links(tmp_path: Path) -> None:
    _needs("mkdocs_minify_plugin")
    with Emulator() as emu:
        _built_then_judged(tmp_path, emu, _minified(tmp_path, emu), {"img/a.png", "img/bg.png"})
        assert "/docs/img/bg." in (tmp_path / "site/css/extra.min.css").read_text(encoding="utf-8")


def test_minify_cache_safe_writes_the_local_urls_back_and_check_says_so(tmp_path: Path) -> None:
    _needs("mkdocs_minify_plugin")
    with Emulator() as emu:
        config = _minified(tmp_path, emu, cache_safe=True)
        said = _built_then_judged(tmp_path, emu, config, {"img/a.png", "img/bg.png"}, strict=False)
    (minified,) = (tmp_path / "site/css").glob("extra.*.min.css")
    assert "url(../img/bg.png)" in minified.read_text(encoding="utf-8")  # what readers load: the local file
    assert said == (
        f"warning: css/{minified.name}:1: ../img/bg.png: the built site loads img/bg.png from the site, not the "
        "cloud: a plugin wrote this stylesheet after wxcloud linked its copy (minify's `cache_safe` does); after "
        "`mkdocs build`, `mkdocs-wxcloud publish site/` publishes it\n"
    )


def test_material_optimize_is_said_to_be_lost_work(tmp_path: Path) -> None:
    _needs("material")
    _needs("mkdocs_macros")
    pil = pytest.importorskip("PIL.Image")
    with Emulator() as emu:
        picture = pil.effect_noise((64, 64), 80).convert("RGB")
        picture.save(tmp_path / "b.jpg", quality=100)
        files = {"index.md": "# Home\n\n![b](img/b.jpg)\n", "img/b.jpg": (tmp_path / "b.jpg").read_bytes()}
        plugins = ["macros", {"optimize": {"optimize_png": False}}, {"wxcloud": emulator_options(emu)}]
        config = _site(tmp_path, files, plugins, theme={"name": "material"})
        logger, recorder = logging.getLogger("mkdocs"), LogRecorder()
        logger.addHandler(recorder)
        try:
            _built_then_judged(tmp_path, emu, config, {"img/b.jpg"})
        finally:
            logger.removeHandler(recorder)
        shutil.rmtree(tmp_path / ".cache/plugin/optimize")
        checked = cli("check", "-f", config, cwd=tmp_path)  # through a build (macros), without optimize's work
        optimized = tmp_path / ".cache/plugin/optimize"  # (its manifest may be saved again at shutdown)
        assert not [path for path in optimized.rglob("*") if path.suffix.lower() in (".jpg", ".png")]
    said = "material/optimize writes smaller copies of images into site_dir, but wxcloud publishes the originals"
    assert sum(said in message for message in recorder.messages) == 1  # the build says it, once
    assert checked.exit_code == 0 and said in checked.stderr  # and so does check
    assert (tmp_path / "site/img/b.jpg").stat().st_size < len(files["img/b.jpg"])  # the copy nobody loads


def _macros_site(root: Path, emu: Emulator, **macros: object) -> Path:
    files = {"index.md": "# Home\n\n![a]({{ config.extra.imgdir }}/a.png)\n", "img/a.png": png(1), "img/b.png": png(2)}
    plugins = [{"macros": macros}, {"wxcloud": emulator_options(emu)}]
    return _site(root, files, plugins, extra={"imgdir": "img"})


def test_sync_uploads_what_the_macros_render_without_a_build(tmp_path: Path) -> None:
    _needs("mkdocs_macros")
    with Emulator() as emu:
        config = _macros_site(tmp_path, emu)
        synced = cli("sync", "-f", config, cwd=tmp_path)
        assert synced.exit_code == 0, synced.stderr
        assert [path.split("/")[-1].split(".")[0] for path in emu.stored_files()] == ["a"]
        assert not (tmp_path / "site").exists()  # the build it read through went to a temporary folder
        assert cli("check", "--strict", "-f", config, cwd=tmp_path).exit_code == 0


def test_prune_refuses_when_a_macro_failed_and_the_page_shows_an_error(tmp_path: Path) -> None:
    _needs("mkdocs_macros")
    with Emulator() as emu:
        config = _macros_site(tmp_path, emu)
        build(config)
        index = tmp_path / "docs/index.md"
        index.write_text(index.read_text(encoding="utf-8") + "\n{{ nope( }}\n", encoding="utf-8")
        stored = set(emu.stored_files())
        pruned = cli("prune", "--yes", "-f", config, cwd=tmp_path)
        assert pruned.exit_code == 1 and set(emu.stored_files()) == stored
        assert pruned.stderr.splitlines()[-1] == (
            "error: nothing deleted: the build warned ([macros] - ERROR # _Macro Syntax Error_ _File_: `index.md` "
            "_Line 5 in Markdown file:_ **unexpected '}', expected ')'** ```markdown {{ nope( }} ```): fix it "
            "(`mkdocs build` shows it), then prune again"
        )


def test_a_build_that_fails_is_one_line_and_prune_deletes_nothing(tmp_path: Path) -> None:
    _needs("mkdocs_macros")
    with Emulator() as emu:
        config = _macros_site(tmp_path, emu, on_error_fail=True)
        build(config)
        (tmp_path / "docs/index.md").write_text("# Home\n\n{{ nope( }}\n", encoding="utf-8")
        stored = set(emu.stored_files())
        pruned = cli("prune", "--yes", "-f", config, cwd=tmp_path)
    assert pruned.exit_code == 2 and set(emu.stored_files()) == stored
    (line,) = [line for line in pruned.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {config}: the build failed ([macros] - ERROR")
    assert line.endswith("): fix it (`mkdocs build` shows why), then run the command again")


def test_a_site_without_page_changing_plugins_keeps_the_fast_scan(tmp_path: Path) -> None:
    with Emulator() as emu:
        files = {"index.md": "# Home\n\n![a](img/a.png)\n", "img/a.png": png(1)}
        config = _site(tmp_path, files, ["search", {"wxcloud": emulator_options(emu)}])
        build(config)
        checked = cli("check", "-f", config, cwd=tmp_path)
    assert checked.exit_code == 0 and "through a build" not in checked.stderr


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                   capture_output=True)  # fmt: skip


def test_prune_keeps_what_a_tagged_version_still_records(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    with Emulator() as emu:
        files = {"index.md": "# Home\n\n![a](img/a.png)\n\n![b](img/b.png)\n", "img/a.png": png(1), "img/b.png": png(2)}
        config = _site(tmp_path, files, [{"wxcloud": emulator_options(emu)}])
        build(config)
        _git(tmp_path, "init", "-q", "-b", "main")
        _git(tmp_path, "add", "mkdocs.yml", "docs", "wxcloud-manifest.yml")
        _git(tmp_path, "commit", "-qm", "v1")
        _git(tmp_path, "tag", "-a", "v1", "-m", "v1")  # deployed as version 1 (mike): it shows b
        (tmp_path / "docs/index.md").write_text("# Home\n\n![a](img/a.png)\n", encoding="utf-8")
        _git(tmp_path, "commit", "-qam", "v2 without b")
        stored = set(emu.stored_files())
        kept = cli("prune", "--yes", "-f", config, cwd=tmp_path)
        assert kept.exit_code == 0 and set(emu.stored_files()) == stored, kept.stderr
        (b,) = [path for path in stored if path.startswith("docs/img/b.")]
        assert f"kept 1 file(s) that other branches or tags still record (tags/v1 records {b})" in kept.stderr
        manifest = yaml.safe_load((tmp_path / "wxcloud-manifest.yml").read_text(encoding="utf-8"))
        assert list(manifest["images"]) == ["img/a.png"] and [r["cloud_path"] for r in manifest["retired"]] == [b]
        _git(tmp_path, "tag", "-d", "v1")  # version 1 is gone: b goes with the next prune
        gone = cli("prune", "--yes", "-f", config, cwd=tmp_path)
        assert gone.exit_code == 0 and set(emu.stored_files()) == stored - {b}, gone.stderr


def test_prune_keeps_what_another_site_of_the_repository_records(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    with Emulator() as emu:
        files = {"index.md": "# Home\n\n![logo](img/logo.png)\n", "img/logo.png": png(9)}
        first, second = (_site(tmp_path / name, files, [{"wxcloud": emulator_options(emu)}]) for name in "ab")
        build(first)
        build(second)  # the same file at the same cloud path: one object for both sites
        _git(tmp_path, "init", "-q", "-b", "main")
        _git(tmp_path, "add", ".")
        (tmp_path / "a/docs/index.md").write_text("# Home\n", encoding="utf-8")
        stored = set(emu.stored_files())
        pruned = cli("prune", "--yes", "-f", first, cwd=first.parent)
        assert pruned.exit_code == 0 and set(emu.stored_files()) == stored and len(stored) == 1, pruned.stderr
        assert f"(b/wxcloud-manifest.yml records {next(iter(stored))})" in pruned.stderr


def test_prune_deletes_through_a_build_that_warns_only_about_a_broken_link(tmp_path: Path) -> None:
    _needs("mkdocs_macros")
    with Emulator() as emu:
        config = _macros_site(tmp_path, emu)
        index = tmp_path / "docs/index.md"
        index.write_text(index.read_text(encoding="utf-8") + "\n![b](img/b.png)\n", encoding="utf-8")
        build(config)
        index.write_text("# Home\n\n![a]({{ config.extra.imgdir }}/a.png)\n\n[gone](gone.md)\n", encoding="utf-8")
        pruned = cli("prune", "--yes", "-f", config, cwd=tmp_path)
        assert pruned.exit_code == 0, pruned.stderr
        assert [path.split("/")[-1].split(".")[0] for path in emu.stored_files()] == ["a"]
