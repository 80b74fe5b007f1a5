"""A TLS front for the emulator, with a certificate from a test CA (``trustme``).

The emulator speaks plain HTTP on loopback; WeChat speaks HTTPS. Tests of certificate handling put
this relay before the emulator: it completes the TLS handshake with its own certificate and pipes
the decrypted bytes to the emulator and back, so the client's HTTPS code runs for real.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from pathlib import Path
from urllib.parse import urlsplit

import trustme
from loopback import Background


class TlsFront(Background):
    """``https://localhost:<port>`` in front of ``upstream``; its CA is written to ``ca_file``."""

    def __init__(self, upstream: str, folder: Path, *, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        ca = trustme.CA()
        self.ca_file = folder / "test-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names).configure_cert(context)
        front = self

        class Relay(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    client = context.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # the client refused our certificate: what the tests look for
                with client, socket.create_connection(front._upstream) as server:
                    threading.Thread(target=_pipe, args=(server, client), daemon=True).start()
                    _pipe(client, server)

        super().__init__(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Relay))

    @property
    def base_url(self) -> str:
        return f"https://localhost:{self.port}"


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass
