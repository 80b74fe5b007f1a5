"""Pages rendered in worker processes find exactly what the scan in the command's process finds.

The commands render pages for their references in one worker per core when there are enough pages
to render (:mod:`mkdocs_wxcloud.references.pool`): the results are the same, in the same order, on
the corpus and on a generated site; a page the reference cache has is never sent to a worker; a
small site starts no process; and an extension that cannot be sent to another process is rendered
in the command's own. The workers ignore Ctrl-C (the command handles it) and die with the command.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import make_site
from processes import ctrl_c, killed_leaves_no_workers, until, workers_of
from test_fast_paths import CORPUS, FRAGMENTS, PIPELINES

from mkdocs_wxcloud.cli import scan
from mkdocs_wxcloud.cli.common import load_site
from mkdocs_wxcloud.publishing.linker import Problem
from mkdocs_wxcloud.references import pool
from mkdocs_wxcloud.references.scanner import Scanner
from mkdocs_wxcloud.references.treeprocessor import Reference


def _pipeline(name: str) -> tuple[list, dict[str, Any]]:
    return cast("tuple[list, dict[str, Any]]", PIPELINES[name])


MANY = 84  # pages of the generated sites
TWO_CORES = pytest.mark.skipif(pool.cores() < 2, reason="workers start only with two cores or more")


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers for the small pages of these tests (about 40,000 characters a site)."""
    monkeypatch.setattr(pool, "MIN_CHARS_PER_WORKER", 2000)
    monkeypatch.setattr(pool, "idle_cores", lambda: 2)  # however busy the machine running the tests


def _nowhere(text: str) -> list[Reference]:
    raise AssertionError("rendered in the command's process, not in a worker")


