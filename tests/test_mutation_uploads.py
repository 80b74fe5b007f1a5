"""Behaviours of the upload queue that mutation testing found unpinned (issue 26).

Each test goes through a run (open_run, publish, finish) against the emulator over real HTTP, with the
loopback proxy of tests/proxy.py where a file must change at a chosen moment.
"""

from __future__ import annotations

import threading
from pathlib import Path

from conftest import emulator_options, png
from proxy import Exchange, Proxy

from mkdocs_wxcloud.emulator import Emulator
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
