"""The plugin end to end: real MkDocs builds against the emulator over HTTP."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import requests
from conftest import build, emulator_options, make_site, png
from mkdocs.exceptions import Abort

PAGE = """# Page

![one](img/one.png "title") and ![中文](图片/截图 一.png)

![ref][Logo]

<img src="img/two.png" width="30"><img src='./img/one.png'>

```md
![not me](img/one.png)
```

`![nor me](img/two.png)`

[full size](img/one.png) [remote](https://example.com/x.png)

[logo]: /img/logo.png
"""


def _site(tmp_path: Path, emu, **plugin: object) -> Path:
    return make_site(
        tmp_path,
        {
            "index.md": PAGE,
            "sub/page.md": "![up](../img/one.png)\n\n![same bytes, other name](../img/copy.png)\n",
            "img/one.png": png(1),
            "img/copy.png": png(1),
            "img/two.png": png(2),
            "img/logo.png": png(3),
            "图片/截图 一.png": png(4),
        },
        emulator_options(emu, **plugin),
    )


def _body(page: Path) -> str:
    """The built page without MkDocs' build-date comment."""
    return re.sub(r"<!--.*?-->", "", page.read_text(encoding="utf-8"), flags=re.S)


def _srcs(html: str) -> list[str]:
    """URLs of src/href attributes outside code (where `<img …>` is text, not a tag)."""
    html = re.sub(r"<(pre|code)\b.*?</\1>", "", html, flags=re.S)
    return re.findall(r'(?:src|href)=["\']?([^"\' >]+)', html)


def test_build_uploads_rewrites_and_records(tmp_path: Path, emulator) -> None:
    config = _site(tmp_path, emulator)
    build(config)
    html = (tmp_path / "site/index.html").read_text(encoding="utf-8")
    stored = emulator.stored_files()
    cloud = [u for u in _srcs(html) if u.startswith(emulator.base_url)]
    assert len(cloud) == 6  # 5 images (one twice) + the full-size link
    for url in cloud:
        answer = requests.get(url, timeout=5)
        assert answer.status_code == 200 and answer.content in stored.values()
    assert "![not me](img/one.png)" in html  # the fenced code block, byte for byte
    assert "![nor me](img/two.png)" in html
    assert "https://example.com/x.png" in html
    # identical bytes are uploaded once; every image got its own manifest entry
    assert len(stored) == 4
    manifest = (tmp_path / "wxcloud-manifest.yml").read_text(encoding="utf-8")
    for path in ("img/one.png", "img/copy.png", "img/two.png", "img/logo.png", "图片/截图 一.png"):
        assert f"{path}:" in manifest or f"'{path}':" in manifest
    assert "secret" not in manifest.lower()


def test_second_build_makes_no_request_and_keeps_manifest(tmp_path: Path, emulator) -> None:
    config = _site(tmp_path, emulator)
    build(config)
    manifest = (tmp_path / "wxcloud-manifest.yml").read_bytes()
    first = _body(tmp_path / "site/index.html")
    emulator.reset_counts()
    build(config)
    assert emulator.request_count() == 0
    assert (tmp_path / "wxcloud-manifest.yml").read_bytes() == manifest
    assert _body(tmp_path / "site/index.html") == first


def test_changed_image_gets_a_new_cloud_path(tmp_path: Path, emulator) -> None:
    config = _site(tmp_path, emulator)
    build(config)
    before = set(emulator.stored_files())
    (tmp_path / "docs/img/two.png").write_bytes(png(99))
    emulator.reset_counts()
    build(config)
    after = set(emulator.stored_files())
    assert len(after - before) == 1
    assert emulator.request_count("/tcb/uploadfile") == 1
    retired = (tmp_path / "wxcloud-manifest.yml").read_text(encoding="utf-8")
    assert "retired:" in retired


def test_missing_image_warns_with_page_and_line(tmp_path: Path, emulator, caplog_wxcloud) -> None:
    config = make_site(tmp_path, {"a/b.md": 'text\n\n<img src="nope.png">\n'}, emulator_options(emulator))
    build(config)
    assert any("a/b.md:3: image 'nope.png' not found" in r.getMessage() for r in caplog_wxcloud.records)
    with pytest.raises(Abort):
        build(config, strict=True)


def test_escaping_paths_are_never_uploaded(tmp_path: Path, emulator, caplog_wxcloud) -> None:
    (tmp_path / "outside.png").write_bytes(png(5))
    config = make_site(tmp_path, {"index.md": "![x](../outside.png)\n\n![y](link.png)\n"}, emulator_options(emulator))
    (tmp_path / "docs/link.png").symlink_to(tmp_path / "outside.png")
    build(config)
    assert emulator.stored_files() == {}
    messages = " ".join(r.getMessage() for r in caplog_wxcloud.records)
    assert "outside docs_dir" in messages and "symlink" in messages


def test_missing_credentials_fail_only_when_an_upload_is_needed(tmp_path: Path, emulator, caplog_wxcloud) -> None:
    config = _site(tmp_path, emulator)
    build(config)
    bare = make_site(tmp_path, {}, {})  # same docs and manifest, no credentials at all
    emulator.reset_counts()
    build(bare)  # everything is in the manifest: no credentials needed
    assert emulator.request_count() == 0
    (tmp_path / "docs/img/new.png").write_bytes(png(42))
    (tmp_path / "docs/new.md").write_text("![n](img/new.png)\n", encoding="utf-8")
    with pytest.raises(Abort):
        build(bare)
    assert "WXCLOUD_" in caplog_wxcloud.text


def test_offline_keeps_unknown_images_local(tmp_path: Path, emulator, caplog_wxcloud) -> None:
    config = make_site(
        tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(6)}, emulator_options(emulator, offline=True)
    )
    build(config)
    assert emulator.request_count() == 0
    assert 'src="x.png"' in (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert any("offline" in r.getMessage() for r in caplog_wxcloud.records)


def test_upload_failure_falls_back_to_local_url_or_fails(tmp_path: Path, emulator, caplog_wxcloud) -> None:
    config = make_site(
        tmp_path,
        {"dir/index.md": '![x](../x.png)\n\n<img src="../x.png">\n', "x.png": png(7)},
        emulator_options(emulator, retries=0),
    )
    emulator.fail_next("http502", count=100)
    build(config)
    html = (tmp_path / "site/dir/index.html").read_text(encoding="utf-8")
    assert 'src="../x.png"' in html and "wxcloud-pending" not in html
    config = make_site(tmp_path, {}, emulator_options(emulator, retries=0, on_error="fail"))
    caplog_wxcloud.clear()
    with pytest.raises(Abort):
        build(config)
    assert "image 'x.png' not published" in caplog_wxcloud.text


def test_serve_shows_local_images_by_default(tmp_path: Path, emulator) -> None:
    config = make_site(tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(8)}, emulator_options(emulator))
    build(config, command="serve")
    assert emulator.request_count() == 0
    assert 'src="x.png"' in (tmp_path / "site/index.html").read_text(encoding="utf-8")


