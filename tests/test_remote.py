"""Importing remote files: the allow-list, a download that a hostile URL cannot turn against the
build machine, what the bytes really are, and the on-disk cache.

The image hosts are real HTTP(S) servers on loopback (``imagehosts.py``); their names
(``cdn.jsdelivr.net``…) reach them through a test resolver, and their certificates come from a
test CA, so TLS is verified against the name exactly as in production. Loopback is a private
address, so those tests set ``allow_private``; the tests of refusal leave it off.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path
from typing import Iterator

import pytest
import trustme
from conftest import png
from imagehosts import ImageHost, drip, endless, file, redirect, resolver, stall, status

from mkdocs_wxcloud.errors import ConfigError
from mkdocs_wxcloud.remote import (
    MAX_BYTES,
    ImportProblem,
    Policy,
    RemoteCache,
    extension_for,
    fetch,
    is_html,
    parse_hosts,
    sniff,
    unreliable,
)
from mkdocs_wxcloud.remote.addresses import check_peer, refusal

PNG = png(3)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(200) + b"\xff\xd9"
LOGIN_PAGE = b'<!DOCTYPE html><html><body><form><input type="password" name="pw"></form></body></html>'


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(autouse=True)
def _no_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)


def policy(hosts: list[str], names: dict[str, ImageHost], ca_file: str, **options: object) -> Policy:
    """Loopback hosts under their public names: ``allow_private`` because loopback is private."""
    return Policy(parse_hosts(hosts), allow_private=True, ca_bundle=ca_file, resolver=resolver(names), **options)  # type: ignore[arg-type]


def problem(url: str, chosen: Policy, folder: Path | None = None) -> str:
    with pytest.raises(ImportProblem) as raised:
        fetch(url, chosen, folder=folder)
    message = str(raised.value)
    assert "\n" not in message
    return message


@pytest.fixture
def jsdelivr(ca: trustme.CA) -> Iterator[ImageHost]:
    routes = {
        "/gh/someone/docs@main/logo.png": file(PNG, "image/png"),
        "/gh/someone/docs@main/moved.png": redirect("/gh/someone/docs@main/logo.png", 301),
        "/gh/someone/docs@main/away.png": redirect("https://evil.example/steal.png"),
        "/gh/someone/docs@main/plain.png": redirect("http://cdn.jsdelivr.net/gh/someone/docs@main/logo.png"),
        "/gh/someone/docs@main/loop.png": redirect("/gh/someone/docs@main/loop.png"),
        "/gh/someone/docs@main/photo": file(JPEG),
        "/gh/someone/docs@main/page.png": file(b"<html><head><title>Hi</title></head></html>", "image/png"),
        "/gh/someone/docs@main/zipped.png": file(PNG, "image/png", **{"Content-Encoding": "gzip"}),
    }
    with ImageHost(routes, ca=ca, names=("cdn.jsdelivr.net",)) as host:
        yield host


# --- the allow-list -------------------------------------------------------------------------


def test_an_exact_host_allows_https_on_443_only() -> None:
    hosts = parse_hosts(["CDN.jsdelivr.net."])
    assert hosts.allows("https://cdn.jsdelivr.net/gh/a/b.png")
    assert hosts.allows("https://cdn.JSDELIVR.net:443/gh/a/b.png")
    assert not hosts.allows("http://cdn.jsdelivr.net/gh/a/b.png")
    assert not hosts.allows("https://cdn.jsdelivr.net:8443/gh/a/b.png")
    assert not hosts.allows("https://fastly.jsdelivr.net/gh/a/b.png")
    assert not hosts.allows("https://cdn.jsdelivr.net.evil.example/a.png")


def test_a_wildcard_allows_subdomains_but_not_the_apex() -> None:
    hosts = parse_hosts(["*.sinaimg.cn"])
    assert hosts.allows("https://wx1.sinaimg.cn/large/a.jpg")
    assert hosts.allows("https://a.b.sinaimg.cn/a.jpg")
    assert not hosts.allows("https://sinaimg.cn/a.jpg")
    assert not hosts.allows("https://evilsinaimg.cn/a.jpg")
    assert not hosts.allows("http://wx1.sinaimg.cn/a.jpg")


def test_an_origin_allows_exactly_its_scheme_host_and_port() -> None:
    hosts = parse_hosts(["http://images.example.com:8080", "https://[::1]:8443"])
    assert hosts.allows("http://images.example.com:8080/a.png")
    assert not hosts.allows("http://images.example.com/a.png")
    assert not hosts.allows("https://images.example.com:8080/a.png")
    assert hosts.allows("https://[::1]:8443/a.png")
    assert not parse_hosts(None) and not parse_hosts([]).allows("https://cdn.jsdelivr.net/a.png")


def test_hosts_compare_in_their_idna_form() -> None:
    hosts = parse_hosts(["Bücher.example"])
    assert hosts.allows("https://xn--bcher-kva.example/a.png")
    assert hosts.allows("https://BÜCHER.example/a.png")


def test_a_url_with_credentials_is_never_allowed() -> None:
    hosts = parse_hosts(["cdn.jsdelivr.net"])
    assert not hosts.allows("https://user:secret@cdn.jsdelivr.net/a.png")
    assert not hosts.allows("https://user@cdn.jsdelivr.net/a.png")
    with pytest.raises(ImportProblem) as raised:
        fetch("https://user:hunter22@cdn.jsdelivr.net/a.png", Policy(hosts))
    assert str(raised.value) == (
        "cannot import https://cdn.jsdelivr.net/a.png: is not an http(s) URL, or carries a user name or password: refused"
    )


@pytest.mark.parametrize(
    "entry",
    ["cdn.example.com/images", "*.com", "*.", "example.com:8080", "ftp://example.com", "https://example.com/a",
     "https://*.example.com", "https://u:p@example.com", "", "exa mple.com", 7, "-bad-.com", "*.10.0.0.1"],
)  # fmt: skip
def test_a_bad_entry_is_one_line_naming_it_and_the_accepted_forms(entry: object) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_hosts(["cdn.jsdelivr.net", entry])
    message = str(raised.value)
    assert message.startswith(f"option `import_hosts`: {entry!r} is not")
    assert "cdn.example.com" in message and "*.example.com" in message and "https://host:port" in message


def test_import_hosts_must_be_a_list() -> None:
    with pytest.raises(ConfigError, match="option `import_hosts` must be a list"):
        parse_hosts({"cdn.jsdelivr.net": True})


# --- what the bytes are --------------------------------------------------------------------

SAMPLES = {
    ".png": PNG,
    ".jpg": JPEG,
    ".gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    ".webp": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    ".avif": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
    ".bmp": b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00" + bytes(40),
    ".ico": b"\x00\x00\x01\x00\x01\x00\x10\x10" + bytes(20),
    ".svg": b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- licence: <html> -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    b'"x.dtd" [<!ENTITY a "b">]>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    ".mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",
    ".m4v": b"\x00\x00\x00\x18ftypM4V \x00\x00\x00\x01M4V mp42",
    ".mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
    ".webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm",
    ".ogg": b"OggS\x00\x02" + bytes(22) + b"\x01vorbis",
    ".ogv": b"OggS\x00\x02" + bytes(22) + b"\x80theora",
    ".mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    ".wav": b"RIFF\x24\x00\x00\x00WAVEfmt ",
    ".flac": b"fLaC\x00\x00\x00\x22",
    ".pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
}


@pytest.mark.parametrize("extension", sorted(SAMPLES))
def test_formats_are_known_by_their_bytes(extension: str) -> None:
    found = sniff(SAMPLES[extension])
    assert found is not None and found.extension == extension and extension_for(SAMPLES[extension]) == extension
    assert found.kind in ("image", "video", "audio", "document")


def test_mpeg_audio_frames_without_a_tag_are_mp3() -> None:
    assert extension_for(b"\xff\xfb\x90\x64" + bytes(100)) == ".mp3"
    assert extension_for(b"\xff\xf1\x50\x80" + bytes(100)) == ".aac"


@pytest.mark.parametrize(
    "page",
    [LOGIN_PAGE, b"\n  <html lang=zh><head>", b"<HEAD><title>403</title>", b"<?xml version='1.0'?><html xmlns='x'>",
     b"<!-- nginx --><body>Forbidden</body>", b"\xef\xbb\xbf<!doctype HTML>", b"<p>hi</p>",
     "<html><body>\u56fe\u7247</body></html>".encode("utf-16")],
)  # fmt: skip
def test_web_pages_are_recognised_and_are_no_format(page: bytes) -> None:
    assert is_html(page) and sniff(page) is None


@pytest.mark.parametrize(
    "data",
    [b"<html><body><svg xmlns='http://www.w3.org/2000/svg'/></body></html>", b"just text <svg>", b"<svgx/>", b"<SVG/>",
     b"BM is a car", b"RIFF\x00\x00\x00\x00AVI ", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", b""],
)  # fmt: skip
def test_look_alikes_are_not_taken_for_an_image(data: bytes) -> None:
    assert sniff(data) is None


def test_an_svg_with_a_prefix_and_an_image_are_not_web_pages() -> None:
    assert sniff(b"<svg:svg xmlns:svg='http://www.w3.org/2000/svg'/>").extension == ".svg"  # type: ignore[union-attr]
    assert not is_html(PNG) and not is_html(SAMPLES[".svg"])


# --- hosts that fail in mainland China ----------------------------------------------------


@pytest.mark.parametrize(
    "url, word",
    [("https://cdn.jsdelivr.net/gh/a/b@main/x.png", "ICP"), ("https://fastly.jsdelivr.net/npm/x/a.png", "ICP"),
     ("https://raw.githubusercontent.com/a/b/main/x.png", "GitHub"), ("https://gitee.com/a/b/raw/master/x.png", "Gitee"),
     ("https://sm.ms/image/x", "sm.ms"), ("https://i.loli.net/2020/01/01/x.png", "sm.ms"),
     ("https://wx1.sinaimg.cn/large/x.jpg", "403"), ("https://i.imgur.com/x.png", "Imgur")],
)  # fmt: skip
def test_unreliable_hosts_say_why(url: str, word: str) -> None:
    assert word in (unreliable(url) or "")


@pytest.mark.parametrize(
    "url", ["https://gitee.com/a/b/blob/master/x.png", "https://gitee.com/raw", "https://example.com/raw/a/b/c",
            "https://jsdelivr.net.example/x.png", "not a url", "https://sinaimg.cn.example/x.jpg"],
)  # fmt: skip
def test_other_hosts_are_not_called_unreliable(url: str) -> None:
    assert unreliable(url) is None


# --- addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address, word",
    [("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.5", "private"), ("192.168.1.1", "private"),
     ("172.16.0.1", "private"), ("169.254.169.254", "link-local"), ("fe80::1%eth0", "link-local"),
     ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
     ("ff0e::1", "multicast"), ("240.0.0.1", "reserved"), ("100.64.0.1", "non-public"), ("fd00::1", "private"),
     ("::ffff:10.0.0.5", "private"), ("::ffff:127.0.0.1", "loopback"), ("2002:a00:5::1", "private"),
     ("64:ff9b::a00:5", "private"), ("::ffff:169.254.169.254", "link-local")],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str, word: str) -> None:
    assert refusal(address) == f"{'an' if word[0] in 'aeiou' else 'a'} {word} address"


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(address) is None


def test_the_connected_address_is_checked_not_the_resolved_one() -> None:
    """Against DNS rebinding: the check reads the socket's peer, whatever a resolver said before."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        with socket.create_connection(server.getsockname()) as client:
            assert (
                check_peer(client, "127.0.0.1", allow_private=False)
                == "resolves to a loopback address (127.0.0.1): refused"
            )
            assert check_peer(client, "127.0.0.1", allow_private=True) is None
            assert check_peer(client, "93.184.216.34", allow_private=True) == (
                "connected to 127.0.0.1, not the checked address 93.184.216.34"
            )  # fmt: skip


