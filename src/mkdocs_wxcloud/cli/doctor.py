"""``mkdocs-wxcloud doctor``: check a WeChat setup once, with the real credentials, before the first build."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Mapping

import click

from ..publishing import settings as options
from ..publishing.doctor import Doctor, Step, exit_status
from ..wechat.auth import AUTH_MODES
from . import projects
from .common import load_site, site_command

_MARKS = {"ok": "✔", "warn": "⚠", "fail": "✘", "skip": "–"}
_CREDENTIALS = ("appid", "secret", "env")


@click.command()
@site_command
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    help="One line per step, or one JSON document (steps with name, ok, detail, advice, timings).",
)
@click.option("--appid", default=None, help="AppID (default: the site's option, else $WXCLOUD_APPID).")
@click.option("--env", default=None, help="Cloud environment id (default: the site's option, else $WXCLOUD_ENV).")
@click.option("--api-base", default=None, help="WeChat API base URL (default: $WXCLOUD_API_BASE or the real API).")
@click.option("--auth", type=click.Choice(AUTH_MODES), default=None, help="How calls are authorised (default: token).")
@click.option("--prefix", default=None, help="Cloud folder; the probes go to PREFIX/.wxcloud-doctor/ (default: docs).")
def doctor(config_file: Path | None, output: str, **flags: str | None) -> int:
    """Check credentials, token, environment, uploads, links and reading back, with a few probe files.

    The probes are deleted at the end, also after a failure or Ctrl-C. The secret only comes from
    $WXCLOUD_SECRET (or the site's configuration). Exit status: 0 when everything a build needs
    works, 1 when a step failed, 2 when the configuration is incomplete, 130 when interrupted.
    A site configuration is optional: without one, flags and variables are enough.
    """
    given = {name: value for name, value in flags.items() if value is not None}
    if config_file is None and not any(Path(name).is_file() for name in projects.CONFIG_FILES):
        settings, where = options.resolve(given, Path.cwd()), "the options"
    else:
        site = load_site(config_file, given)
        settings, where = site.settings, (site.config_file.name if site.config_file else "the options")
    sources = {name: _source(name, getattr(settings, name), given, os.environ, where) for name in _CREDENTIALS}
    diagnosis = Doctor(settings, sources)
    try:
        steps = diagnosis.run()
    except KeyboardInterrupt:
        _show(diagnosis.steps, output, interrupted=True)
        sys.exit(130)
    _show(steps, output)
    return exit_status(steps)


def _source(name: str, value: str | None, given: Mapping[str, str], environ: Mapping[str, str], where: str) -> str:
    """Where a credential came from, never its value: ``--appid``, ``WXCLOUD_APPID``, or the option."""
    variable = f"WXCLOUD_{name.upper()}"
    if name in given:
        return f"--{name}"
    if environ.get(variable) and environ[variable] == value:
        return variable
    return f"option `{name}` in {where}"


def _show(steps: list[Step], output: str, interrupted: bool = False) -> None:
    status = 130 if interrupted else exit_status(steps)
    if output == "json":
        document: dict[str, Any] = {"ok": status == 0, "exit_status": status, "interrupted": interrupted,
                                    "steps": [step.as_json() for step in steps]}  # fmt: skip
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    for step in steps:
        click.echo(f"{_MARKS[step.status]} {step.name}: {step.detail}")
        if step.advice:
            click.echo(f"  → {step.advice}")
    if interrupted:
        click.echo("interrupted: the probes stored so far were deleted", err=True)
    elif status == 0:
        click.echo("everything a build needs works")
    else:
        failed = ", ".join(step.name for step in steps if not step.ok)
        click.echo(f"failed: {failed}: fix what the ✘ lines say, then run `mkdocs-wxcloud doctor` again")
