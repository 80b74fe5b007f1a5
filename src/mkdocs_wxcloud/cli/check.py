"""``mkdocs-wxcloud check``: the CI gate, with no credentials and no request."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..manifest.model import image_lines
from ..publishing.connection import connect
from ..publishing.current import State, Status
from ..publishing.imports import remote_problem
from ..publishing.linker import Problem
from ..publishing.remote import missing_in_cloud
from ..publishing.reporting import human_size
from ..publishing.run import Run
from ..publishing.sources import ImageProblem
from ..references.assets import kind_of
from ..references.treeprocessor import Reference
from ..references.urls import line_of
from . import built
from . import site as sites
from .common import load_site, log, say, site_command
from .publish import check_site, site_option
from .scan import PageScan, image_references


@click.command()
@site_command
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    help="Problems as text lines, one JSON document, or GitHub workflow annotations.",
)
@click.option("--strict", is_flag=True, help="Also fail on manifest entries that no page references.")
@click.option(
    "--remote",
    is_flag=True,
    help="Also ask the cloud (this needs credentials) whether every manifest entry's file still exists.",
)
@site_option("Check")
def check(config_file: Path | None, output: str, strict: bool, remote: bool, site_dir: Path | None) -> int:
    """Verify, without credentials or network, that every referenced asset is uploaded and current."""
    if site_dir is not None:
        return _report_folder(check_site(config_file, site_dir), output)
    site = built.prepare(load_site(config_file, {"offline": True}))
    problems: list[tuple[str, Problem]] = []
    with site.open(offline=True, readonly=True) as run:
        linker = site.linker(run, lambda p: problems.append(("error", p)))
        referenced: set[str] = set()
        budgets: set[tuple[str, str]] = set()

        def lint(scanned: PageScan, reference: Reference) -> None:
            why = remote_problem(reference)
            if why is not None:
                where = line_of(scanned.source, reference.url)
                problems.append(("warning", Problem(scanned.page, where, reference.url, why, "image")))

        found = image_references(site, linker, lambda problem: problems.append(("error", problem)), others=lint)
        for scanned, url, target in found:
            referenced.add(target.path)
            try:
                status = run.resolve(target.path)
            except ImageProblem as problem:
                linker.warn(
                    scanned.page, scanned.source, url, linker.worded(problem, scanned.page, target), target.kind
                )
                continue
            if status.state in (State.CURRENT, State.EXPIRING):  # a signed link that still works counts
                too_big = linker.size_problem(target.path)
                if too_big and (scanned.page, url) not in budgets:
                    budgets.add((scanned.page, url))
                    where = line_of(scanned.source, url)
                    problems.append(("warning", Problem(scanned.page, where, url, too_big, target.kind)))
                continue
            linker.warn(scanned.page, scanned.source, url, _wording(run, target.path, status), target.kind)
    for leftover in site.leftovers:  # the built site loads them from the site: say so, and keep them
        referenced.add(leftover.path)
        problems.append(("error" if strict else "warning", built.leftover_problem(leftover)))
    manifest = run.store.manifest
    unreferenced = sorted(set(manifest.images) - referenced)
    lines = image_lines(site.settings.manifest) if unreferenced or remote else {}
    name = site.settings.manifest.name
    for path in unreferenced:
        what = "is in the manifest but no page references it: `mkdocs-wxcloud prune` lists it"
        problems.append(("error" if strict else "warning", Problem(name, lines.get(path), path, what)))
    if remote:
        with connect(site.settings) as client:
            missing, unknown = missing_in_cloud(client, manifest.images)
        for path in sorted(missing):
            what = "is in the manifest but its file is missing from the cloud: run `mkdocs-wxcloud sync --repair`"
            problems.append(("error", Problem(name, lines.get(path), path, what)))
        for path, why in sorted(unknown.items()):
            problems.append(
                ("error", Problem(name, lines.get(path), path, f"could not be confirmed in the cloud: {why}"))
            )
    stored = [manifest.images[path] for path in sorted(referenced & set(manifest.images))]
    totals = {"files": len(stored), "bytes": sum(e.size for e in stored), "stored_bytes": sum(e.stored for e in stored)}
    totals["saved_bytes"] = totals["bytes"] - totals["stored_bytes"]
    return _report_check(site, problems, output, totals)


_SYNC = "run `mkdocs-wxcloud sync` (or `mkdocs build`)"


def _wording(run: Run, path: str, status: Status) -> str:
    """What ``check`` says of a file that the manifest does not have as current, and what to do."""
    state = status.state
    stored, entry = status.stored, status.entry
    if state is State.ELSEWHERE and entry is not None:  # the build takes it without a request, not the manifest
        state = State.MISSING if stored is None else State.CHANGED if stored.sha256 != entry.sha256 else State.OUTDATED
    if state is State.MISSING:
        return f"is not in the manifest: {_SYNC}"
    if state is State.CHANGED:
        return f"changed since it was uploaded: {_SYNC}"
    if state is State.UNLINKED:
        return "was uploaded but has no link yet: run `mkdocs-wxcloud sync`"
    if state is State.RECOVERED:
        return "is only in the journal of an interrupted run: run `mkdocs-wxcloud sync` to record it"
    assert state is State.OUTDATED and stored is not None, state
    wanted = run.optimizer.profile(path)
    return f"was stored {_as(stored.optimize)}, the options now ask for it {_as(wanted)}: {_SYNC}"


def _report_folder(problems: list[tuple[str, Problem]], output: str) -> int:
    """``check --site``'s problems, in the format asked for."""
    problems = sorted(problems, key=lambda item: (item[1].page, item[1].line or 0, item[1].url))
    if output == "json":
        items = [
            {"level": level, "file": p.page, "line": p.line, "url": p.url, "message": p.message}
            for level, p in problems
        ]
        click.echo(json.dumps({"ok": not problems, "problems": items}, ensure_ascii=False, indent=2))
    for level, problem in problems if output != "json" else ():
        where = f"{problem.page}:{problem.line}" if problem.line else problem.page
        if output == "github":
            say(f"::{level} file={_github(problem.page, property=True)}::{_github(problem.message)}")
        else:
            say(f"{where}: {f'{problem.url}: ' if problem.url else ''}{problem.message}")
    log.info("check: %d problem(s) in the built site", len(problems))
    return 1 if problems else 0


