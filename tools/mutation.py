"""Mutation testing of the core packages: how many small planted bugs their own tests catch.

    pip install -e ".[test,mutation]"
    python tools/mutation.py                      # every core package (long: run it when the CPU is free)
    python tools/mutation.py --package manifest   # one package (repeat the option for more)
    python tools/mutation.py --package references --only "mkdocs_wxcloud.references.css*"   # some of its mutants

Each package runs mutmut (``[tool.mutmut]`` of pyproject.toml) in a folder of its own under
``build/mutation/<package>``, with only that package's modules mutated and only its test files run
(mutmut runs, for each mutant, the tests that called the mutated function). The test processes
import the mutated copy, subprocesses included (``PYTHONPATH``), so a mutant is seen by a command
that a test runs as a real process too; but mutmut maps tests to functions from the calls made in
the test's own process, so a function that a test reaches only through a subprocess is not tested
by it (its mutants survive, or have no tests). A second run only tests what changed.

The score is killed / (mutants - equivalent): a mutant that no selected test reaches counts as a
survivor. Equivalent mutants (no behaviour can tell them from the code) are listed in EQUIVALENT
with the reason; each is excluded only while its diff still shows the mutated line it was listed
for. Survivors are listed with ``mutmut show <name>`` as the way to read them. ``--only`` hands
mutant-name globs to ``mutmut run`` (which then tests every mutant they match, results or not) and
scores only those mutants. Mutants of code that runs only in a child process (``unmeasurable``) are
counted apart, neither killed nor survivors. Not run in CI.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from equivalent import EQUIVALENT  # beside this script: the table of equivalent mutants

ROOT = Path(__file__).resolve().parent.parent
SRC = "src/mkdocs_wxcloud"


@dataclass(frozen=True)
class Package:
    mutate: tuple[str, ...]  # globs of the files mutated, as mutmut sees them (src/…)
    tests: tuple[str, ...]  # the test files (or test ids) that cover them
    keyword: str = ""  # pytest -k: leave out, of those files, the slow tests of other packages
    unmeasurable: tuple[str, ...] = ()  # globs of mutants in code that runs only in a child process


_OTHER_SURVIVORS = (
    "exclude_uploaded or cos_http or cancel or changing or comma or failed_write or keeps_its_mode or killed_at"
)
_HOSTILE = "tests/test_hostile.py::test_"
# the in-process tests of the scanner, the scan workers and the `assets` option, in files of other packages
_SCANNER = (
    "the_scanner_finds_what_the_build_finds_in_the_corpus",
    "the_scanner_finds_what_the_build_finds_on_generated_pages",
    "highlighted_code_with_line_anchors_is_never_tokenized",
    "a_link_whose_title_holds_a_gt_sign_is_still_found",
)
_WORKERS = (
    "workers_find_what_one_scanner_finds_in_the_corpus_in_order",
    "a_small_site_starts_no_process",
    "workers_are_started_only_for_idle_cores",
    "a_configuration_that_cannot_be_sent_is_rendered_in_this_process",
)
_ASSETS = (
    "a_word_in_assets_that_is_no_group_and_has_no_dot_is_an_error",
    "extensions_with_their_dot_and_groups_are_taken",
)
# the upload process's own code: its tests see it at work, but mutmut never maps them to it (see above)
_OFFLOAD = "mkdocs_wxcloud.publishing.offload."
PACKAGES = {
    "references": Package(
        (f"{SRC}/references/*",),
        (
            "tests/test_references.py",
            "tests/test_mutation_references.py",
            "tests/test_htmlpage.py",
            "tests/test_css.py",
            "tests/test_browser_paths.py",
            "tests/test_survivors.py",
            *(f"tests/test_fast_paths.py::test_{name}" for name in _SCANNER),
            *(f"tests/test_scan_workers.py::test_{name}" for name in _WORKERS),
            *(f"tests/test_new_user.py::test_{name}" for name in _ASSETS),
        ),
    ),
    "manifest": Package(
        (f"{SRC}/manifest/*",),
        (
            "tests/test_manifest.py",
            "tests/test_mutation_manifest.py",
            "tests/test_survivors.py",
            f"{_HOSTILE}a_malformed_manifest_is_one_line_and_never_rewritten",
            f"{_HOSTILE}a_malformed_manifest_names_the_line_of_the_bad_key",
            f"{_HOSTILE}the_schema_knows_every_field_of_an_entry",
            f"{_HOSTILE}a_manifest_that_is_a_symlink_is_written_through",
        ),
        f"not ({_OTHER_SURVIVORS})",
    ),
    "wechat": Package(
        (f"{SRC}/wechat/*",),
        (
            "tests/test_client.py",
            "tests/test_service_errors.py",
            "tests/test_hostile_server.py",
            "tests/test_mutation_wechat.py",
            "tests/test_mutation_runs.py",
            "tests/test_hostile.py",
            "tests/test_tls.py",
            "tests/test_survivors.py",
            "tests/test_mutation_auth.py",
        ),
    ),
    "publishing": Package(
        (f"{SRC}/publishing/*",),
        (
            "tests/test_faults.py",
            "tests/test_fast_paths.py",
            "tests/test_assets.py",
            "tests/test_survivors.py",
            "tests/test_run.py",
            "tests/test_links.py",
            "tests/test_imports.py",
            "tests/test_doctor.py",
            "tests/test_mutation_publishing.py",
            "tests/test_offload.py",
            "tests/test_mutation_runs.py",
            "tests/test_mutation_uploads.py",
            "tests/test_nothing_lost.py::test_a_file_the_link_call_does_not_see_yet_is_uploaded_once_more",
        ),
        # it cannot interrupt: mutmut's runner ignores SIGINT, which the commands it starts inherit
        "not test_ctrl_c_ends_sync_and_its_upload_process",
        unmeasurable=(f"{_OFFLOAD}x__serve__mutmut_*", f"{_OFFLOAD}xǁ_Forwardingǁ*"),
    ),
    "exclude": Package(
        (f"{SRC}/hosts/mkdocs/exclude.py",),
        (
            "tests/test_survivors.py::test_exclude_uploaded_keeps_what_templates_stylesheets_and_scripts_load",
            "tests/test_nothing_lost.py::test_exclude_uploaded_keeps_every_file_the_built_site_may_load",
            "tests/test_toolchains.py::test_exclude_uploaded_leaves_cloud_images_out_of_site",
            "tests/test_faults.py::test_a_build_with_an_unreadable_image_names_it_and_goes_on",
        ),
    ),
}

KILLED = {"killed", "timeout", "caught by type check"}
_SECTION = re.compile(r"^\[tool\.mutmut\]\n(?:(?!\[).*\n?)*", re.MULTILINE)


def _toml(value: object) -> str:
    """A TOML value of the simple kinds a ``[tool.mutmut]`` section holds (JSON strings are TOML strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"[tool.mutmut]: cannot write {value!r}")


