"""HTTPS to the API host: the certificate is verified against the CA bundle the environment names
(``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's), and a refused one is a one-line error
that names the host and leaks no secret, never a retry loop or a request sent anyway."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import png, wx_client
from tls import TlsFront

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.wechat.errors import NetworkError


def _upload(api_base: str, image: Path) -> str:
    client = wx_client(api_base=api_base, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET, max_retries=2)
    try:
        return client.upload("tls/a.png", image)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # the machine's own may be set
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "a.png"
    path.write_bytes(png(7))
    return path


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_certificate_from_the_named_ca_bundle_is_trusted(tmp_path: Path, emulator: Emulator, image: Path,
                                                           monkeypatch: pytest.MonkeyPatch, variable: str) -> None:  # fmt: skip
    with TlsFront(emulator.base_url, tmp_path) as front:
        monkeypatch.setenv(variable, str(front.ca_file))
        assert _upload(front.base_url, image).startswith("cloud://")
    assert emulator.request_count("/cgi-bin/stable_token") == 1


def test_an_unknown_ca_is_refused_in_one_line_without_a_request(
    tmp_path: Path, emulator: Emulator, image: Path
) -> None:
    with TlsFront(emulator.base_url, tmp_path) as front, pytest.raises(NetworkError) as refused:
        _upload(front.base_url, image)
    message = str(refused.value)
    assert "TLS failure with localhost" in message and "certificate" in message.lower()
    assert "\n" not in message and DEFAULT_SECRET not in message
    assert emulator.request_count() == 0  # nothing went through, not even the token request


def test_a_certificate_for_another_host_is_refused(tmp_path: Path, emulator: Emulator, image: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    with (
        TlsFront(emulator.base_url, tmp_path, names=("api.weixin.qq.com",)) as front,
        pytest.raises(NetworkError) as refused,
    ):
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(front.ca_file))
        _upload(front.base_url, image)
    assert "TLS failure with localhost" in str(refused.value)
    assert emulator.request_count() == 0
