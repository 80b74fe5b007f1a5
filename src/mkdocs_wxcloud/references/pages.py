"""How a page's Markdown is read: as MkDocs reads it, with a one-line error for bad bytes."""

from __future__ import annotations

import codecs
from pathlib import Path


def read_page(path: Path) -> str:
    """A page's text as MkDocs reads it (UTF-8, BOM dropped); a ValueError names the bad byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:  # utf-8-sig counts from after the BOM: the byte is in the file
        at = error.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        raise ValueError(f"is not valid UTF-8 (byte {at}): save the page as UTF-8") from None