def prepare(name: str, package: Package, base: Path) -> Path:
    """The package's folder: the project's files linked in, and pyproject.toml with its own
    ``[tool.mutmut]`` (the project's, plus what to mutate and which tests to run)."""
    work = base / name
    work.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    settings = dict(tomllib.loads(text)["tool"]["mutmut"])
    settings["only_mutate"] = list(package.mutate)
    settings["pytest_add_cli_args_test_selection"] = [
        *package.tests,
        *(["-k", package.keyword] if package.keyword else []),
    ]
    for entry in ["src", "tests", *settings.get("also_copy", [])]:
        link = work / entry
        if not link.is_symlink() and (ROOT / entry).exists():
            link.symlink_to(ROOT / entry)
    section = "[tool.mutmut]\n" + "".join(f"{key} = {_toml(value)}\n" for key, value in settings.items())
    (work / "pyproject.toml").write_text(_SECTION.sub("", text).rstrip("\n") + "\n\n" + section, encoding="utf-8")
    (work / "mutants/src").mkdir(parents=True, exist_ok=True)  # on PYTHONPATH before mutmut fills it
    (work / "hooks").mkdir(exist_ok=True)
    (work / "hooks/sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    return work


_SITECUSTOMIZE = """\
# Written by tools/mutation.py. A process that a test starts runs the mutant under test, but takes
# no part in mutmut's statistics (gathered in the test's own process, with the project's config).
import os

if os.environ.get("MUTANT_UNDER_TEST") in ("stats", "mutant_generation"):
    os.environ["MUTANT_UNDER_TEST"] = ""
"""


def run(work: Path, jobs: int, recheck: bool, only: list[str], *, test: bool = True) -> dict[str, str]:
    """Run mutmut in ``work``; the status of each mutant (of those ``only`` matches, if given). mutmut
    keeps a result until the mutated function changes, but tests again every mutant it is named:
    ``recheck`` tests the survivors again (after tests were added), which ``only`` has just done.
    Without ``test``, the results kept are read as they are (a run still under way, or stopped)."""
    path = os.pathsep.join(filter(None, [str(work / "hooks"), str(work / "mutants/src"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "CI": "true"}  # CI: the property tests' fixed examples, a stable score
    if not test:
        return _matching(_results(work, env), only)
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run([*mutmut, "run", "--max-children", str(jobs), *only], cwd=work, env=env, check=True,
                   preexec_fn=_interruptible)  # fmt: skip
    statuses = _matching(_results(work, env), only)
    if recheck and not only:
        again = sorted(m for m, status in statuses.items() if status not in KILLED)
        if again:
            subprocess.run([*mutmut, "run", "--max-children", str(jobs), *again], cwd=work, env=env, check=True,
                           preexec_fn=_interruptible)  # fmt: skip
            statuses = _results(work, env)
    return statuses


def _matching(statuses: dict[str, str], only: list[str]) -> dict[str, str]:
    """The statuses of the mutants that one of the globs ``only`` matches (as mutmut matches them), or all."""
    if not only:
        return statuses
    return {m: s for m, s in statuses.items() if any(fnmatch.fnmatch(m, glob) for glob in only)}


def _interruptible() -> None:
    """Ctrl-C at its default in mutmut: started in the background (``nohup … &``) it would inherit it
    ignored, and so would the emulator a test stops with Ctrl-C (the clean run then hangs)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _results(work: Path, env: dict[str, str]) -> dict[str, str]:
    listed = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work, env=env,
                            check=True, capture_output=True, text=True).stdout  # fmt: skip
    return dict(line.strip().rsplit(": ", 1) for line in listed.splitlines() if ": " in line)


def equivalent(work: Path, statuses: dict[str, str]) -> tuple[set[str], list[str]]:
    """The listed equivalent mutants that still are what they were listed for; stale entries."""
    confirmed: set[str] = set()
    stale: list[str] = []
    for mutant, (line, _why) in EQUIVALENT.items():
        if mutant not in statuses:
            continue
        diff = subprocess.run([sys.executable, "-m", "mutmut", "show", mutant], cwd=work, capture_output=True,
                              text=True).stdout  # fmt: skip
        added = [d[1:] for d in diff.splitlines() if d.startswith("+") and not d.startswith("+++")]
        if any(line in a for a in added):
            confirmed.add(mutant)
        else:
            stale.append(mutant)
    return confirmed, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", action="append", choices=sorted(PACKAGES), help="run only this package")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1: the CPU is shared)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build/mutation", help="where mutmut works")
    parser.add_argument("--recheck", action="store_true", help="test the survivors again (after adding tests)")
    parser.add_argument("--score-only", action="store_true", help="score the results kept, testing nothing")
    parser.add_argument("--only", action="append", default=[], metavar="GLOB",
                        help="test and score only the mutants this name glob matches (repeatable)")  # fmt: skip
    args = parser.parse_args(argv)
    names = args.package or list(PACKAGES)
    lines = []
    for name in names:
        work = prepare(name, PACKAGES[name], args.workdir)
        statuses = run(work, args.jobs, args.recheck, args.only, test=not args.score_only)
        excluded, stale = equivalent(work, statuses)
        apart = {m for m in statuses if any(fnmatch.fnmatch(m, glob) for glob in PACKAGES[name].unmeasurable)}
        left_out = excluded | apart
        counted = {m: s for m, s in statuses.items() if m not in left_out and s != "skipped"}
        killed = sum(s in KILLED for s in counted.values())
        survivors = sorted(m for m, s in counted.items() if s not in KILLED)
        lines.append(f"{name}: {killed}/{len(counted)} killed ({100 * killed / max(1, len(counted)):.1f} %), "
                     f"{len(excluded)} equivalent excluded, {len(apart)} not measurable (child process) "
                     f"apart, {len(survivors)} survived")  # fmt: skip
        for mutant in survivors:
            lines.append(f"    {statuses[mutant]}: {mutant}  (cd {work} && mutmut show {mutant})")
        for mutant in stale:
            lines.append(f"    stale EQUIVALENT entry (its diff changed, counted normally): {mutant}")
    print(f"mutation score, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, mutmut:")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
