"""Signed links of public files are stored unsigned and permanent; private storage keeps signed, expiring ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import build, emulator_options, make_site, png

from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.publishing.reporting import PRIVATE_STORAGE

PAGE = "# Home\n\n![a](a.png)\n\n![b](img/b.png)\n"


def _images(root: Path) -> dict[str, dict]:
    return yaml.safe_load((root / "wxcloud-manifest.yml").read_text(encoding="utf-8"))["images"]


def _site(root: Path, emu: Emulator) -> Path:
    return make_site(root, {"index.md": PAGE, "a.png": png(1), "img/b.png": png(2)}, emulator_options(emu))


def test_signed_links_of_public_storage_are_stored_unsigned_and_permanent(tmp_path: Path, caplog_wxcloud) -> None:
    with Emulator(sign_public_links=True) as emu:
        config = _site(tmp_path, emu)
        build(config)
        images = _images(tmp_path)
        assert sorted(images) == ["a.png", "img/b.png"]
        for entry in images.values():
            assert entry["url"].startswith(emu.base_url + "/dl/") and "?" not in entry["url"]
            assert "expires" not in entry
        html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
        assert images["a.png"]["url"] in html and "sign=" not in html
        assert PRIVATE_STORAGE not in caplog_wxcloud.text
        assert emu.request_count("/dl/") == 1  # one probe for the whole storage host

        emu.reset_counts()
        manifest = (tmp_path / "wxcloud-manifest.yml").read_bytes()
        build(config)
        assert emu.request_count() == 0
        assert (tmp_path / "wxcloud-manifest.yml").read_bytes() == manifest


def test_the_answer_is_remembered_per_environment(tmp_path: Path) -> None:
    """A new image later needs a link call, but no second probe of the storage."""
    with Emulator(sign_public_links=True) as emu:
        config = _site(tmp_path, emu)
        build(config)
        (tmp_path / "docs" / "c.png").write_bytes(png(3))
        (tmp_path / "docs" / "index.md").write_text(PAGE + "![c](c.png)\n", encoding="utf-8")
        emu.reset_counts()
        build(config)
        assert emu.request_count("/tcb/batchdownloadfile") == 1
        assert emu.request_count("/dl/") == 0
        assert "?" not in _images(tmp_path)["c.png"]["url"]


def test_fresh_checkout_with_a_complete_manifest_makes_no_request(tmp_path: Path) -> None:
    with Emulator(sign_public_links=True) as emu:
        config = _site(tmp_path, emu)
        build(config)
        shutil.rmtree(tmp_path / ".cache")  # a fresh checkout: the manifest, no cache folder
        emu.reset_counts()
        build(config)
        assert emu.request_count() == 0


@pytest.mark.parametrize("answer", ["private", "unreachable"])
def test_private_storage_keeps_signed_expiring_links_and_warns(tmp_path: Path, caplog_wxcloud, answer: str) -> None:
    with Emulator(private=True) as emu:
        if answer == "unreachable":
            emu.fail_next("drop", 1, "/dl/")  # no answer to the probe: not proof of public storage
        config = _site(tmp_path, emu)
        build(config)
        for entry in _images(tmp_path).values():
            assert "sign=" in entry["url"] and "&t=" in entry["url"]
            assert isinstance(entry["expires"], int)
        assert PRIVATE_STORAGE in caplog_wxcloud.text
        assert emu.request_count("/dl/") == 1
