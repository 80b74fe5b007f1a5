"""Every JSON answer checked against the types ``wechat-api.md`` documents, before anything reads it.

A proxy, a captive portal or a broken server can answer any JSON at all: a string ``errcode``, a
``file_list`` that is an object, an item whose ``status`` is ``"ok"``. Checking each field's type in
one place turns all of them into one line naming the API, instead of a traceback wherever the field
happens to be used. Asking again would get the same answer, so the error is final.
"""

from __future__ import annotations

from typing import Any

from .errors import NetworkError

_NUMBER = (int, float)
# field -> (type, required): required fields are non-empty strings or positive numbers
_COMMON: dict[str, tuple[type | tuple[type, ...], bool]] = {"errcode": (int, False), "errmsg": (str, False)}
_FIELDS: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    "cgi-bin/stable_token": {"access_token": (str, True), "expires_in": (_NUMBER, True)},
    "tcb/uploadfile": {f: (str, True) for f in ("url", "authorization", "token", "cos_file_id", "file_id")},
    "tcb/batchdownloadfile": {"file_list": (list, False)},
    "tcb/batchdeletefile": {"delete_list": (list, False)},
}
_ITEM: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "fileid": (str, True),
    "status": (int, False),
    "errmsg": (str, False),
    "download_url": (str, False),
}
_LISTS = {"tcb/batchdownloadfile": "file_list", "tcb/batchdeletefile": "delete_list"}


class MalformedAnswer(NetworkError):
    """An answer whose fields are not of the documented types: final, since asking again gets the same."""


def check_common(api: str, answer: dict[str, Any]) -> int:
    """The ``errcode`` of any answer (0 when absent), once it and ``errmsg`` have their documented types."""
    _check(api, answer, _COMMON, "")
    return answer.get("errcode") or 0


def check_success(api: str, answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` (errcode 0) once every field the caller reads, batch items included, has its type."""
    _check(api, answer, _FIELDS.get(api, {}), "")
    field = _LISTS.get(api)
    for index, item in enumerate(answer.get(field) or [] if field else []):
        if not isinstance(item, dict):
            raise _malformed(api, f"{field}[{index}] is {_kind(item)}, not an object")
        _check(api, item, _ITEM, f"{field}[{index}].")
    return answer


def _check(api: str, data: dict[str, Any], fields: dict[str, tuple[type | tuple[type, ...], bool]], where: str) -> None:
    for name, (kind, required) in fields.items():
        value = data.get(name)
        if value is None and not required:
            continue
        if isinstance(value, bool) or not isinstance(value, kind):
            raise _malformed(api, f"{where}{name} is {_kind(value)}, not {_kind_name(kind)}")
        empty = value == "" if isinstance(value, str) else isinstance(value, (int, float)) and value <= 0
        if required and empty:
            raise _malformed(api, f"{where}{name} is {'empty' if isinstance(value, str) else value}")


def _malformed(api: str, what: str) -> MalformedAnswer:
    return MalformedAnswer(f"WeChat API {api} answered something other than its documented answer ({what}): "
                           "check `api_base` and any proxy in between")  # fmt: skip


def _kind(value: object) -> str:
    if value is None:
        return "missing"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)  # fmt: skip


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return {str: "a string", int: "an integer", list: "a list", _NUMBER: "a number"}.get(kind, str(kind))