# --- downloads ----------------------------------------------------------------------------


def test_a_png_from_a_jsdelivr_like_host(jsdelivr: ImageHost, ca_file: str, tmp_path: Path) -> None:
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    got = fetch("https://cdn.jsdelivr.net/gh/someone/docs@main/logo.png#top", chosen, folder=tmp_path)
    assert got.path.read_bytes() == PNG and got.path.parent == tmp_path
    assert got.sha256 == hashlib.sha256(PNG).hexdigest() and got.size == len(PNG)
    assert got.sniffed is not None and (got.sniffed.extension, got.sniffed.kind) == (".png", "image")
    assert got.content_type == "image/png"
    assert got.url == got.final_url == "https://cdn.jsdelivr.net/gh/someone/docs@main/logo.png"
    (seen,) = jsdelivr.seen
    assert seen.path == "/gh/someone/docs@main/logo.png"
    assert seen.headers["Host"] == "cdn.jsdelivr.net" and seen.headers["Accept-Encoding"] == "identity"
    assert not {"Cookie", "Authorization", "Referer", "Proxy-Authorization"} & set(seen.headers)


def test_no_proxy_and_no_netrc_are_used(jsdelivr: ImageHost, ca_file: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Through a proxy the address connected to could not be checked; ~/.netrc would add credentials."""
    (tmp_path / ".netrc").write_text("machine cdn.jsdelivr.net login someone password hunter22\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    with ImageHost({}) as proxy:
        for variable in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(variable, f"http://user:pw@127.0.0.1:{proxy.port}")
        chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
        fetch("https://cdn.jsdelivr.net/gh/someone/docs@main/logo.png", chosen, folder=tmp_path).path.unlink()
    assert proxy.seen == [] and len(jsdelivr.seen) == 1
    assert not {"Authorization", "Proxy-Authorization"} & set(jsdelivr.seen[0].headers)


def test_redirects_within_listed_hosts_are_followed(jsdelivr: ImageHost, ca_file: str, tmp_path: Path) -> None:
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    got = fetch("https://cdn.jsdelivr.net/gh/someone/docs@main/moved.png", chosen, folder=tmp_path)
    assert got.final_url.endswith("/logo.png") and got.path.read_bytes() == PNG
    assert [s.path for s in jsdelivr.seen] == ["/gh/someone/docs@main/moved.png", "/gh/someone/docs@main/logo.png"]


def test_a_jpeg_served_as_octet_stream_is_a_jpeg(jsdelivr: ImageHost, ca_file: str, tmp_path: Path) -> None:
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    got = fetch("https://cdn.jsdelivr.net/gh/someone/docs@main/photo", chosen, folder=tmp_path)
    assert got.content_type == "application/octet-stream" and got.sniffed and got.sniffed.extension == ".jpg"


def test_an_extensionless_wx_fmt_url_gets_its_extension_from_the_bytes(ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:  # fmt: skip
    with ImageHost({"/mmbiz_png/AbC/0": file(PNG)}, ca=ca, names=("mmbiz.qpic.cn",)) as qpic:
        chosen = policy(["mmbiz.qpic.cn"], {"mmbiz.qpic.cn": qpic}, ca_file)
        got = fetch("https://mmbiz.qpic.cn/mmbiz_png/AbC/0?wx_fmt=png&from=appmsg", chosen, folder=tmp_path)
    assert got.sniffed and got.sniffed.extension == ".png" and extension_for(got.path.read_bytes()) == ".png"
    assert qpic.seen[0].path == "/mmbiz_png/AbC/0?wx_fmt=png&from=appmsg"


def test_a_redirect_to_a_login_page_is_named_so(ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    routes = {"/someone/docs/raw/master/a.png": redirect("/login"), "/login": file(LOGIN_PAGE, "text/html")}
    with ImageHost(routes, ca=ca, names=("gitee.com",)) as gitee:
        message = problem("https://gitee.com/someone/docs/raw/master/a.png", policy(["gitee.com"], {"gitee.com": gitee}, ca_file), tmp_path)  # fmt: skip
    assert message == (
        "cannot import https://gitee.com/someone/docs/raw/master/a.png: "
        "gitee.com answered a login page: the image is no longer public there"
    )
    assert list(tmp_path.iterdir()) == []  # the page was not left behind


def test_a_web_page_served_as_an_image_is_not_an_image(jsdelivr: ImageHost, ca_file: str) -> None:
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    assert problem("https://cdn.jsdelivr.net/gh/someone/docs@main/page.png", chosen).endswith(
        "cdn.jsdelivr.net answered a web page, not the image: the host refuses hotlinking or the image moved"
    )


def test_a_refused_hotlink_is_named_so(ca: trustme.CA, ca_file: str) -> None:
    with ImageHost({"/large/a.jpg": status(403)}, ca=ca, names=("wx1.sinaimg.cn",)) as sina:
        chosen = policy(["*.sinaimg.cn"], {"wx1.sinaimg.cn": sina}, ca_file)
        message = problem("https://wx1.sinaimg.cn/large/a.jpg", chosen)
    assert message.endswith(
        "wx1.sinaimg.cn answered 403 Forbidden: the host refuses hotlinking, or the image is not public"
    )


def test_a_redirect_to_an_unlisted_host_names_both(jsdelivr: ImageHost, ca_file: str) -> None:
    calls: list[str] = []
    chosen = Policy(parse_hosts(["cdn.jsdelivr.net"]), allow_private=True, ca_bundle=ca_file,
                    resolver=resolver({"cdn.jsdelivr.net": jsdelivr}, calls))  # fmt: skip
    message = problem("https://cdn.jsdelivr.net/gh/someone/docs@main/away.png", chosen)
    assert message.endswith("cdn.jsdelivr.net redirected to evil.example, which is not in `import_hosts`")
    assert calls == ["cdn.jsdelivr.net"]  # evil.example was never even looked up


def test_a_redirect_to_plain_http_is_refused(jsdelivr: ImageHost, ca_file: str) -> None:
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    assert problem("https://cdn.jsdelivr.net/gh/someone/docs@main/plain.png", chosen).endswith(
        "cdn.jsdelivr.net redirected to cdn.jsdelivr.net, which is not allowed over plain http: "
        "list `http://cdn.jsdelivr.net` in `import_hosts` to allow it"
    )


def test_redirects_stop_after_five(jsdelivr: ImageHost, ca_file: str) -> None:
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    assert problem("https://cdn.jsdelivr.net/gh/someone/docs@main/loop.png", chosen).endswith(
        "cdn.jsdelivr.net redirected more than 5 times"
    )
    assert len(jsdelivr.seen) == 6


def test_compressed_answers_are_refused(jsdelivr: ImageHost, ca_file: str) -> None:
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    assert "sent compressed data (gzip)" in problem("https://cdn.jsdelivr.net/gh/someone/docs@main/zipped.png", chosen)


def test_a_certificate_for_another_name_is_refused(jsdelivr: ImageHost, ca_file: str) -> None:
    """The name in the URL is what TLS verifies, though the connection goes to an address."""
    chosen = policy(["cdn.jsdelivr.net.evil.example"], {"cdn.jsdelivr.net.evil.example": jsdelivr}, ca_file)
    message = problem("https://cdn.jsdelivr.net.evil.example/gh/someone/docs@main/logo.png", chosen)
    assert "cdn.jsdelivr.net.evil.example presented a certificate that could not be verified" in message
    assert jsdelivr.seen == []


def test_an_unknown_ca_is_refused(jsdelivr: ImageHost) -> None:
    chosen = Policy(parse_hosts(["cdn.jsdelivr.net"]), allow_private=True, resolver=resolver({"cdn.jsdelivr.net": jsdelivr}))  # fmt: skip
    assert "certificate that could not be verified" in problem("https://cdn.jsdelivr.net/gh/someone/docs@main/logo.png", chosen)  # fmt: skip
    assert jsdelivr.seen == []


def test_a_200_mb_answer_is_stopped_at_the_cap_while_reading(tmp_path: Path) -> None:
    with ImageHost({"/big.png": endless(200 << 20)}) as host:
        origin = f"http://127.0.0.1:{host.port}"
        chosen = Policy(parse_hosts([origin]), allow_private=True, max_bytes=1 << 20)
        message = problem(f"{origin}/big.png", chosen, tmp_path)
        assert host.finished.wait(10)
    assert message.endswith("127.0.0.1 sent more than 1 MB")
    assert host.sent["/big.png"] < 40 << 20  # the cap plus what the sockets' buffers held, not 200 MB
    assert list(tmp_path.iterdir()) == []


def test_an_announced_200_mb_is_refused_before_reading(tmp_path: Path) -> None:
    with ImageHost({"/big.png": endless(200 << 20, announce=True)}) as host:
        origin = f"http://127.0.0.1:{host.port}"
        message = problem(f"{origin}/big.png", Policy(parse_hosts([origin]), allow_private=True), tmp_path)
        assert host.finished.wait(10)
    assert MAX_BYTES == 50 << 20 and message.endswith("127.0.0.1 sent more than 50 MB")
    assert host.sent["/big.png"] < 40 << 20


@pytest.mark.parametrize("route", [stall(), stall(headers=False), drip()], ids=["body", "headers", "drip"])
def test_a_stalling_host_hits_the_deadline(route: object, tmp_path: Path) -> None:
    """One deadline for the whole download: a byte now and then does not keep it alive."""
    with ImageHost({"/slow.png": route}) as host:  # type: ignore[dict-item]
        origin = f"http://127.0.0.1:{host.port}"
        chosen = Policy(parse_hosts([origin]), allow_private=True, deadline=0.4)
        assert problem(f"{origin}/slow.png", chosen, tmp_path).endswith("127.0.0.1 did not answer within 0.4 s")
    assert list(tmp_path.iterdir()) == []


def test_loopback_is_refused_without_allow_private() -> None:
    with ImageHost({"/a.png": file(PNG)}) as host:
        origin = f"http://localhost:{host.port}"
        message = problem(f"{origin}/a.png", Policy(parse_hosts([origin])))
        assert host.seen == []
        assert fetch(f"{origin}/a.png", Policy(parse_hosts([origin]), allow_private=True)).size == len(PNG)
    assert re.search(r"localhost resolves to a loopback address \((127\.0\.0\.1|::1)\): refused$", message)


def test_a_name_resolving_to_a_private_address_is_refused(ca_file: str) -> None:
    def private(name: str, port: int) -> list[tuple[str, int]]:
        return [("10.0.0.5", port), ("::ffff:192.168.0.1", port)]

    chosen = Policy(parse_hosts(["cdn.jsdelivr.net"]), ca_bundle=ca_file, resolver=private)
    assert problem("https://cdn.jsdelivr.net/a.png", chosen).endswith(
        "cdn.jsdelivr.net resolves to a private address (10.0.0.5): refused"
    )


def test_the_name_is_resolved_once_per_hop_and_the_checked_address_is_used(jsdelivr: ImageHost, ca_file: str) -> None:
    """No second resolution for the connection: a rebinding DNS has nothing to rebind."""
    calls: list[str] = []
    chosen = Policy(parse_hosts(["cdn.jsdelivr.net"]), allow_private=True, ca_bundle=ca_file,
                    resolver=resolver({"cdn.jsdelivr.net": jsdelivr}, calls))  # fmt: skip
    fetch("https://cdn.jsdelivr.net/gh/someone/docs@main/moved.png", chosen).path.unlink()
    assert calls == ["cdn.jsdelivr.net", "cdn.jsdelivr.net"] and len(jsdelivr.seen) == 2


def test_plain_http_needs_an_http_origin() -> None:
    with ImageHost({"/a.png": file(PNG)}) as host:
        url = f"http://localhost:{host.port}/a.png"
        message = problem(url, Policy(parse_hosts(["localhost"]), allow_private=True))
        assert host.seen == []
        got = fetch(url, Policy(parse_hosts([f"http://localhost:{host.port}"]), allow_private=True))
        assert got.path.read_bytes() == PNG
        got.path.unlink()
    assert message.endswith(
        f"localhost is not allowed over plain http: list `http://localhost:{host.port}` in `import_hosts` to allow it"
    )


def test_unlisted_unresolvable_and_closed_hosts(ca_file: str) -> None:
    assert problem("https://i.imgur.com/a.png", Policy(parse_hosts(["cdn.jsdelivr.net"]))).endswith(
        "i.imgur.com is not in `import_hosts`"
    )
    nowhere = policy(["nowhere.example"], {}, ca_file)
    assert problem("https://nowhere.example/a.png", nowhere).endswith("nowhere.example does not resolve: no such host")
    with socket.create_server(("127.0.0.1", 0)) as spare:
        port = spare.getsockname()[1]
    closed = Policy(parse_hosts([f"http://127.0.0.1:{port}"]), allow_private=True)
    assert problem(f"http://127.0.0.1:{port}/a.png", closed).endswith("127.0.0.1 refused the connection")


def test_a_body_shorter_than_announced_is_an_error(tmp_path: Path) -> None:
    def short(handler: object, host: ImageHost) -> None:
        handler.head(200, {"Content-Length": "5000", "Connection": "close"})  # type: ignore[attr-defined]
        handler.wfile.write(PNG)  # type: ignore[attr-defined]
        handler.close_connection = True  # type: ignore[attr-defined]

    with ImageHost({"/a.png": short}) as host:
        origin = f"http://127.0.0.1:{host.port}"
        message = problem(f"{origin}/a.png", Policy(parse_hosts([origin]), allow_private=True), tmp_path)
    assert message.endswith(f"127.0.0.1 broke off after {len(PNG)} bytes")
    assert list(tmp_path.iterdir()) == []


# --- the cache ----------------------------------------------------------------------------


def test_a_warm_cache_makes_no_request(jsdelivr: ImageHost, ca_file: str, tmp_path: Path) -> None:
    cache = RemoteCache(tmp_path / "remote")
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    url = "https://cdn.jsdelivr.net/gh/someone/docs@main/moved.png"
    assert cache.get(url) is None
    first = cache.fetch(url, chosen)
    assert len(jsdelivr.seen) == 2
    again = RemoteCache(tmp_path / "remote").fetch("https://CDN.jsdelivr.net/gh/someone/docs@main/moved.png", chosen)
    assert len(jsdelivr.seen) == 2 and again == first
    assert first.path.read_bytes() == PNG and first.final_url.endswith("/logo.png")
    assert sorted(p.suffix for p in (tmp_path / "remote").iterdir()) == [".bin", ".json"]


def _corrupt_sidecar(sidecar: Path) -> None:
    sidecar.write_text(sidecar.read_text()[:20])


def _foreign_sidecar(sidecar: Path) -> None:
    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "format": "mkdocs-wxcloud/remote-cache/0"}))


def _other_url(sidecar: Path) -> None:
    record = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**record, "url": "https://cdn.jsdelivr.net/other.png"}))


def _torn_bytes(sidecar: Path) -> None:
    body = sidecar.with_suffix(".bin")
    body.write_bytes(body.read_bytes()[:10])


def _swapped_bytes(sidecar: Path) -> None:
    sidecar.with_suffix(".bin").write_bytes(JPEG)


@pytest.mark.parametrize(
    "damage",
    [lambda s: s.unlink(), lambda s: s.with_suffix(".bin").unlink(), _corrupt_sidecar, _foreign_sidecar, _other_url,
     _torn_bytes, _swapped_bytes, lambda s: s.write_text("[1, 2]")],
    ids=["no-sidecar", "no-bytes", "torn-sidecar", "foreign-format", "other-url", "torn-bytes", "swapped", "not-a-dict"],
)  # fmt: skip
def test_a_damaged_entry_is_downloaded_again(damage: object, jsdelivr: ImageHost, ca_file: str, tmp_path: Path) -> None:
    cache = RemoteCache(tmp_path)
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    url = "https://cdn.jsdelivr.net/gh/someone/docs@main/logo.png"
    cache.fetch(url, chosen)
    (sidecar,) = tmp_path.glob("*.json")
    damage(sidecar)  # type: ignore[operator]
    assert cache.get(url) is None
    assert cache.fetch(url, chosen).path.read_bytes() == PNG and len(jsdelivr.seen) == 2
    assert cache.get(url) is not None


def test_a_failed_download_leaves_the_cache_as_it_was(jsdelivr: ImageHost, ca_file: str, tmp_path: Path) -> None:
    cache = RemoteCache(tmp_path)
    chosen = policy(["cdn.jsdelivr.net"], {"cdn.jsdelivr.net": jsdelivr}, ca_file)
    with pytest.raises(ImportProblem):
        cache.fetch("https://cdn.jsdelivr.net/gh/someone/docs@main/page.png", chosen)
    assert list(tmp_path.iterdir()) == []