def _as(profile: str) -> str:
    return f"optimized as `{profile}`" if profile else "as it is (`optimize: false`)"


def _kind(problem: Problem) -> str | None:
    """What the problem's file is (None for a problem of a page or of the manifest as a whole)."""
    return (problem.kind or kind_of(problem.url)) if problem.url else None


def _github(text: str, *, property: bool = False) -> str:
    """Escape a workflow-command value (``%``, newlines; and ``:`` ``,`` in properties)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text


def _report_check(site: sites.Site, problems: list[tuple[str, Problem]], output: str, totals: dict[str, int]) -> int:
    def where(problem: Problem) -> str:
        return site.shown(problem.page) if problem.page in site.pages else problem.page

    problems = sorted(problems, key=lambda item: (item[1].page, item[1].line or 0, item[1].url))
    errors = sum(1 for level, _ in problems if level == "error")
    if output == "json":
        # "asset" and its "kind" (image, video, audio, document, file); "image" is the same URL, kept for
        # the readers written before other kinds were published
        items = [
            {"level": level, "file": where(p), "line": p.line, "asset": p.url, "kind": _kind(p), "image": p.url,
             "message": p.message}
            for level, p in problems
        ]  # fmt: skip
        click.echo(json.dumps({"ok": errors == 0, "problems": items, "totals": totals}, ensure_ascii=False, indent=2))
    else:
        for level, problem in problems:
            if output == "github":
                line = f",line={problem.line}" if problem.line else ""
                image = f"{problem.url}: " if problem.url else ""
                file = _github(where(problem), property=True)
                say(f"::{level} file={file}{line}::{_github(image + problem.message)}")
            else:
                say(f"{'warning: ' if level == 'warning' else ''}{site.describe(problem)}")
        saved = f", {human_size(totals['saved_bytes'])} saved by optimizing" if totals["saved_bytes"] > 0 else ""
        log.info("check: %d problem(s), %d warning(s) in %d page(s); %d file(s), %s in the cloud%s", errors,
                 len(problems) - errors, len(site.pages), totals["files"], human_size(totals["stored_bytes"]), saved)  # fmt: skip
    return 1 if errors else 0
