"""The storage APIs (``/tcb/uploadfile``, ``/tcb/batchdownloadfile``, ``/tcb/batchdeletefile``).

Unknown files fail per item, never the whole call. ``fileid_echo`` shows the ways a batch answer
may echo a non-ASCII ``fileid`` (byte for byte, percent-encoded, NFD), so that a client that
matches items by id can be tested against each. A ``denied`` call (the ``no_permission`` fault)
answers -503002: as the errcode of ``uploadfile``, as the status of a batch's first item.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable
from urllib.parse import quote

from .cos import CosHost
from .downloads import DownloadHost
from .faults import api_failure
from .protocol import MAX_BATCH, ApiFailure, check_path, require
from .storage import Storage

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_DENIED = api_failure("no_permission")


def echo(file_id: str, how: str) -> str:
    """A ``fileid`` as a batch answer gives it back: ``exact``, ``percent`` or ``nfd``."""
    if how == "percent":
        return _NON_ASCII.sub(lambda m: quote(m[0], safe=""), file_id)
    if how == "nfd":
        return unicodedata.normalize("NFD", file_id)
    return file_id


class StorageApi:
    """The three ``/tcb/`` calls, over the storage, the COS grants and the download links."""

    def __init__(self, storage: Storage, cos: CosHost, downloads: DownloadHost, envs: tuple[str, ...],
                 fileid_echo: str, base_url: Callable[[], str]) -> None:  # fmt: skip
        self.storage = storage
        self.cos = cos
        self.downloads = downloads
        self.envs = envs
        self.fileid_echo = fileid_echo
        self._base_url = base_url  # known once the server is bound

    def call(self, path: str, body: dict[str, Any], *, denied: bool = False) -> dict[str, Any]:
        handler = {
            "/tcb/uploadfile": self.upload_file,
            "/tcb/batchdownloadfile": self.batch_download,
            "/tcb/batchdeletefile": self.batch_delete,
        }[path]
        return {"errcode": 0, "errmsg": "ok", **handler(body, denied)}

    def upload_file(self, body: dict[str, Any], denied: bool = False) -> dict[str, Any]:
        """``/tcb/uploadfile``: hand out a short-lived authorization to POST one path to COS."""
        env = self._env(body)
        path = require(body, "path", str)
        check_path(path)
        if denied:
            raise _DENIED
        authorization, grant = self.cos.grant(env, path)
        return {
            "url": f"{self._base_url()}/cos/{grant.bucket}/{quote(path, safe='/')}",
            "authorization": authorization,
            "token": grant.token,
            "cos_file_id": grant.cos_file_id,
            "file_id": f"cloud://{env}.{grant.bucket}/{path}",
        }

    def batch_download(self, body: dict[str, Any], denied: bool = False) -> dict[str, Any]:
        """``/tcb/batchdownloadfile``: links per file; unknown files fail per item only."""
        env = self._env(body)
        items = self._batch(body, "file_list")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise ApiFailure(40097, f"invalid args: file_list[{index}] must be an object")
            require(item, "fileid", str)
            if require(item, "max_age", int) < 0:
                raise ApiFailure(40097, f"invalid args: file_list[{index}].max_age is negative")
        answers = []
        for index, item in enumerate(items):
            fileid = echo(item["fileid"], self.fileid_echo)
            found = self.storage.visible(env, item["fileid"])
            if denied and index == 0:
                answers.append(
                    {"fileid": fileid, "download_url": "", "status": _DENIED.code, "errmsg": _DENIED.message}
                )
            elif found is None:
                answers.append({"fileid": fileid, "download_url": "", "status": 1, "errmsg": "STORAGE_FILE_NONEXIST"})
            else:
                url = self.downloads.link(*found, item["max_age"])
                answers.append({"fileid": fileid, "download_url": url, "status": 0, "errmsg": "ok"})
        return {"file_list": answers}

    def batch_delete(self, body: dict[str, Any], denied: bool = False) -> dict[str, Any]:
        """``/tcb/batchdeletefile``: delete visible files; unknown ones fail per item only."""
        env = self._env(body)
        file_ids = self._batch(body, "fileid_list")
        if not all(isinstance(f, str) for f in file_ids):
            raise ApiFailure(40097, "invalid args: fileid_list must hold strings")
        found = [None if denied and index == 0 else self.storage.visible(env, f) for index, f in enumerate(file_ids)]
        deleted = iter(self.storage.delete(where for where in found if where is not None))
        answers = []
        for index, (file_id, where) in enumerate(zip(file_ids, found)):
            fileid = echo(file_id, self.fileid_echo)
            if denied and index == 0:
                answers.append({"fileid": fileid, "status": _DENIED.code, "errmsg": _DENIED.message})
            elif where is not None and next(deleted):
                answers.append({"fileid": fileid, "status": 0, "errmsg": "ok"})
            else:
                answers.append({"fileid": fileid, "status": 1, "errmsg": "STORAGE_FILE_NONEXIST"})
        return {"delete_list": answers}

    def _env(self, body: dict[str, Any]) -> str:
        env = require(body, "env", str)
        if env not in self.envs:
            raise ApiFailure(-501005, f"INVALID_ENV: environment {env} does not exist or is abnormal")
        return env

    @staticmethod
    def _batch(body: dict[str, Any], name: str) -> list[Any]:
        items = require(body, name, list)
        if len(items) > MAX_BATCH:
            raise ApiFailure(40097, f"invalid args: {name} has {len(items)} items, at most {MAX_BATCH} a call")
        return items
