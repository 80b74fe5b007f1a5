"""The storage APIs (``/tcb/…``) and the download host their links point at.

Links of public storage never expire; with ``private`` they carry ``sign=…&t=…`` and stop working
after ``max_age``, as on the real service. Unknown files fail per item, never the whole call.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, BinaryIO, Callable
from urllib.parse import quote

from .cos import CosHost
from .protocol import MAX_BATCH, ApiFailure, CosFailure, check_path, decimal, require, same_secret
from .storage import Storage, Stored


class StorageApi:
    """``uploadfile``, ``batchdownloadfile``, ``batchdeletefile`` and ``GET`` of a download link."""

    def __init__(self, storage: Storage, cos: CosHost, envs: tuple[str, ...], *, private: bool, secret: str,
                 base_url: Callable[[], str]) -> None:  # fmt: skip
        self.storage = storage
        self.cos = cos
        self.envs = envs
        self.private = private
        self._base_url = base_url  # known once the server is bound
        self._link_key = hashlib.sha256(b"download-link:" + secret.encode()).digest()

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        handler = {
            "/tcb/uploadfile": self.upload_file,
            "/tcb/batchdownloadfile": self.batch_download,
            "/tcb/batchdeletefile": self.batch_delete,
        }[path]
        return {"errcode": 0, "errmsg": "ok", **handler(body)}

    def upload_file(self, body: dict[str, Any]) -> dict[str, Any]:
        """``/tcb/uploadfile``: hand out a short-lived authorization to POST one path to COS."""
        env = self._env(body)
        path = require(body, "path", str)
        check_path(path)
        authorization, grant = self.cos.grant(env, path)
        return {
            "url": f"{self._base_url()}/cos/{grant.bucket}/{quote(path, safe='/')}",
            "authorization": authorization,
            "token": grant.token,
            "cos_file_id": grant.cos_file_id,
            "file_id": f"cloud://{env}.{grant.bucket}/{path}",
        }

    def batch_download(self, body: dict[str, Any]) -> dict[str, Any]:
        """``/tcb/batchdownloadfile``: links per file; unknown files fail per item only."""
        env = self._env(body)
        items = self._batch(body, "file_list")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise ApiFailure(40097, f"invalid args: file_list[{index}] must be an object")
            require(item, "fileid", str)
            if require(item, "max_age", int) < 0:
                raise ApiFailure(40097, f"invalid args: file_list[{index}].max_age is negative")
        now = int(time.time())
        answers = []
        for item in items:
            found = self.storage.visible(env, item["fileid"])
            if found is None:
                answers.append({"fileid": item["fileid"], "download_url": "", "status": 1,
                                "errmsg": "STORAGE_FILE_NONEXIST"})  # fmt: skip
                continue
            bucket, path = found
            url = f"{self._base_url()}/dl/{bucket}/{quote(path, safe='/')}"
            if self.private:
                expires = now + item["max_age"]
                url += f"?sign={self._sign(bucket, path, expires)}&t={expires}"
            answers.append({"fileid": item["fileid"], "download_url": url, "status": 0, "errmsg": "ok"})
        return {"file_list": answers}

    def batch_delete(self, body: dict[str, Any]) -> dict[str, Any]:
        """``/tcb/batchdeletefile``: delete visible files; unknown ones fail per item only."""
        env = self._env(body)
        file_ids = self._batch(body, "fileid_list")
        if not all(isinstance(f, str) for f in file_ids):
            raise ApiFailure(40097, "invalid args: fileid_list must hold strings")
        found = [self.storage.visible(env, file_id) for file_id in file_ids]
        deleted = iter(self.storage.delete(where for where in found if where is not None))
        answers = []
        for file_id, where in zip(file_ids, found):
            if where is not None and next(deleted):
                answers.append({"fileid": file_id, "status": 0, "errmsg": "ok"})
            else:
                answers.append({"fileid": file_id, "status": 1, "errmsg": "STORAGE_FILE_NONEXIST"})
        return {"delete_list": answers}

    def open_download(self, bucket: str, path: str, query: dict[str, str]) -> tuple[Stored, BinaryIO]:
        """The object and a reader for ``GET /dl/...``; private links must carry a valid sign."""
        if self.private:
            sign, expires = query.get("sign", ""), decimal(query.get("t", ""))
            if not sign or expires is None:
                raise CosFailure(403, "AccessDenied", "Access Denied: sign and t are required.")
            if not same_secret(sign, self._sign(bucket, path, expires)):
                raise CosFailure(403, "AccessDenied", "Access Denied: the sign does not match.")
            if expires <= time.time():
                raise CosFailure(403, "AccessDenied", "Request has expired")
        found = self.storage.open(bucket, path)
        if found is None:
            raise CosFailure(404, "NoSuchKey", "The specified key does not exist.")
        return found

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

    def _sign(self, bucket: str, path: str, expires: int) -> str:
        message = f"{bucket}/{path}\n{expires}".encode()
        return hmac.new(self._link_key, message, hashlib.sha256).hexdigest()[:32]
