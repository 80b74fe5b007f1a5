"""The download host (``<bucket>.tcb.qcloud.la``): the links ``batchdownloadfile`` hands out, and serving them.

Public storage answers unsigned links that never expire; with ``private`` links carry
``sign=…&t=<expiry>``, stop working after ``max_age`` and the unsigned URL is refused (403), as on
the real service. ``sign_public_links`` shows the other reading of the field reports: public links
are signed too (``t`` is the signing time) and never expire, and the unsigned URL serves the object
as well. ``HEAD`` and a single ``Range`` (``bytes=0-0`` to probe a URL cheaply) are answered as
COS does; the type served is the one stored with the object (``application/octet-stream`` when
the upload named none, or the extension's with ``infer_content_type``).
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import re
import time
from typing import Callable
from urllib.parse import quote, unquote

from .messages import Request, Response, cos_error
from .options import Options
from .protocol import CosFailure, decimal, same_secret
from .storage import Storage

_RANGE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for; None to serve it all.

    Raises :class:`CosFailure` 416 for a range that misses the object. Several ranges or a header
    that is not ``bytes=first-last`` are ignored (the whole object, 200), as RFC 9110 allows.
    """
    match = _RANGE.fullmatch(header.strip())
    if match is None or not (match[1] or match[2]):
        return None
    if not match[1]:  # the last N bytes
        wanted = int(match[2])
        first, last = (size - min(wanted, size) if wanted else size), size - 1
    else:
        first, last = int(match[1]), min(int(match[2]), size - 1) if match[2] else size - 1
        if match[2] and int(match[2]) < first:
            return None  # not a valid range: ignored
    if first >= size:
        raise CosFailure(416, "InvalidRange", "The requested range is not satisfiable")
    return first, last


class DownloadHost:
    """Makes download links and serves ``GET``/``HEAD`` of them."""

    def __init__(self, storage: Storage, options: Options, base_url: Callable[[], str]) -> None:
        self.storage = storage
        self.options = options
        self._base_url = base_url  # known once the server is bound
        self._link_key = hashlib.sha256(b"download-link:" + options.secret.encode()).digest()

    def link(self, bucket: str, path: str, max_age: int) -> str:
        """The ``download_url`` of an object, as the storage's mode signs it."""
        url = f"{self._base_url()}/dl/{bucket}/{quote(path, safe='/')}"
        now = int(time.time())
        if self.options.private:
            return f"{url}?sign={self._sign(bucket, path, now + max_age)}&t={now + max_age}"
        if self.options.sign_public_links:
            return f"{url}?sign={self._sign(bucket, path, now)}&t={now}"
        return url

    def serve(self, request: Request) -> Response:
        cors = [("Access-Control-Allow-Origin", "*")] if self.options.cors else []
        try:
            if request.method not in ("GET", "HEAD"):
                raise CosFailure(405, "MethodNotAllowed", "The specified method is not allowed.")
            bucket, _, key = unquote(request.path[len("/dl/") :]).partition("/")
            self._check_sign(bucket, key, request.params())
            found = self.storage.open(bucket, key)
            if found is None:
                raise CosFailure(404, "NoSuchKey", "The specified key does not exist.")
        except CosFailure as error:
            return cos_error(error, request.path, cors)
        stored, reader = found
        try:
            size = reader.seek(0, 2)
            wanted = byte_range(request.header("Range"), size) if request.header("Range") else None
        except CosFailure as error:
            reader.close()
            return cos_error(error, request.path, [("Content-Range", f"bytes */{size}"), *cors])
        first, last = wanted or (0, size - 1)
        reader.seek(first)
        content_type = stored.content_type or (
            (self.options.infer_content_type and mimetypes.guess_type(key)[0]) or "application/octet-stream"
        )
        headers = [("Content-Type", content_type), ("Content-Length", str(last - first + 1)), ("ETag", stored.etag),
                   ("Accept-Ranges", "bytes"), *cors]  # fmt: skip
        if wanted is not None:
            headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
        return Response(206 if wanted else 200, headers, stream=reader)

    def _check_sign(self, bucket: str, key: str, query: dict[str, str]) -> None:
        """Private links must carry a valid, unexpired sign; public ones are served with or without one."""
        if not self.options.private:
            return
        sign, expires = query.get("sign", ""), decimal(query.get("t", ""))
        if not sign or expires is None:
            raise CosFailure(403, "AccessDenied", "Access Denied: sign and t are required.")
        if not same_secret(sign, self._sign(bucket, key, expires)):
            raise CosFailure(403, "AccessDenied", "Access Denied: the sign does not match.")
        if expires <= time.time():
            raise CosFailure(403, "AccessDenied", "Request has expired")

    def _sign(self, bucket: str, path: str, t: int) -> str:
        message = f"{bucket}/{path}\n{t}".encode()
        return hmac.new(self._link_key, message, hashlib.sha256).hexdigest()[:32]
