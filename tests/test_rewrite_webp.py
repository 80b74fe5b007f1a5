"""``rewrite --link file-id`` keeps the URL of an image stored as WebP: WeChat's <image> decodes WebP only from URLs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import emulator_options, make_site, png
from PIL import Image

from mkdocs_wxcloud.cli import main
from mkdocs_wxcloud.emulator import Emulator

PAGE = "![a](a.png)\n\n![w](w.webp)\n\n![again](w.webp)\n"
NOTE = "1 image(s) stored as WebP written as URLs, not file ids"


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (7, 193, 96)).save(out, "WEBP")
    return out.getvalue()


def cli(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: Emulator) -> dict[str, dict]:
    monkeypatch.chdir(tmp_path)
    make_site(tmp_path, {"index.md": PAGE, "a.png": png(1), "w.webp": webp()}, emulator_options(emulator))
    assert cli("sync").exit_code == 0
    return yaml.safe_load((tmp_path / "wxcloud-manifest.yml").read_text(encoding="utf-8"))["images"]


def test_webp_keeps_its_url_with_one_info_line(tmp_path: Path, images: dict[str, dict]) -> None:
    result = cli("rewrite", "docs", "-o", "out", "--link", "file-id")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out/index.md").read_text(encoding="utf-8") == (
        f"![a]({images['a.png']['file_id']})\n\n![w]({images['w.webp']['url']})\n\n![again]({images['w.webp']['url']})\n"
    )
    assert sum(NOTE in line for line in result.stderr.splitlines()) == 1


def test_webp_ids_writes_the_id(tmp_path: Path, images: dict[str, dict]) -> None:
    result = cli("rewrite", "docs", "-o", "out", "--link", "file-id", "--webp-ids")
    assert result.exit_code == 0, result.stderr
    assert f"![w]({images['w.webp']['file_id']})" in (tmp_path / "out/index.md").read_text(encoding="utf-8")
    assert NOTE not in result.stderr
    assert cli("rewrite", "docs", "-o", "out", "--webp-ids").exit_code == 2  # only with --link file-id
