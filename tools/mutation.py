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
        (
            "tests/test_client.py",
            "tests/test_service_errors.py",
            "tests/test_hostile_server.py",
            "tests/test_mutation_wechat.py",
            "tests/test_hostile.py",
            "tests/test_tls.py",
            "tests/test_survivors.py",
        ),
    ),
    "publishing": Package(
        (f"{SRC}/publishing/*",),
        ("tests/test_faults.py", "tests/test_fast_paths.py", "tests/test_assets.py", "tests/test_survivors.py"),
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
_WX = "mkdocs_wxcloud.wechat."
_JSON_TYPES = (
    "_kind names what json.loads made (dict, list, str, int, float, bool, None): each is in the table or handled"
)
_CHECKED_KINDS = (
    "every kind the answer checks use (str, int, list, numbers) is in the table: the default is never taken"
)
_FALSY_HINT = "a hint is added to the message only when it is truthy: None and an empty text both add none"
_ONE_BRACE = (
    "ElementTree names a namespaced tag {uri}name and expat refuses a namespace holding '}': a tag has at most "
    "one '}', and every split keeps the same last part"
)
_NO_REASON = (
    "urllib3 (retries=False) raises the error itself: none that reaches here has a `reason` attribute (only "
    "MaxRetryError has, never raised then), so the exception is its own cause either way"
)
_HEADER_CASE = "header names are case-insensitive: urllib3 finds a given Content-Type or Content-Length in any case"
_NO_RETRY_LOG = (
    "with retries=False urllib3's Retry re-raises before its per-URL line: its logger writes only "
    "'Converted retries value: False -> Retry(...)', with nothing to mask"
)
_NO_300 = "a 3xx answer never gets here: _send refuses every 3xx as a redirect"
_TEMP_NAME = (
    "the name of the token cache's temporary file, which lives only until os.replace or its unlink: nothing "
    "reads it by name, and no name can be token-<key>.json"
)
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
    f"{_WX}auth.xǁCredentialsǁ__init____mutmut_24": (
        '| None = ""',
        "the cached cloudbase token is read only for its truth: an empty text and None both mean none read yet",
    ),
    f"{_WX}deadline.xǁ_Responseǁ__init____mutmut_4": (
        "super().__init__(sock, *args, )",
        "http.client is given only method= by keyword, which it reads only to tell a HEAD answer (no body): every "
        "request here is a POST",
    ),
    f"{_WX}tokens.x_token_cache_key__mutmut_8": ('.encode("UTF-8")', "codec names are case-insensitive"),
    f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_11": ("mode=449", "449 is 0o700"),
    **{
        f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_{n}": (text, _TEMP_NAME)
        for n, text in (
            (16, "prefix=None"),
            (17, "suffix=None)"),
            (19, 'mkstemp(dir=path.parent, suffix=".tmp")'),
            (20, 'prefix=".token-", )'),
            (21, '"XX.token-XX"'),
            (22, '".TOKEN-"'),
            (23, '"XX.tmpXX"'),
            (24, '".TMP"'),
        )
    },
    f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_27": (
        'os.fdopen(fd, "w", encoding=None)',
        _LOCALE + " (json.dump writes ASCII anyway)",
    ),
    f"{_WX}tokens.xǁTokenCacheǁstore__mutmut_34": ('encoding="UTF-8"', "codec names are case-insensitive"),
    f"{_WX}transport.xǁTransportǁcall_json__mutmut_48": (
        'parsed = ""',
        "an answer that is no JSON is then told apart only by not being a dict: an empty text is not one either",
    ),
    f"{_WX}pools.xǁPoolsǁpost__mutmut_6": ("preload_content=None", "urllib3 reads preload_content only for its truth"),
    f"{_WX}transport.xǁTransportǁ__init____mutmut_14": ('"XXurllib3.util.retryXX"', _NO_RETRY_LOG),
    f"{_WX}transport.xǁTransportǁ__init____mutmut_15": ('"URLLIB3.UTIL.RETRY"', _NO_RETRY_LOG),
    f"{_WX}transport.xǁTransportǁ_send__mutmut_28": ("200 <= response.status <= 300", _NO_300),
    f"{_WX}transport.xǁTransportǁ_send__mutmut_29": ("200 <= response.status < 301", _NO_300),
    f"{_WX}transport.x__remaining__mutmut_15": (
        "return end + position",
        "the upload rewinds its reader (seek(0)) before every try, so the position is 0 and end ± 0 agree",
    ),
    f"{_WX}answers.x__kind__mutmut_5": (".get(type(value), None)", _JSON_TYPES),
    f"{_WX}answers.x__kind__mutmut_7": (".get(type(value), )", _JSON_TYPES),
    f"{_WX}answers.x__kind__mutmut_21": ("type(None).__name__", _JSON_TYPES),
    f"{_WX}answers.x__kind_name__mutmut_2": (".get(kind, None)", _CHECKED_KINDS),
    f"{_WX}answers.x__kind_name__mutmut_4": (".get(kind, )", _CHECKED_KINDS),
    f"{_WX}answers.x__kind_name__mutmut_13": (".get(kind, str(None))", _CHECKED_KINDS),
    f"{_WX}auth.xǁCredentialsǁrenew__mutmut_10": (
        'self._cloudbase = ""',
        "the cached cloudbase token is read only for its truth: an empty text and None both make the next call "
        "read the file again",
    ),
    f"{_WX}auth.xǁCredentialsǁrenew__mutmut_12": (
        'self.auth != "token" and rejected is None',
        "the credential is None exactly when auth is openapi (current() gives a pair in the other modes), so "
        "`or` and `and` decide alike",
    ),
    f"{_WX}auth.xǁCredentialsǁ_cloudbase_token__mutmut_7": ("read_text(encoding=None)", _LOCALE),
    f"{_WX}auth.xǁCredentialsǁ_cloudbase_token__mutmut_9": ('encoding="UTF-8"', "codec names are case-insensitive"),
    f"{_WX}errors.x_http_status_error__mutmut_8": (
        '"X-OPENAPI-SEQID"',
        "the answer's headers are urllib3's HTTPHeaderDict, whose look-ups ignore case",
    ),
    f"{_WX}errors.x__hint__mutmut_26": ("_HINTS.get(errcode, None)", _FALSY_HINT),
    f"{_WX}errors.x__hint__mutmut_28": ("_HINTS.get(errcode, )", _FALSY_HINT),
    f"{_WX}errors.xǁCosErrorǁ__init____mutmut_12": ("else code, None)", _FALSY_HINT),
    f"{_WX}errors.xǁCosErrorǁ__init____mutmut_14": ("else code, )", _FALSY_HINT),
    f"{_WX}errors.x_cos_error__mutmut_12": ('decode("UTF-8", "replace")', "codec names are case-insensitive"),
    f"{_WX}errors.x_cos_error__mutmut_31": ('tag.rsplit("}", )', _ONE_BRACE),
    f"{_WX}errors.x_cos_error__mutmut_32": ('tag.split("}", 1)', _ONE_BRACE),
    f"{_WX}errors.x_cos_error__mutmut_34": ('tag.rsplit("}", 2)', _ONE_BRACE),
    f"{_WX}tokens.x_default_cache_dir__mutmut_8": (
        '"XDG_CACHE_HOME", "XXXX"',
        "an unset variable gives a relative path either way (empty or XXXX): the cache goes under ~/.cache",
    ),
    f"{_WX}tokens.xǁTokenCacheǁdiscard__mutmut_6": ('("", 1.0)', "only the token of the default pair is read"),
    f"{_WX}transport.x__reason__mutmut_3": ('getattr(None, "reason", None)', _NO_REASON),
    f"{_WX}transport.x__reason__mutmut_8": ('"XXreasonXX"', _NO_REASON),
    f"{_WX}transport.x__reason__mutmut_9": ('"REASON"', _NO_REASON),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_37": (
        "_remaining(handle) < IN_ONE_PIECE",
        "a form of exactly 1 MiB is built at once or streamed: the same fields and bytes reach COS",
    ),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_49": ('{"content-type": form_type}', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_50": ('{"CONTENT-TYPE": form_type}', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_57": ('{"content-type": form.content_type', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_58": ('{"CONTENT-TYPE": form.content_type', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_60": ('"content-length": str(form.len)', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_61": ('"CONTENT-LENGTH": str(form.len)', _HEADER_CASE),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_70": ("whole=None", "`whole` is read only for its truth"),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_83": ("answer.status <= 300", _NO_300),
    f"{_WX}transport.xǁTransportǁpost_to_cos__mutmut_84": ("answer.status < 301", _NO_300),
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