def test_manifest_inside_docs_dir_is_refused(tmp_path: Path, emulator) -> None:
    config = make_site(tmp_path, {"index.md": "hi\n"}, emulator_options(emulator, manifest="docs/m.yml"))
    with pytest.raises(Abort):
        build(config)


def test_unknown_option_is_a_config_warning(tmp_path: Path, emulator, caplog: pytest.LogCaptureFixture) -> None:
    config = make_site(tmp_path, {"index.md": "hi\n"}, emulator_options(emulator, bogus_option=1))
    with pytest.raises(Abort, match="1 configuration warnings"):
        build(config, strict=True)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "wxcloud" in warnings[0] and "bogus_option" in warnings[0], warnings


def test_example_site_every_image_from_the_emulator_then_no_request(tmp_path: Path, emulator) -> None:
    """The README's first command, with the plugin pointed at the test's emulator."""
    import yaml
    from conftest import ROOT

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["docs_dir"] = str(ROOT / "example_site")
    assets = config["plugins"][1]["wxcloud"]["assets"]
    config["plugins"] = ["search", {"wxcloud": emulator_options(emulator, prefix="example", assets=assets)}]
    config_path = tmp_path / "mkdocs.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    build(config_path, strict=True)
    stored = emulator.stored_files()
    pages = list((tmp_path / "site").rglob("*.html"))
    local_images = 0
    for page in pages:
        for url in _srcs(_body(page)):
            if url.startswith(emulator.base_url):
                assert requests.get(url, timeout=5).content in stored.values()
            elif url.rsplit(".", 1)[-1].lower() in ("png", "jpg", "gif", "svg") and "://" not in url:
                local_images += 1 if "assets/" not in url else 0
    assert local_images == 0
    assert len(stored) >= 15
    # the example lists `documents` in `assets`: its PDF manual is a link to the cloud copy
    pdf = (ROOT / "example_site/files/接入手册.pdf").read_bytes()
    assert pdf in stored.values()
    guide = (tmp_path / "site/guide/getting-started/index.html").read_text(encoding="utf-8")
    assert 'href="../../files/' not in guide and "%E6%8E%A5%E5%85%A5%E6%89%8B%E5%86%8C" in guide
    manifest = (tmp_path / "wxcloud-manifest.yml").read_bytes()
    emulator.reset_counts()
    build(config_path, strict=True)
    assert emulator.request_count() == 0
    assert (tmp_path / "wxcloud-manifest.yml").read_bytes() == manifest