@pytest.mark.parametrize("pipeline", ["corpus", "material"])
def test_workers_find_what_one_scanner_finds_in_the_corpus_in_order(pipeline: str) -> None:
    extensions, configs = _pipeline(pipeline)
    texts = [page.read_text(encoding="utf-8-sig") for page in sorted((CORPUS / "docs").rglob("*.md"))]
    texts = texts * (1 + MANY // len(texts))  # the same pages again: every worker renders some of each
    scanner = Scanner(extensions, configs)
    assert list(pool.render(extensions, configs, texts, 2, _nowhere)) == [scanner.references(t) for t in texts]


def _generated_site(root: Path, pages: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    files: dict[str, bytes | str] = {
        f"part{i % 3}/p{i:03}.md": f"# Page {i}\n\n" + "\n".join(rng.choices(FRAGMENTS, k=6)) for i in range(pages)
    }
    extensions, configs = _pipeline("material")
    make_site(root, files, extensions=[{name: configs[name]} if name in configs else name for name in extensions])


def _scanned(root: Path, warn: Any = None) -> tuple[list[tuple[str, list[Reference]]], Any]:
    site = load_site(root / "mkdocs.yml")
    found = [(page.page, page.references) for page in scan.scan(site, warn or (lambda problem: None))]
    return found, site


def _expected(site: Any, unreadable: str = "") -> list[tuple[str, list[Reference]]]:
    """What one scanner in this process finds, page after page."""
    scanner = Scanner(site.extensions, site.configs)
    pages = [page for page in site.pages if page != unreadable]
    return [(page, scanner.references((site.docs_dir / page).read_text(encoding="utf-8"))) for page in pages]


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The texts each :func:`pool.render` call is asked to render."""
    sent: list[list[str]] = []
    real = pool.render

    def render(extensions: list, configs: dict, texts: list[str], *args: Any) -> Any:
        sent.append(list(texts))
        return real(extensions, configs, texts, *args)

    monkeypatch.setattr(pool, "render", render)
    return sent


@TWO_CORES
def test_a_site_scanned_by_workers_finds_what_one_process_finds_in_page_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, low_threshold: None
) -> None:
    _generated_site(tmp_path, MANY)
    (tmp_path / "docs" / "part1" / "p001.md").write_bytes(b"\xff\xfe not UTF-8")
    sent = _spy(monkeypatch)
    problems: list[Problem] = []
    found, site = _scanned(tmp_path, problems.append)
    assert len(sent) == 1 and len(sent[0]) == MANY - 1  # every readable page went to the workers
    assert "scanner" not in vars(site)  # and none was rendered here
    assert [problem.page for problem in problems] == ["part1/p001.md"]
    assert found == _expected(site, "part1/p001.md")


@TWO_CORES
def test_a_page_the_reference_cache_has_is_never_sent_to_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, low_threshold: None
) -> None:
    _generated_site(tmp_path, MANY + 10)
    _scanned(tmp_path)  # fills the cache
    changed = sorted((tmp_path / "docs").rglob("*.md"))[: MANY - 2]
    for page in changed:
        page.write_text(page.read_text(encoding="utf-8") + "\n![new](img/new.png)\n", encoding="utf-8")
    sent = _spy(monkeypatch)
    found, site = _scanned(tmp_path)
    assert sent == [[page.read_text(encoding="utf-8") for page in changed]]
    assert found == _expected(site)
    assert _scanned(tmp_path)[0] == found and len(sent) == 1  # all cached now: nothing rendered


def test_a_small_site_starts_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _generated_site(tmp_path, MANY)  # about 40,000 characters: rendered here
    sent = _spy(monkeypatch)
    found, site = _scanned(tmp_path)
    assert sent == [] and found == _expected(site)
    least = pool.MIN_CHARS_PER_WORKER
    assert pool.worth_it(2 * least - 1, 8) == 0
    assert pool.worth_it(2 * least, 8) == 2
    assert pool.worth_it(10 * least, 4) == 4  # one per core at most
    assert pool.worth_it(10 * least, 1) == 0  # one idle core: no worker beside the command


def test_workers_are_started_only_for_idle_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "cores", lambda: 4)
    for load, idle in [(0.0, 4), (1.0, 4), (1.9, 4), (2.0, 3), (3.5, 2), (4.2, 1), (30.0, 1)]:
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert pool.idle_cores() == idle, load  # the command itself counts as one
    assert pool.worth_it(10 * pool.MIN_CHARS_PER_WORKER) == 0  # one idle core left: rendered here


class _Unpicklable:
    """An extension given as an object that cannot be sent to another process."""

    def __reduce__(self) -> Any:
        raise TypeError("not picklable")


def test_a_configuration_that_cannot_be_sent_is_rendered_in_this_process() -> None:
    extensions, configs = _pipeline("corpus")
    texts = ["![a](img/a.png)\n", '<img src="b.png">\n']
    rendered = list(pool.render(extensions, {**configs, "x": _Unpicklable()}, texts, 2,
                                Scanner(extensions, configs).references))  # fmt: skip
    assert rendered == [[Reference("img/a.png", "img", "markdown")], [Reference("b.png", "img", "raw")]]


def _slow_site(root: Path) -> None:
    """Pages long enough (2.5 million characters) that the workers are still rendering when the command is stopped."""
    body = "".join(f"## Part {i}\n\n![a](img/{i}.png) *some* **text** `code` [link](#part-{i})\n\n" for i in range(400))
    make_site(root, {f"p{i:03}.md": body for i in range(MANY)})


def _check(root: Path) -> subprocess.Popen:
    """``mkdocs-wxcloud check`` in a process of its own, with workers however busy the machine is."""
    code = "from mkdocs_wxcloud.references import pool; pool.idle_cores = lambda: 2\n"
    code += "from mkdocs_wxcloud.cli import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, "check"], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip


def _scan_workers(process: subprocess.Popen) -> list[int]:
    """The worker processes rendering pages for ``process``, once it has them."""
    assert until(lambda: bool(workers_of(process.pid)) or process.poll() is not None)
    workers = workers_of(process.pid)
    assert workers, f"no worker started: {process.communicate()[1]}"
    return workers


@TWO_CORES
def test_ctrl_c_while_pages_render_ends_the_command_without_a_worker_traceback(tmp_path: Path) -> None:
    _slow_site(tmp_path)
    process = _check(tmp_path)
    _scan_workers(process)
    time.sleep(0.3)  # past the milliseconds in which the command starts them and ignores Ctrl-C
    stderr = ctrl_c(process)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr


@TWO_CORES
def test_the_scan_workers_exit_when_their_command_is_killed(tmp_path: Path) -> None:
    _slow_site(tmp_path)
    process = _check(tmp_path)
    try:
        workers = _scan_workers(process)
        gone = killed_leaves_no_workers(process, workers)
    finally:
        process.stderr.close()  # type: ignore[union-attr]
    assert gone, f"worker processes {workers} outlived their command"
