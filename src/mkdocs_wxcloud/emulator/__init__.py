"""A local emulator of the WeChat cloud-storage HTTP API, for tests and offline previews.

One HTTP port serves the JSON APIs of ``api.weixin.qq.com`` (``/cgi-bin/stable_token``,
``/cgi-bin/token``, ``/tcb/uploadfile``, ``/tcb/batchdownloadfile``, ``/tcb/batchdeletefile``),
the COS upload host (``/cos/<bucket>/<path>``) and the download host (``/dl/<bucket>/<path>``).

It follows ``wechat-api.md`` strictly: whatever the real service is known to reject is rejected
here too, so a client that passes against the emulator is honest for the real service. Notably:

* JSON bodies must be UTF-8 without ``\\uXXXX`` escapes of non-ASCII characters (errcode 40033).
* In the multipart COS upload the ``file`` part must come last (400 ``MalformedPOSTRequest``).
* A COS upload without the right ``x-cos-meta-fileid`` is accepted with 204, exactly like the real
  COS, but the file stays invisible to WeChat: ``batchdownloadfile`` answers
  ``STORAGE_FILE_NONEXIST`` for it and ``batchdeletefile`` does not find it.

Latency and faults (busy, quota and permission answers, HTTP 502, dropped connections, expired
tokens or upload links, COS's XML errors: :data:`FAULT_KINDS`) can be injected at random or
deterministically with :meth:`Emulator.fail_next`. Modes (:class:`Options`) show each way the open
questions of ``wechat-api.md`` section 9 may fall: signed public links, inferred content types,
``fileid`` echoes, and the open API service's whitelist and start-up answers. Malformed HTTP gets
a 400, never a traceback; bodies are limited (1 MiB for the JSON APIs, 5 GB for a COS upload).

Modules: :mod:`.app` (the :class:`Emulator`: lifecycle and test controls, and ``serve``);
:mod:`.application` (``Application.handle(Request) -> Response``: every route and rule, callable
in-process) over :mod:`.messages` (``Request``, ``Response``); :mod:`.server` (HTTP framing only)
and :mod:`.framing` (reading a request's target and body strictly); :mod:`.options` (the settings
and modes); :mod:`.tokens`, :mod:`.openapi` (the open API service's gate), :mod:`.api` (storage
APIs), :mod:`.downloads` (links and the download host), :mod:`.cos` (the form upload),
:mod:`.storage`, :mod:`.faults` and :mod:`.protocol` (shared rules). It imports nothing else of
mkdocs-wxcloud; only the ``emulator`` command, :mod:`mkdocs_wxcloud.publishing.connection` and
the tests import it.
"""

from .app import Emulator, serve
from .faults import FAULT_KINDS
from .options import FILEID_ECHOES, OPENAPI_INACTIVE, OPENAPI_UNLISTED, Options
from .protocol import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, HEALTH_PATH, bucket_name

__all__ = [
    "DEFAULT_APPID",
    "DEFAULT_ENV",
    "DEFAULT_SECRET",
    "FAULT_KINDS",
    "FILEID_ECHOES",
    "HEALTH_PATH",
    "OPENAPI_INACTIVE",
    "OPENAPI_UNLISTED",
    "Emulator",
    "Options",
    "bucket_name",
    "serve",
]
