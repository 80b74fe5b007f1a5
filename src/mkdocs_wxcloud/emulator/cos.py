"""The COS upload host: short-lived grants from ``uploadfile`` and the multipart POST Object.

The form is checked as COS checks it: ``file`` must be the last part (400 ``MalformedPOSTRequest``),
the fields before it are limited in size, the file to ``max_upload_bytes`` (5 GB, COS's object
limit: 400 ``EntityTooLarge``), and the signature, token and expiry of the grant must match. An
upload without the right ``x-cos-meta-fileid`` is stored with 204 like on the real COS, but stays
invisible to WeChat. The form field ``Content-Type`` is the object's type (the ``file`` part's own
type is ignored, as COS does); without it the object has none of its own.
"""

from __future__ import annotations

import io
import mmap
import re
import secrets
import threading
import time
from dataclasses import dataclass
from email.message import Message
from typing import BinaryIO

from .protocol import CosFailure
from .storage import Storage

_MAX_PRE_DATA = 20 * 1024  # COS limits the form fields preceding the file, like S3
_FORM_OVERHEAD = _MAX_PRE_DATA + 64 * 1024  # the fields, plus part headers and boundaries
MAX_UPLOAD_BYTES = 5 * 1024**3  # COS's documented limit of one object


def too_large() -> CosFailure:
    return CosFailure(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")


@dataclass
class Grant:
    """One upload authorization handed out by ``uploadfile``."""

    env: str
    bucket: str
    path: str
    token: str
    cos_file_id: str
    expires: float


def malformed(detail: str = "") -> CosFailure:
    text = "The body of your POST request is not well-formed multipart/form-data."
    return CosFailure(400, "MalformedPOSTRequest", f"{text} {detail}".strip())


def parse_form(mm: mmap.mmap | bytes, content_type: str) -> tuple[dict[str, str], tuple[int, int]]:
    """Parse a spooled multipart/form-data body in place.

    Returns the text fields (names lower-cased) and the byte range of the ``file`` part, which must
    be the last part. Working on the mmap of the spool keeps big files out of memory.
    """
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise malformed("Expected a multipart/form-data Content-Type with a boundary.")
    delimiter = b"--" + boundary.encode("latin-1")
    if mm[: len(delimiter)] == delimiter:
        pos = len(delimiter)
    else:
        found = mm.find(b"\r\n" + delimiter)
        if found < 0:
            raise malformed()
        pos = found + 2 + len(delimiter)
    fields: dict[str, str] = {}
    file_range: tuple[int, int] | None = None
    pre_data = 0
    while mm[pos : pos + 2] != b"--":
        if mm[pos : pos + 2] != b"\r\n":
            raise malformed()
        headers_end = mm.find(b"\r\n\r\n", pos)
        if headers_end < 0:
            raise malformed()
        name = field_name(mm[pos + 2 : headers_end + 2])
        start = headers_end + 4
        end = mm.find(b"\r\n" + delimiter, start)
        if end < 0 or name is None:
            raise malformed()
        if file_range is not None:
            raise malformed("The file field must be the last field of the form.")
        if name.lower() == "file":
            file_range = (start, end)
        else:
            pre_data += end - start
            if pre_data > _MAX_PRE_DATA:
                raise CosFailure(400, "MaxPostPreDataLengthExceeded",
                                 "Your POST request fields preceding the upload file were too large.")  # fmt: skip
            fields[name.lower()] = mm[start:end].decode("utf-8", "replace")
        pos = end + 2 + len(delimiter)
    if file_range is None:
        raise CosFailure(400, "InvalidArgument", "POST requires exactly one file upload per request.")
    return fields, file_range


_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;"]*))')


def field_name(headers: bytes) -> str | None:
    """The ``name`` parameter of a part's ``Content-Disposition`` (None without one), read as
    ``email`` reads it (a quoted string's backslashes escape) at a fraction of its cost: a form
    has a part per field, and the emulator must not be what limits a benchmark."""
    for line in headers.decode("utf-8", "surrogateescape").split("\r\n"):
        field, colon, value = line.partition(":")
        if colon and field.strip().lower() == "content-disposition":
            for param in _PARAM.finditer(value):
                if param.group(1).lower() == "name":
                    quoted = param.group(2)
                    return param.group(3) if quoted is None else re.sub(r"\\(.)", r"\1", quoted)
            return None
    return None


class CosHost:
    """Grants by authorization, and the POST that uses one to store an object."""

    def __init__(self, storage: Storage, ttl: int, max_upload_bytes: int) -> None:
        self.storage = storage
        self.ttl = ttl
        self.max_upload_bytes = max_upload_bytes
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def grant(self, env: str, path: str) -> tuple[str, Grant]:
        """A new authorization (and what it allows) to POST ``path`` into ``env``'s bucket."""
        now = int(time.time())
        end = now + self.ttl
        authorization = (
            f"q-sign-algorithm=sha1&q-ak=AKIDemulator{secrets.token_hex(8)}"
            f"&q-sign-time={now};{end}&q-key-time={now};{end}"
            f"&q-header-list=&q-url-param-list=&q-signature={secrets.token_hex(20)}"
        )
        grant = Grant(env, self.storage.buckets[env], path, secrets.token_urlsafe(96), secrets.token_urlsafe(48), end)
        with self._lock:
            self._grants[authorization] = grant
        return authorization, grant

    @property
    def max_body(self) -> int:
        """The largest form body worth reading: a file of ``max_upload_bytes`` and its fields."""
        return self.max_upload_bytes + _FORM_OVERHEAD

    def expire_all(self) -> None:
        now = time.time()
        with self._lock:
            for grant in self._grants.values():
                grant.expires = min(grant.expires, now)

    def post(self, bucket: str, content_type: str, spool: BinaryIO, size: int) -> str:
        """Check and store a multipart POST Object; returns the ETag."""
        if bucket not in self.storage.buckets.values():
            raise CosFailure(404, "NoSuchBucket", "The specified bucket does not exist.")
        if size == 0:
            raise malformed()
        if isinstance(spool, io.BytesIO):
            return self._post(bucket, content_type, spool.getvalue())
        with mmap.mmap(spool.fileno(), size, access=mmap.ACCESS_READ) as mm:
            return self._post(bucket, content_type, mm)

    def _post(self, bucket: str, content_type: str, body: mmap.mmap | bytes) -> str:
        fields, (start, end) = parse_form(body, content_type)
        if end - start > self.max_upload_bytes:
            raise too_large()
        grant = self._check(bucket, fields)
        visible = fields.get("x-cos-meta-fileid") == grant.cos_file_id
        object_type = fields.get("content-type")
        if object_type is not None and (not object_type or any(ord(c) < 0x20 or ord(c) == 0x7F for c in object_type)):
            raise CosFailure(400, "InvalidArgument", "Invalid Content-Type.")
        return self.storage.store(grant.env, (grant.bucket, grant.path), body, start, end, visible, object_type)

    def _check(self, bucket: str, fields: dict[str, str]) -> Grant:
        key = fields.get("key")
        if not key:
            raise CosFailure(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
        signature = fields.get("signature")
        if not signature:
            raise CosFailure(403, "AccessDenied", "Access Denied.")
        with self._lock:
            grant = self._grants.get(signature)
        if grant is None or grant.bucket != bucket or grant.path != key:
            raise CosFailure(403, "SignatureDoesNotMatch", "The calculated signature does not match the provided one.")
        if grant.expires <= time.time():
            raise CosFailure(403, "AccessDenied", "Request has expired")
        if fields.get("x-cos-security-token") != grant.token:
            raise CosFailure(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
        return grant
