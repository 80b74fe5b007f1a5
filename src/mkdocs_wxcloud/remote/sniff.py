"""What a file is, from its first bytes: neither its URL nor its ``Content-Type`` can be trusted.

Image hosts serve JPEGs as ``application/octet-stream``, WeChat's own ``mmbiz.qpic.cn`` names the
format in a query (``?wx_fmt=png``), and an anti-hotlinking or login page comes back as
``image/png`` with a ``200``. So an import looks at the bytes: signatures for the binary formats,
and for text, the first element after the XML prolog (``<svg`` is an image, ``<html`` is a page).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from ..references.assets import kind_of

HEAD = 64 * 1024
"""How many leading bytes :func:`sniff` looks at: enough for an SVG's licence comment and doctype."""


@dataclass(frozen=True)
class Sniffed:
    extension: str  # ".png"
    mime: str  # "image/png"

    @property
    def kind(self) -> str:
        """``image``, ``video``, ``audio`` or ``document``, as the ``assets`` groups name them."""
        return kind_of("file" + self.extension)


_MAGIC: list[tuple[bytes, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", ".png", "image/png"),
    (b"\xff\xd8\xff", ".jpg", "image/jpeg"),
    (b"GIF87a", ".gif", "image/gif"),
    (b"GIF89a", ".gif", "image/gif"),
    (b"II*\x00", ".tif", "image/tiff"),
    (b"MM\x00*", ".tif", "image/tiff"),
    (b"fLaC", ".flac", "audio/flac"),
    (b"ID3", ".mp3", "audio/mpeg"),
    (b"%PDF-", ".pdf", "application/pdf"),
]
_FTYP = {  # ISO base media: the major brand, else the compatible ones, in this order of preference
    b"avif": (".avif", "image/avif"),
    b"avis": (".avif", "image/avif"),
    b"qt  ": (".mov", "video/quicktime"),
    b"M4V ": (".m4v", "video/x-m4v"),
    b"M4VH": (".m4v", "video/x-m4v"),
    b"M4VP": (".m4v", "video/x-m4v"),
    b"M4A ": (".m4a", "audio/mp4"),
    b"M4B ": (".m4a", "audio/mp4"),
}
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"msnv", b"f4v "}
_BMP_HEADERS = {12, 40, 52, 56, 64, 108, 124}  # the DIB header sizes of real BMPs: "BM" alone is text
_HTML_TAGS = "html head body script iframe h1 div font table a style title b br p meta link form noscript".split()
_PROLOG = re.compile(
    r"\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!doctype(?:[^\[>]|\[.*?\])*>\s*)*",
    re.IGNORECASE | re.DOTALL,
)
_ELEMENT = re.compile(r"<([a-z][a-z0-9_.:-]*)(?=[\s/>])", re.IGNORECASE)
_LOGIN = re.compile(rb"""type\s*=\s*["']?password|/(?:login|signin|sign_in|sign-in|passport)\b""", re.IGNORECASE)


def sniff(head: bytes) -> Sniffed | None:
    """The format of a file from its first bytes (:data:`HEAD` is plenty); None if not a known one."""
    for magic, extension, mime in _MAGIC:
        if head.startswith(magic):
            return Sniffed(extension, mime)
    return _container(head) or _audio_frames(head) or _bitmap(head) or _svg(head)


def extension_for(data: bytes) -> str | None:
    """The file extension that the bytes deserve (``.png``), for URLs that do not say."""
    found = sniff(data[:HEAD])
    return found.extension if found else None


def is_html(head: bytes) -> bool:
    """Whether the bytes are a web page (an anti-hotlinking or login page), whatever they claim."""
    text = _text(head)
    if text is None:
        return False
    if re.match(r"\s*<!doctype\s+html[\s>]", text, re.IGNORECASE):
        return True
    root = _root(text)
    return root is not None and root.lower() in _HTML_TAGS


def looks_like_login(head: bytes, final_url: str) -> bool:
    """Whether a web page is a login wall: a password field, or a login address it was sent to."""
    return bool(_LOGIN.search(head) or _LOGIN.search(final_url.encode("utf-8", "replace")))


def _container(head: bytes) -> Sniffed | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed(".webp", "image/webp")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed(".wav", "audio/wav")
    if head[4:8] == b"ftyp" and len(head) >= 12:
        size = struct.unpack(">I", head[:4])[0]
        brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(size, len(head), 256) - 3, 4)]
        for brand in brands:
            if brand in _FTYP:
                return Sniffed(*_FTYP[brand])
        if any(brand in _MP4_BRANDS for brand in brands):
            return Sniffed(".mp4", "video/mp4")
        return None  # HEIC, 3GP, JPEG 2000…: no browser shows them in a page
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska, or its WebM profile
        return Sniffed(".webm", "video/webm") if b"webm" in head[:64] else None
    if head[:4] == b"OggS":
        if b"\x80theora" in head[:512]:
            return Sniffed(".ogv", "video/ogg")
        if b"OpusHead" in head[:512]:
            return Sniffed(".opus", "audio/ogg")
        return Sniffed(".ogg", "audio/ogg")
    return None


def _audio_frames(head: bytes) -> Sniffed | None:
    """MPEG audio frames without an ID3 tag: layer III is MP3, ``layer 0`` is AAC's ADTS."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    layer = (head[1] >> 1) & 0b11
    if layer == 0b01 and (head[2] >> 4) not in (0, 0xF) and (head[2] >> 2) & 0b11 != 0b11:
        return Sniffed(".mp3", "audio/mpeg")
    if layer == 0 and head[1] & 0xF6 == 0xF0:
        return Sniffed(".aac", "audio/aac")
    return None


def _bitmap(head: bytes) -> Sniffed | None:
    if head[:2] == b"BM" and len(head) >= 18 and struct.unpack("<I", head[14:18])[0] in _BMP_HEADERS:
        return Sniffed(".bmp", "image/bmp")
    if head[:4] == b"\x00\x00\x01\x00" and len(head) >= 6 and struct.unpack("<H", head[4:6])[0] > 0:
        return Sniffed(".ico", "image/vnd.microsoft.icon")
    return None


def _svg(head: bytes) -> Sniffed | None:
    text = _text(head)
    root = _root(text) if text is not None else None
    is_svg = root is not None and root.rpartition(":")[2] == "svg"  # XML names are case-sensitive
    return Sniffed(".svg", "image/svg+xml") if is_svg else None


def _text(head: bytes) -> str | None:
    """The bytes as text when they are text (UTF-8 or UTF-16 with a BOM); None for binary data."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[2:].decode("utf-16-le" if head[0] == 0xFF else "utf-16-be", "replace")
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    return None if "\x00" in text[:1024] else text


def _root(text: str) -> str | None:
    """The name of the first element after the XML declaration, comments and doctype."""
    prolog = _PROLOG.match(text)
    found = _ELEMENT.match(text, prolog.end() if prolog else 0)
    return found.group(1) if found else None
