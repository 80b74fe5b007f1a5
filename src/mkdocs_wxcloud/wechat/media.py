"""The MIME type COS stores with an object, which is the type the CDN serves it with.

COS takes it from the form field ``Content-Type`` (not from the ``file`` part); without the field an
object is stored as ``application/octet-stream``, and a browser then shows no SVG in ``<img>`` and
downloads a PDF instead of opening it. The table covers every kind of asset a site publishes, the
same on every machine (``mimetypes`` reads the system's tables, which differ, and lacks some).
"""

from __future__ import annotations

import mimetypes
import posixpath

TYPES = {
    **dict.fromkeys((".jpg", ".jpeg", ".jfif"), "image/jpeg"),
    ".apng": "image/apng",
    ".avif": "image/avif",
    ".bmp": "image/bmp",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    **dict.fromkeys((".tif", ".tiff"), "image/tiff"),
    ".webp": "image/webp",
    **dict.fromkeys((".mp4", ".m4v"), "video/mp4"),
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".ogv": "video/ogg",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    **dict.fromkeys((".ogg", ".oga", ".opus"), "audio/ogg"),
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".pdf": "application/pdf",
}
_UNKNOWN = "application/octet-stream"


def content_type(name: str) -> str | None:
    """The type to store ``name`` (a path or file name) with; None when unknown: better no type than
    ``application/octet-stream``, which would pin it (COS may infer one at download)."""
    kind = TYPES.get(posixpath.splitext(name)[1].lower()) or mimetypes.guess_type(name, strict=False)[0]
    return None if kind == _UNKNOWN else kind