def test_files_generated_by_other_plugins_are_left_to_mkdocs(tmp_path: Path, emulator, caplog_wxcloud) -> None:
    hooks = tmp_path / "hooks.py"
    hooks.write_text(
        "from mkdocs.structure.files import File\n"
        "def on_files(files, config):\n"
        "    files.append(File.generated(config, 'gen/chart.png', content=b'PNG'))\n",
        encoding="utf-8",
    )
    config = make_site(tmp_path, {"index.md": "![c](gen/chart.png)\n"}, emulator_options(emulator),
                       hooks=[str(hooks)])  # fmt: skip
    build(config, strict=True)
    assert 'src="gen/chart.png"' in (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert emulator.request_count() == 0


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"concurrency": 0}, "`concurrency`"),
        ({"timeout": 0}, "`timeout`"),
        ({"link_max_age": 10**6}, "`link_max_age`"),
        ({"retries": -1}, "`retries`"),
        ({"cache_dir": "mkdocs.yml"}, "`cache_dir`"),
        ({"emulator": True, "emulator_address": "127.0.0.1:70000"}, "emulator"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, emulator, caplog_wxcloud, options, named) -> None:
    config = make_site(tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(30)}, emulator_options(emulator, **options))
    with pytest.raises(Abort):
        build(config)
    errors = [r.getMessage() for r in caplog_wxcloud.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and named in errors[0] and "\n" not in errors[0], errors
    assert "Traceback" not in caplog_wxcloud.text


def test_nul_byte_in_a_path_is_a_warning(tmp_path: Path, emulator, caplog_wxcloud) -> None:
    config = make_site(tmp_path, {"index.md": "![x](img/a%00.png)\n"}, emulator_options(emulator))
    build(config)
    assert "NUL byte" in caplog_wxcloud.text


def test_base_url_applies_to_images_uploaded_before(tmp_path: Path, emulator) -> None:
    files = {"index.md": "![x](x.png)\n", "x.png": png(31)}
    build(make_site(tmp_path, files, emulator_options(emulator)))
    emulator.reset_counts()
    build(make_site(tmp_path, files, emulator_options(emulator, base_url="https://img.example.com")))
    assert emulator.request_count() == 0
    assert 'src="https://img.example.com/docs/x.' in (tmp_path / "site/index.html").read_text(encoding="utf-8")
