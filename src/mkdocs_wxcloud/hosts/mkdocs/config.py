"""The plugin's options as a typed MkDocs config (unknown options become config warnings)."""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c

from ...publishing.settings import AUTH, DEFAULTS, ON_ERROR


class WxCloudConfig(base.Config):
    enabled = c.Type(bool, default=DEFAULTS["enabled"])
    appid = c.Optional(c.Type(str))
    secret = c.Optional(c.Type(str))
    env = c.Optional(c.Type(str))
    api_base = c.Optional(c.Type(str))
    auth = c.Choice(AUTH, default=DEFAULTS["auth"])
    prefix = c.Type(str, default=DEFAULTS["prefix"])
    manifest = c.Type(str, default=DEFAULTS["manifest"])
    cache_dir = c.Type(str, default=DEFAULTS["cache_dir"])
    concurrency = c.Type(int, default=DEFAULTS["concurrency"])
    on_error = c.Choice(ON_ERROR, default=DEFAULTS["on_error"])
    offline = c.Type(bool, default=DEFAULTS["offline"])
    serve_upload = c.Type(bool, default=DEFAULTS["serve_upload"])
    exclude_uploaded = c.Type(bool, default=DEFAULTS["exclude_uploaded"])
    base_url = c.Optional(c.Type(str))
    link_max_age = c.Type(int, default=DEFAULTS["link_max_age"])
    emulator = c.Choice((False, True, "auto"), default=DEFAULTS["emulator"])
    emulator_address = c.Type(str, default=DEFAULTS["emulator_address"])
    emulator_data = c.Type(str, default=DEFAULTS["emulator_data"])
    timeout = c.Type((int, float), default=DEFAULTS["timeout"])
    retries = c.Type(int, default=DEFAULTS["retries"])
    quota_wait = c.Type((int, float), default=DEFAULTS["quota_wait"])
    cloudbase_token_file = c.Type(str, default=DEFAULTS["cloudbase_token_file"])
    optimize = c.Choice((False, "lossless", "lossy"), default=DEFAULTS["optimize"])
    quality = c.Type(int, default=DEFAULTS["quality"])
    png_quality = c.Type(str, default=DEFAULTS["png_quality"])
    max_width = c.Optional(c.Type(int))
    max_height = c.Optional(c.Type(int))
    webp = c.Type(bool, default=DEFAULTS["webp"])
    dimensions = c.Type(bool, default=DEFAULTS["dimensions"])
    max_size = c.Optional(c.Type((int, str)))
    assets = c.ListOfItems(c.Type(str), default=DEFAULTS["assets"])
