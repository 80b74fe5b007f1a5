"""Mutation testing of the core packages: how many small planted bugs their own tests catch.

    pip install -e ".[test,mutation]"
    python tools/mutation.py                      # every core package (long: run it when the CPU is free)
    python tools/mutation.py --package manifest   # one package (repeat the option for more)

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
for. Survivors are listed with ``mutmut show <name>`` as the way to read them. Not run in CI.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = "src/mkdocs_wxcloud"


@dataclass(frozen=True)
class Package:
    mutate: tuple[str, ...]  # globs of the files mutated, as mutmut sees them (src/…)
    tests: tuple[str, ...]  # the test files (or test ids) that cover them
    keyword: str = ""  # pytest -k: leave out, of those files, the slow tests of other packages


_OTHER_SURVIVORS = (
    "exclude_uploaded or cos_http or cancel or changing or comma or failed_write or keeps_its_mode or killed_at"
)
_HOSTILE = "tests/test_hostile.py::test_"
PACKAGES = {
    "references": Package(
        (f"{SRC}/references/*",),
        ("tests/test_references.py", "tests/test_browser_paths.py", "tests/test_survivors.py"),
    ),
    "manifest": Package(
        (f"{SRC}/manifest/*",),
        (
            "tests/test_manifest.py",
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
        ("tests/test_client.py", "tests/test_hostile.py", "tests/test_tls.py", "tests/test_survivors.py"),
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
        ),
    ),
    "exclude": Package(
        (f"{SRC}/hosts/mkdocs/exclude.py",),
        (
            "tests/test_survivors.py::test_exclude_uploaded_keeps_what_templates_stylesheets_and_scripts_load",
            "tests/test_nothing_lost.py::test_exclude_uploaded_keeps_every_file_the_built_site_may_load",
            "tests/test_toolchains.py::test_exclude_uploaded_leaves_cloud_images_out_of_site",
        ),
    ),
}

# mutant name -> (a text its mutated line still holds, why no behaviour can tell it from the code)
_JOURNAL = "mkdocs_wxcloud.manifest.journal.xǁJournalǁ"
_EXCLUDE = "mkdocs_wxcloud.hosts.mkdocs.exclude."
_LOCALE = "the locale's encoding, UTF-8 wherever this runs (Python 3.11 coerces the C locale): only a Windows code page differs"
_ESCAPES = "the journal is read only by json.loads, which decodes \\u escapes and raw UTF-8 alike"
_LONGEST_FIRST = (
    "reverse text order also puts an extension before its own prefixes (.tiff before .tif), all the alternation needs"
)
_SWALLOWED = "the index only words the error of a bad record, which the replay skips without showing it"
_PUBLISHING = "mkdocs_wxcloud.publishing."
_CONNECTION = f"{_PUBLISHING}connection."
_DOCTOR = f"{_PUBLISHING}doctor."
_PROBES = f"{_PUBLISHING}probes."
_NEVER_UNSPLIT = "unreliable() answers None for a URL that split_url cannot split: parts is never None here"
_HEADER_CASE = "HTTP header names are case-insensitive: the storage reads the same Range header"
_AFTER_LATENCY = (
    "the cleanup runs after the latency step, the only reader of the timings by kind (its own step's are by call)"
)
_DETAIL_SET = "every step sets its detail before it returns, and a failure sets it too: the first value is never shown"
_FORM_NAME = (
    "the name only labels the file part of the COS form (None: the cloud path's base name): COS stores the object "
    "under the form's key with the form's Content-Type, both from the cloud path"
)
_COLOUR = "any colour makes a valid one-colour probe: the probes are deleted, and their colour is shown nowhere"
EQUIVALENT: dict[str, tuple[str, str]] = {
    f"{_JOURNAL}replay__mutmut_1": ('encoding=None, errors="replace"', _LOCALE),
    f"{_JOURNAL}replay__mutmut_3": ('read_text(errors="replace")', _LOCALE),
    f"{_JOURNAL}replay__mutmut_6": ('encoding="UTF-8"', "codec names are case-insensitive"),
    f"{_JOURNAL}replay__mutmut_14": ("check_retired(None,", _SWALLOWED),
    f"{_JOURNAL}replay__mutmut_18": ("check_retired(1,", _SWALLOWED),
    f"{_JOURNAL}replay__mutmut_41": (
        "break  # a run for another cloud environment",
        "a journal is one run's, for one env: after a record of another env, every later one is of it too",
    ),
    f"{_JOURNAL}_append__mutmut_5": ("ensure_ascii=None", _ESCAPES),
    f"{_JOURNAL}_append__mutmut_7": ("json.dumps(record, )", _ESCAPES),
    f"{_JOURNAL}_append__mutmut_8": ("ensure_ascii=True", _ESCAPES),
    f"{_EXCLUDE}x__in_name__mutmut_3": (
        '"XX._-~XX"',
        "the text is lower-cased: it holds no X, and the rest is the same set",
    ),
    f"{_EXCLUDE}x_unmentioned__mutmut_34": ("read_text(encoding=None,", _LOCALE),
    f"{_EXCLUDE}x_unmentioned__mutmut_36": ('read_text(errors="replace")', _LOCALE),
    f"{_EXCLUDE}x_unmentioned__mutmut_41": ('encoding="UTF-8"', "codec names are case-insensitive"),
    f"{_EXCLUDE}x_unmentioned__mutmut_11": ("key=None, reverse=True", _LONGEST_FIRST),
    f"{_EXCLUDE}x_unmentioned__mutmut_14": ("by_name}, reverse=True)", _LONGEST_FIRST),
    # publishing/
    f"{_CONNECTION}x__is_emulator__mutmut_7": (
        "timeout=3)",
        "2 or 3 seconds to wait for a loopback answer: only the time differs, which no test asserts",
    ),
    f"{_CONNECTION}x_ensure_emulator__mutmut_46": (
        "_emulators[settings.emulator_address] = None",
        "the table is only asked whether an address is in it; the emulator's server thread keeps it running",
    ),
    f"{_PUBLISHING}remote.x_missing_in_cloud__mutmut_7": (
        "images.values()}), 61)",
        "only the per-file errors are read: the links, whose lifetime max_age sets, are dropped",
    ),
    f"{_PUBLISHING}remote.x_missing_in_cloud__mutmut_5": (
        "images.values()}), )",
        "only the per-file errors are read: the links, whose lifetime max_age sets, are dropped",
    ),
    f"{_PUBLISHING}settings.x__word__mutmut_2": (
        "(isinstance(value, bool)) or True",
        "every choice an option declares is a bool or a lower-case word (warn, fail, auto, token, openapi, cloudbase)",
    ),
    f"{_PUBLISHING}optimizing.xǁOptimizerǁ_key__mutmut_2": (
        "hexdigest()[:41]",
        "the cache's file names, written and read by this one function: a longer key only makes "
        "the caches of earlier runs miss once (optimizer time, no other result)",
    ),
    f"{_PUBLISHING}optimizing.xǁOptimizerǁprepare__mutmut_47": (
        "(outcome.data is not None) or True",
        "when the optimizer kept the bytes, body is the source, whose hash the caller checked is sha",
    ),
    f"{_PUBLISHING}sources.xǁDocsFilesǁrehash__mutmut_6": (
        "digest(path, full, None, force=True)",
        "without a stat, digest() stats the same file itself an instant later",
    ),
    f"{_PUBLISHING}links.xǁStorageAccessǁpublic__mutmut_5": (
        "self.requests_made = 1",
        "a run has one env, whose storage has one download host, asked at most once (the answer is kept, even none)",
    ),
    f"{_PUBLISHING}imports.x_remote_problem__mutmut_6": (
        '"HTTPS:" + reference.url',
        "split_url lower-cases the scheme: HTTPS: names the same URL",
    ),
    **{
        f"{_PUBLISHING}imports.x_remote_problem__mutmut_{n}": (text, _NEVER_UNSPLIT)
        for n, text in ((21, "(parts is not None) or True"), (23, '"XXits hostXX"'), (24, '"ITS HOST"'))
    },
    f"{_PUBLISHING}links.x_serves__mutmut_9": ('{"range": "bytes=0-0"}', _HEADER_CASE),
    f"{_PUBLISHING}links.x_serves__mutmut_10": ('{"RANGE": "bytes=0-0"}', _HEADER_CASE),
    f"{_PUBLISHING}links.x_get__mutmut_5": (
        "allow_redirects=None)",
        "requests follows redirects only when allow_redirects is true: None is False",
    ),
    f"{_DOCTOR}xǁ_Failedǁ__init____mutmut_2": (
        "super().__init__(None)",
        "a _Failed is always caught by Doctor._step, which reads detail and advice, never str()",
    ),
    f"{_DOCTOR}xǁDoctorǁ_upload__mutmut_2": (
        'self.created[cloud_path] = ""',
        'a probe\'s id is only tested for truth: None and "" are both no id',
    ),
    **{
        f"{_DOCTOR}xǁDoctorǁ_cleanup__mutmut_{n}": (text, _AFTER_LATENCY)
        for n, text in (
            (5, "self._timed(None, step"),
            (11, '"XXbatchdeletefileXX"'),
            (12, '"BATCHDELETEFILE"'),
            (18, "self._timed(None, step"),
            (24, '"XXbatchdownloadfileXX"'),
            (25, '"BATCHDOWNLOADFILE"'),
        )
    },
    f"{_DOCTOR}xǁDoctorǁ_step__mutmut_4": ('"ok", None)', _DETAIL_SET),
    f"{_DOCTOR}xǁDoctorǁ_step__mutmut_18": ('"ok", "XXXX")', _DETAIL_SET),
    f"{_DOCTOR}xǁDoctorǁ_step__mutmut_13": (
        'strip("XX_XX")',
        "strip takes a set of characters, and no step's name starts or ends with X",
    ),
    f"{_DOCTOR}xǁDoctorǁ__init____mutmut_7": (
        'or "XXXX"',
        "without an env the configuration step fails, and no later step (the only users of env) runs",
    ),
    f"{_DOCTOR}xǁDoctorǁ_connect__mutmut_23": (
        "Limits(5, settings.timeout",
        "the diagnosis sends one request at a time (sequential steps, batches of at most 4 ids): no pool fills",
    ),
    **{
        f"{_DOCTOR}xǁDoctorǁ_upload__mutmut_{n}": (text, _FORM_NAME)
        for n, text in (
            (3, "name = None"),
            (7, 'rsplit("/", )[1]'),
            (8, 'cloud_path.split("/", 1)[1]'),
            (10, 'rsplit("/", 2)[1]'),
            (21, "io.BytesIO(data), None, known)"),
        )
    },
    f"{_DOCTOR}xǁDoctorǁ_created_ids__mutmut_9": (
        "known.get(None) or base + path",
        "a file id is cloud://<env>.<bucket>/<cloud path>: the id made from a sibling's is the id the probe got",
    ),
    f"{_DOCTOR}xǁDoctorǁ_links__mutmut_67": (
        "signed[1]",
        "the probes are in one storage: any of their signed links tells whether it serves unsigned URLs",
    ),
    f"{_DOCTOR}xǁDoctorǁ_cleanup__mutmut_35": (
        'answers.get(i, "XXXX")',
        "an id missing from the answer is no FILE_NONEXIST either way: kept as left",
    ),
    **{
        f"{_PROBES}x_png__mutmut_{n}": (text, "struct packs these small lengths and sizes the same signed or unsigned")
        for n, text in ((18, 'struct.pack(">i", len(data))'), (45, 'struct.pack(">iibbbbb"'))
    },
    **{
        f"{_PROBES}x_probes__mutmut_{n}": (f"png({colour})", _COLOUR)
        for n, colour in (
            (9, "8, 193, 96"),
            (10, "7, 194, 96"),
            (11, "7, 193, 97"),
            (24, "251, 81, 81"),
            (25, "250, 82, 81"),
            (26, "250, 81, 82"),
        )
    },
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


def run(work: Path, jobs: int, recheck: bool) -> dict[str, str]:
    """Run mutmut in ``work``; the status of each mutant. mutmut keeps a result until the mutated
    function changes: ``recheck`` tests the survivors again (after tests were added)."""
    path = os.pathsep.join(filter(None, [str(work / "hooks"), str(work / "mutants/src"), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "CI": "true"}  # CI: the property tests' fixed examples, a stable score
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run([*mutmut, "run", "--max-children", str(jobs)], cwd=work, env=env, check=True)
    statuses = _results(work, env)
    if recheck:
        again = sorted(m for m, status in statuses.items() if status not in KILLED)
        if again:
            subprocess.run([*mutmut, "run", "--max-children", str(jobs), *again], cwd=work, env=env, check=True)
            statuses = _results(work, env)
    return statuses


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
    args = parser.parse_args(argv)
    names = args.package or list(PACKAGES)
    lines = []
    for name in names:
        work = prepare(name, PACKAGES[name], args.workdir)
        statuses = run(work, args.jobs, args.recheck)
        excluded, stale = equivalent(work, statuses)
        counted = {m: s for m, s in statuses.items() if m not in excluded and s != "skipped"}
        killed = sum(s in KILLED for s in counted.values())
        survivors = sorted(m for m, s in counted.items() if s not in KILLED)
        lines.append(f"{name}: {killed}/{len(counted)} killed ({100 * killed / max(1, len(counted)):.1f} %), "
                     f"{len(excluded)} equivalent excluded, {len(survivors)} survived")  # fmt: skip
        for mutant in survivors:
            lines.append(f"    {statuses[mutant]}: {mutant}  (cd {work} && mutmut show {mutant})")
        for mutant in stale:
            lines.append(f"    stale EQUIVALENT entry (its diff changed, counted normally): {mutant}")
    print(f"mutation score, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, mutmut:")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
