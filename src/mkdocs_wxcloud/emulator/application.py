"""The emulator's application: ``handle(Request) -> Response`` for every host it stands for.

All routing, counting, latency, faults and business rules live here (the token API, the storage
APIs behind the open API service's gate, COS, the download host, the health check), so tests can
call it in-process; :mod:`.server` only frames HTTP around it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from http import HTTPStatus
from urllib.parse import unquote

from .api import StorageApi
from .cos import CosHost, too_large
from .downloads import DownloadHost
from .faults import Faults, api_failure, cos_failure
from .messages import Request, Response, answer, bad_gateway, cos_error, json_answer, not_found
from .openapi import OpenApiGate
from .options import Options
from .protocol import HEALTH_PATH, MAX_JSON_BODY, ApiFailure, CosFailure, endpoint, parse_json
from .storage import Storage
from .tokens import TokenIssuer

UNBOUND = "http://emulator.invalid"


class Application:
    """The WeChat API, COS and download hosts behind one ``handle``; ``base_url`` is where they are served."""

    def __init__(self, options: Options | None = None) -> None:
        options = options or Options()
        self.options = options
        self.envs = tuple(options.envs)
        self.base_url = UNBOUND  # set by whoever serves it, once bound
        self.latency = options.latency
        self.faults = Faults(options.faults, options.fault_rate, options.seed)
        self.tokens = TokenIssuer(options.appid, options.secret, ttl=options.token_ttl, open_api=options.open_api,
                                  ip_whitelist=None if options.ip_whitelist is None else list(options.ip_whitelist),
                                  cloudbase_token=options.cloudbase_token)  # fmt: skip
        self.storage = Storage(self.envs, options.data_dir)
        self.cos = CosHost(self.storage, options.upload_ttl, options.max_upload_bytes)
        self.downloads = DownloadHost(self.storage, options, lambda: self.base_url)
        self.api = StorageApi(self.storage, self.cos, self.downloads, self.envs, options.fileid_echo,
                              lambda: self.base_url)  # fmt: skip
        self.gate = OpenApiGate(options)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    # -- what the server asks before the body is read ---------------------------------------------

    def body_limit(self, path: str) -> int:
        """The largest body worth reading for ``path``: a COS form, or a JSON body of 1 MiB."""
        return self.cos.max_body if endpoint(path) == "cos" else MAX_JSON_BODY

    def refuse(self, path: str, status: int, explain: str) -> Response:
        """The answer to a request whose body cannot be read (400: broken framing, 413: over the limit).

        COS answers a body over its limit with its own 400 ``EntityTooLarge``; the rest get a short
        plain-text answer. The connection closes after it: the rest of the body is unread.
        """
        if path and path != HEALTH_PATH:
            self._count(path)
        if status == 413 and endpoint(path) == "cos":
            response = cos_error(too_large(), path, [("Connection", "close")])
        else:
            text = f"{status} {HTTPStatus(status).phrase}: {explain}\n".encode()
            response = answer(status, text, "text/plain; charset=utf-8", [("Connection", "close")])
        response.close = True
        return response

    # -- one request --------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path, kind = request.path, endpoint(request.path)
        if path == HEALTH_PATH:
            return json_answer({"emulator": "mkdocs-wxcloud", "envs": list(self.envs)})
        self._count(path)
        if self.latency > 0:
            time.sleep(self.latency)
        fault = self.faults.draw(path, kind)
        if fault == "drop":
            return Response(0, drop=True)
        if fault == "http502":
            return bad_gateway()
        if kind in ("token", "api"):
            response = self._json_api(request, fault)
            if self.gate.active and response.status == 200:  # the bare 502 has no seqid
                response.headers.append(self.gate.seqid())
            return response
        if fault is not None:
            return cos_error(cos_failure(fault), path)
        if kind == "cos":
            return self._cos(request)
        if kind == "download":
            return self.downloads.serve(request)
        return not_found()

    def _json_api(self, request: Request, fault: str | None) -> Response:
        params = request.params()
        try:
            if fault is not None and fault != "no_permission":
                raise api_failure(fault)
            if request.path == "/cgi-bin/token":
                if request.method != "GET":
                    raise ApiFailure(43001, "require GET method")
                return json_answer(self.tokens.classic_token(params, request.client_ip))
            if request.method != "POST":
                raise ApiFailure(43002, "require POST method")
            if request.path == "/cgi-bin/stable_token":
                return json_answer(self.tokens.stable_token(parse_json(request.data()), request.client_ip))
            gated = self.gate.check(request.path, params)
            if gated is not None:
                return gated
            self.tokens.authorize(params)
            return json_answer(self.api.call(request.path, parse_json(request.data()), denied=fault == "no_permission"))
        except ApiFailure as error:
            return json_answer(error.answer())

    def _cos(self, request: Request) -> Response:
        try:
            if request.method != "POST":
                raise CosFailure(405, "MethodNotAllowed", "The specified method is not allowed.")
            bucket = unquote(request.path[len("/cos/") :]).partition("/")[0]
            request.body.flush()
            etag = self.cos.post(bucket, request.header("Content-Type"), request.body, request.size)
        except CosFailure as error:
            return cos_error(error, request.path)
        return Response(204, [("ETag", etag), ("x-cos-request-id", secrets.token_hex(16))])

    # -- counting -----------------------------------------------------------------------------------

    def _count(self, path: str) -> None:
        with self._lock:
            self._counts[path] += 1

    def request_count(self, path_prefix: str = "") -> int:
        """Requests received on paths starting with ``path_prefix`` (health checks excluded)."""
        with self._lock:
            return sum(n for path, n in self._counts.items() if path.startswith(path_prefix))

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
