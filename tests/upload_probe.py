"""A Markdown extension for tests: on a page holding :data:`MARKER`, wait (at most 20 s) until
:data:`condition` holds, and note whether it did. A test sets ``condition`` to "an upload has
reached the emulator" to tell a command that uploads while it still reads pages from one that
reads every page first."""

from __future__ import annotations

import time
from typing import Callable

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

MARKER = "<!-- wait for an upload -->"
condition: Callable[[], bool] | None = None
seen: list[bool] = []


class _Wait(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        if condition is not None and any(MARKER in line for line in lines):
            deadline = time.monotonic() + 20
            while not condition() and time.monotonic() < deadline:
                time.sleep(0.01)
            seen.append(condition())
        return lines


class ProbeExtension(Extension):
    def extendMarkdown(self, md) -> None:  # noqa: ANN001, N802 - Markdown API
        md.preprocessors.register(_Wait(md), "upload-probe", 50)


def makeExtension(**kwargs: object) -> ProbeExtension:  # noqa: N802 - Markdown API
    return ProbeExtension(**kwargs)
