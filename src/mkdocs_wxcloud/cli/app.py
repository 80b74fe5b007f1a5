"""The ``mkdocs-wxcloud`` command group."""

from __future__ import annotations

import click

from .check import check
from .doctor import doctor
from .emulator import emulator
from .prune import prune
from .publish import publish
from .rewrite import rewrite
from .sync import sync


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mkdocs-wxcloud")
def main() -> None:
    """Publish the assets of documentation sites to WeChat cloud storage (云开发 / 云托管)."""


for command in (sync, check, prune, publish, rewrite, doctor, emulator):
    main.add_command(command)
