"""The text of a built page or stylesheet, and its bytes back, byte for byte.

A page's encoding is what the browser would use: a byte order mark, else (HTML) a ``<meta charset>``
or ``<meta http-equiv=content-type>`` in its first 1024 bytes, (CSS) an ``@charset`` at its very
start, else UTF-8. Labels are read as the WHATWG Encoding standard maps them (``gb2312`` is GBK,
``iso-8859-1`` is windows-1252). A text is only accepted when it encodes back to exactly its bytes,
so writing a rewritten text changes no byte outside the rewritten URLs.
"""

from __future__ import annotations

import codecs
import re
from typing import Callable, NamedTuple

from ..errors import WxCloudError

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG labels whose encoding Python names otherwise (or reads more narrowly)
_LABELS = {
    **dict.fromkeys("ascii us-ascii iso-8859-1 iso8859-1 latin1 l1 cp819 ibm819 iso-ir-100 windows-1252 cp1252 "
                    "x-cp1252 ansi_x3.4-1968 iso_8859-1 iso88591 x-user-defined".split(), "cp1252"),
    **dict.fromkeys("gb2312 gbk x-gbk chinese csgb2312 gb_2312 gb_2312-80 iso-ir-58 csiso58gb231280 gb18030".split(),
                    "gb18030"),
    **dict.fromkeys("big5 big5-hkscs cn-big5 csbig5 x-x-big5".split(), "big5hkscs"),
    **dict.fromkeys("shift_jis shift-jis sjis ms_kanji ms932 windows-31j x-sjis csshiftjis".split(), "cp932"),
    **dict.fromkeys("euc-kr ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 windows-949 korean cseuckr".split(),
                    "cp949"),
    **dict.fromkeys("utf-16 utf-16le utf-16be unicode unicodefffe".split(), "utf-8"),  # as a declaration: UTF-8
}  # fmt: skip
_COMMENT = re.compile(rb"<!--.*?(?:-->|\Z)", re.DOTALL)
_META = re.compile(rb"<meta[\t\n\f\r /]([^>]*)", re.IGNORECASE)
_META_ATTRIBUTE = re.compile(rb"""([^\t\n\f\r />=]+)[\t\n\f\r ]*(?:=[\t\n\f\r ]*("[^"]*"|'[^']*'|[^\t\n\f\r >]*))?""")
_CHARSET_IN_CONTENT = re.compile(rb"""charset[\t\n\f\r ]*=[\t\n\f\r ]*["']?([^\t\n\f\r ;"']+)""", re.IGNORECASE)
_AT_CHARSET = re.compile(rb'@charset "([^"]*)";')


class EncodingError(WxCloudError):
    """A page or stylesheet whose bytes are not text in the encoding it declares (or in UTF-8)."""


class Document(NamedTuple):
    """A file's text, and how to turn it back into bytes: its byte order mark and its encoding."""

    name: str
    text: str
    encoding: str
    bom: bytes

    def encode(self, text: str) -> bytes:
        """``text`` (this document's text, rewritten) as the file's bytes."""
        try:
            return self.bom + text.encode(self.encoding)
        except UnicodeEncodeError as error:
            raise EncodingError(
                f"{self.name}: {error.object[error.start : error.end]!r} cannot be written in its encoding "
                f"{self.encoding}; save the file as UTF-8"
            ) from None


def decode_html(data: bytes, name: str) -> Document:
    """A page's text; ``name`` (its path) is for the error of an undecodable page."""
    return _decode(data, name, _declared_html)


def decode_css(data: bytes, name: str) -> Document:
    """A stylesheet's text; ``name`` (its path) is for the error of an undecodable one."""
    return _decode(data, name, _declared_css)


def _decode(data: bytes, name: str, declared: Callable[[bytes], "str | None"]) -> Document:
    bom, encoding = next(((b, e) for b, e in _BOMS if data.startswith(b)), (b"", None))
    body = data[len(bom) :]
    encoding = encoding or declared(body) or "utf-8"
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        raise EncodingError(
            f"{name}: byte {error.start + len(bom)} is not {encoding} text; save the file as UTF-8 or declare its "
            "encoding (<meta charset> in a page, @charset in a stylesheet)"
        ) from None
    if encoding != "utf-8" and text.encode(encoding) != body:  # UTF-8 always round-trips; others may not
        raise EncodingError(f"{name}: its {encoding} bytes cannot be written back unchanged; save the file as UTF-8")
    return Document(name, text, encoding, bom)


def _label(raw: bytes) -> str | None:
    label = raw.decode("ascii", "replace").strip().lower()
    if label in _LABELS:
        return _LABELS[label]
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None  # an unknown label is ignored, as browsers do


def _declared_html(body: bytes) -> str | None:
    """The encoding the first ``<meta>`` that declares one names (in the first 1024 bytes)."""
    head = _COMMENT.sub(b"", body[:1024])
    for meta in _META.finditer(head):
        found: dict[bytes, bytes] = {}
        for attribute, value in _META_ATTRIBUTE.findall(meta.group(1)):
            found.setdefault(attribute.lower(), value.strip(b"\"'"))  # the first of a name counts
        if b"charset" in found:
            label = _label(found[b"charset"])
        elif found.get(b"http-equiv", b"").lower() == b"content-type" and (
            charset := _CHARSET_IN_CONTENT.search(found.get(b"content", b""))
        ):
            label = _label(charset.group(1))
        else:
            continue
        if label is not None:
            return label
    return None


def _declared_css(body: bytes) -> str | None:
    declared = _AT_CHARSET.match(body)
    return _label(declared.group(1)) if declared is not None else None
