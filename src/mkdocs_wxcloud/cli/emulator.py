"""``mkdocs-wxcloud emulator``: run the bundled stand-in of the WeChat API in the foreground."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..emulator import (
    DEFAULT_APPID,
    DEFAULT_ENV,
    DEFAULT_SECRET,
    FAULT_KINDS,
    FILEID_ECHOES,
    OPENAPI_INACTIVE,
    OPENAPI_UNLISTED,
    serve,
)
from .common import log, setup_logging


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (IPv4, IPv6 or a name); anything but loopback warns: the emulator has no security.",
)
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port, shown at startup).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep uploaded files here across restarts (default: in memory).",
)
@click.option("--appid", default=DEFAULT_APPID, show_default=True, help="The AppID it accepts.")
@click.option(
    "--secret",
    default=DEFAULT_SECRET,
    envvar="WXCLOUD_EMULATOR_SECRET",
    help=f"The AppSecret it accepts (default: the public demo secret {DEFAULT_SECRET}).",
)
@click.option(
    "--env",
    "envs",
    multiple=True,
    default=[DEFAULT_ENV],
    show_default=True,
    help="Cloud environment ids it knows (repeatable).",
)
@click.option("--latency", type=float, default=0.0, show_default=True, help="Seconds to wait before each answer.")
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests that get an injected fault.",
)
@click.option(
    "--faults",
    default="busy,quota,http502,drop",
    show_default=True,
    help=f"Comma-separated fault kinds to draw from (each applies where it can happen): {', '.join(FAULT_KINDS)}.",
)
@click.option("--seed", type=int, default=None, help="Seed of the fault draws, for reproducible runs.")
@click.option(
    "--private", is_flag=True, help="Private storage: links carry sign=/t= and expire; the unsigned URL is refused."
)
@click.option(
    "--sign-public-links",
    is_flag=True,
    help="Public storage answers signed links (sign=/t=, t the signing time) that never expire; the unsigned URL "
    "serves the object too.",
)
@click.option(
    "--infer-content-type",
    is_flag=True,
    help="Serve an object uploaded without the Content-Type form field with its extension's type "
    "(default: application/octet-stream, as stored).",
)
@click.option("--cors", is_flag=True, help="Downloads carry Access-Control-Allow-Origin: *.")
@click.option(
    "--fileid-echo",
    type=click.Choice(FILEID_ECHOES),
    default="exact",
    show_default=True,
    help="How batch answers echo a non-ASCII fileid: byte for byte, percent-encoded, or NFD-normalized.",
)
@click.option(
    "--open-api",
    is_flag=True,
    help="Cloud Hosting's open API service: /tcb/ calls need no token; API answers carry x-openapi-seqid.",
)
@click.option(
    "--openapi-whitelist",
    "openapi_whitelist",
    multiple=True,
    metavar="PATH",
    help="With --open-api: a path of 微信令牌权限配置, e.g. /tcb/uploadfile (repeatable; default: every path).",
)
@click.option(
    "--openapi-unlisted",
    type=click.Choice(OPENAPI_UNLISTED),
    default="85107",
    show_default=True,
    help="With --open-api: the answer to a path not in the whitelist, errcode 85107 or a bare HTTP 502 "
    "without x-openapi-seqid.",
)
@click.option(
    "--openapi-inactive",
    type=click.Choice([str(code) for code in OPENAPI_INACTIVE]),
    default=None,
    help="With --open-api: the service is off or this version predates it; token-less calls answer this errcode.",
)
@click.option(
    "--openapi-not-ready",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    metavar="N",
    help="With --open-api: the first N token-less calls answer 85113 (token not ready on a first deployment).",
)
@click.option("--verbose", is_flag=True, help="Log every request.")
def emulator(host: str, port: int, data_dir: Path | None, appid: str, secret: str, envs: tuple[str, ...],
             latency: float, fault_rate: float, faults: str, seed: int | None, private: bool, sign_public_links: bool,
             infer_content_type: bool, cors: bool, fileid_echo: str, open_api: bool,
             openapi_whitelist: tuple[str, ...], openapi_unlisted: str, openapi_inactive: str | None,
             openapi_not_ready: int, verbose: bool) -> None:  # fmt: skip
    """Run a local stand-in of the WeChat cloud storage API (and its COS upload host).

    Request bodies are limited to 1 MiB for the JSON APIs (HTTP 413 above; the biggest real body,
    a 50-file batch, is far smaller) and to 5 GB for a COS upload (400 EntityTooLarge, as COS).
    Malformed requests get HTTP 400.
    """
    setup_logging(verbose=False, quiet=False)
    try:
        serve(host, port, str(data_dir) if data_dir else None, appid=appid, secret=secret, envs=tuple(envs),
              latency=latency, fault_rate=fault_rate, faults=tuple(f.strip() for f in faults.split(",") if f.strip()),
              seed=seed, private=private, sign_public_links=sign_public_links, infer_content_type=infer_content_type,
              cors=cors, fileid_echo=fileid_echo, open_api=open_api, openapi_whitelist=openapi_whitelist or None,
              openapi_unlisted=openapi_unlisted, openapi_inactive=int(openapi_inactive) if openapi_inactive else None,
              openapi_not_ready=openapi_not_ready, verbose=verbose)  # fmt: skip
    except (OSError, ValueError) as error:
        where = f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"
        log.error(f"cannot run the emulator on {where}: {getattr(error, 'strerror', None) or error}")
        sys.exit(2)
