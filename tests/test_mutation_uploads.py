"""Behaviours of the upload queue that mutation testing found unpinned (issue 26).

Each test goes through a run (open_run, publish, finish) against the emulator over real HTTP, with the
loopback proxy of tests/proxy.py where a file must change at a chosen moment.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import emulator_options, png
from proxy import Exchange, Proxy

from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.publishing.run import Mode, open_run
from mkdocs_wxcloud.publishing.settings import resolve


def test_the_bytes_of_an_upload_sent_again_are_taken_back_from_that_files_progress(
    tmp_path: Path, emulator: Emulator
) -> None:
    """A file rewritten while it is sent is sent again under its new hash: the progress of that file
    takes the first sending back, so its total is the size of what was stored."""
    docs = tmp_path / "docs"
    docs.mkdir()
    image = docs / "x.png"
    old, new = png(60), png(62, size=20)
    image.write_bytes(old)
    rewritten = threading.Event()

    def rewrite_first(request: Exchange) -> None:  # between hashing and streaming
        if request.path.startswith("/tcb/uploadfile") and not rewritten.is_set():
            image.write_bytes(new)
            rewritten.set()

    told: list[tuple[str, int, bool]] = []
    mode = Mode(on_progress=lambda path, sent, finished: told.append((path, sent, finished)))
    with Proxy(emulator.base_url, before=rewrite_first) as proxy:
        settings = resolve(emulator_options(emulator, api_base=proxy.base_url), tmp_path)
        with open_run(settings, docs, mode) as run:
            assert run.publish("x.png") is None
            report = run.finish()
    assert rewritten.is_set() and list(report.urls) == ["x.png"]
    assert {path for path, _, _ in told} == {"x.png"}
    assert -len(old) in [sent for _, sent, _ in told]
    assert sum(sent for _, sent, _ in told) == len(new)
    assert told[-1] == ("x.png", 0, True)


@pytest.mark.parametrize("base_url", [None, "https://cdn.example.com"])
def test_a_run_closed_before_finish_records_each_upload_with_the_url_it_has_so_far(
    tmp_path: Path, emulator: Emulator, base_url: str | None
) -> None:
    """A run closed before :meth:`finish` (Ctrl-C) keeps what it uploaded: under ``base_url`` with its
    URL there, else waiting for its link (an empty url, as every such entry)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "x.png").write_bytes(png(64))
    settings = resolve(emulator_options(emulator, base_url=base_url), tmp_path)
    with open_run(settings, docs) as run:
        assert run.publish("x.png") is None
        run.uploads.wait()
    entry = mf.read(settings.manifest).images["x.png"]
    assert emulator.stored_files()[entry.cloud_path] == png(64)
    url = f"{base_url}/{entry.cloud_path}" if base_url else ""
    assert entry.url == url and f"url: {url or repr('')}\n" in settings.manifest.read_text(encoding="utf-8")
