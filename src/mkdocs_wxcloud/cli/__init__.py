"""The ``mkdocs-wxcloud`` command: one module per command, the shared pieces apart.

:mod:`.app` is the command group; :mod:`.common` sets up logging and turns errors into exit
statuses; :mod:`.site` and :mod:`.scan` read a site's pages; :mod:`.progress` is the progress display.
Imports :mod:`..publishing` and below; only :mod:`.emulator` (the command) imports the emulator.
"""

from .app import main

__all__ = ["main"]
