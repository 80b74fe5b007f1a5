"""What every site command shares: logging to stderr, -f/-v/-q, and errors as exit statuses.

Exit status: 0 clean, 1 problems found or uploads failed, 2 a usage or configuration error, 130
interrupted (Ctrl-C).
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

import click

from ..errors import ConfigError, ManifestError, WxCloudError, printable, redact
from ..publishing import settings
from ..publishing.linker import Linker
from ..publishing.reporting import Report
from ..publishing.run import Run
from ..publishing.settings import Option, Settings
from . import projects
from .progress import Progress
from .site import Site

log = logging.getLogger("mkdocs.plugins.wxcloud")


class _Handler(logging.Handler):
    """Each record as lines on stderr: redacted, and with control characters of file names or server
    answers escaped (our own line breaks are kept)."""

    def emit(self, record: logging.LogRecord) -> None:
        text = "\n".join(map(printable, redact(record.getMessage()).removeprefix("wxcloud: ").split("\n")))
        prefix = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        click.echo(f"{prefix}{text}", err=True)


def setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    logger = logging.getLogger("mkdocs")
    logger.handlers[:] = [_Handler()]
    logger.setLevel(level)
    logger.propagate = False


def site_command(function: Callable) -> Callable:
    """-f, -v, -q, and error handling shared by the site commands."""

    @click.option(
        "-f",
        "--config-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The site's mkdocs.yml or zensical.toml (default: the first of zensical.toml, mkdocs.yml, "
        "mkdocs.yaml here).",
    )
    @click.option("-v", "--verbose", is_flag=True, help="Show debug messages.")
    @click.option("-q", "--quiet", is_flag=True, help="Show only errors.")
    @functools.wraps(function)
    def wrapper(verbose: bool, quiet: bool, **kwargs: Any) -> None:
        setup_logging(verbose, quiet)
        try:
            code = function(**kwargs)
        except KeyboardInterrupt:  # the command has saved what it finished (publishers close in `finally`)
            log.error("interrupted: the uploads that finished are recorded; run the command again for the rest")
            sys.exit(130)
        except (ConfigError, ManifestError) as error:
            log.error("%s", error)
            sys.exit(2)
        except WxCloudError as error:
            log.error("%s", error)
            sys.exit(1)
        sys.exit(code or 0)

    return wrapper


def option_flags(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Flags for options of the schema (``--api-base`` for ``api_base``), their help from it. The
    command gets the given ones in ``options`` (a mapping for :func:`~..publishing.settings.resolve`:
    a flag not given is absent, so the configuration, then the ``WXCLOUD_*`` variable, then the
    default apply)."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        flags = [getattr(Settings, name) for name in names]

        @functools.wraps(function)
        def wrapper(**kwargs: Any) -> Any:
            given = {o.name: _flag_value(o, kwargs.pop(o.name)) for o in flags}
            return function(options={k: v for k, v in given.items() if v is not None}, **kwargs)

        decorated: Callable[..., Any] = wrapper
        for option in reversed(flags):
            decorated = _flag(option)(decorated)
        return decorated

    return decorate


def _flag(option: Option[Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    name = "--" + option.name.replace("_", "-")
    variable = f" [env: {option.variable}]" if option.variable else ""
    if option.check is settings.flag:
        return click.option(f"{name}/--no-{name[2:]}", option.name, default=None, help=option.doc + variable)
    if isinstance(option.default, list):
        return click.option(name, option.name, multiple=True, help=option.doc + " (repeatable)")
    numeric = not isinstance(option.default, bool) and isinstance(option.default, (int, float))
    kind = type(option.default) if numeric else str
    return click.option(name, option.name, type=kind, default=None, help=option.doc + variable)


def _flag_value(option: Option[Any], value: Any) -> Any:
    if value == ():  # a repeatable flag not given
        return None
    if isinstance(option.default, bool) and isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    return list(value) if isinstance(value, tuple) else value


def say(text: str) -> None:
    """A line of a command's output (stdout), with control characters of file names or server text escaped."""
    click.echo(printable(text))


def load_site(config_file: Path | None, overrides: dict[str, Any] | None = None) -> Site:
    """The site of ``-f`` (or of the configuration found here), read as its host reads it."""
    return projects.load(config_file, overrides)


def upload(run: Run, linker: Linker, scheduled: Iterable[str], progress: Progress) -> Report:
    """Drain ``scheduled`` (each path is scheduled on the run as it is yielded, so uploads start at
    once), then wait and fetch links; what happened goes to stderr, worded as in every command."""
    for _ in scheduled:
        pass
    progress.start(lambda: run.ledger.scheduled)
    try:
        report = run.finish()
    finally:
        progress.close()
    linker.check_sizes()
    if isinstance(run.fatal, (ConfigError, ManifestError)):
        raise run.fatal  # site_command prints it once, exit status 2
    if run.fatal is not None:  # one cause for every file: say it once
        log.error("%s", run.fatal)
    else:
        for path, reason in sorted(report.errors.items()):
            log.error(f"{path}: {reason}")
    log.info("%s", report.summary.line())
    return report
