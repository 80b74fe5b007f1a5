"""A site's configuration, read by its own host: MkDocs for mkdocs.yml, Zensical for zensical.toml.

Each host reads its file the way a build does: MkDocs' ``load_config`` handles ``!ENV``,
``INHERIT`` and ``!!python/name``, and ``get_files`` applies ``exclude_docs``; Zensical's parser
adds the extensions Zensical always uses (``toc``, ``tables``, ``pymdownx.superfences``) and maps
plugin settings to extensions. A mkdocs.yml that configures ``wxcloud`` as a Markdown extension
rather than a plugin is a Zensical site. The options come from the ``wxcloud`` plugin (MkDocs) or
Markdown extension (Zensical) entry.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import ConfigError
from ..publishing import settings as options
from . import built
from .listing import pages_of
from .site import Site, markdown_pages, new_site

log = logging.getLogger("mkdocs.plugins.wxcloud")
NAME = "wxcloud"  # the entry point name of the plugin and of the Markdown extension
EXTENSION_NAMES = (NAME, "mkdocs_wxcloud.extension")
CONFIG_FILES = ("zensical.toml", "mkdocs.yml", "mkdocs.yaml")  # Zensical's order, when none is named


def find_config(config_file: Path | None) -> Path:
    """The configuration named with ``-f``, or the first of :data:`CONFIG_FILES` here."""
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"{config_file}: no such file: pass the site's mkdocs.yml or zensical.toml with -f")
        return config_file
    found = [Path(name) for name in CONFIG_FILES if Path(name).is_file()]
    if not found:
        raise ConfigError(
            "no zensical.toml or mkdocs.yml here: run in the site's folder, or pass its configuration with -f"
        )
    if found[0].suffix == ".toml" and len(found) > 1 and importlib.util.find_spec("zensical") is None:
        log.info("wxcloud: Zensical is not installed, so %s is read instead of %s", found[1], found[0])
        return found[1]
    return found[0]


def load(config_file: Path | None, overrides: Mapping[str, Any] | None = None) -> Site:
    """The site of ``config_file`` (see :func:`find_config`), read as its host reads it."""
    path = find_config(config_file)
    if path.suffix.lower() == ".toml" or _wxcloud_is_an_extension(path):
        return from_zensical(path, overrides)
    return from_mkdocs(path, overrides)


def from_mkdocs(config_file: Path, overrides: Mapping[str, Any] | None = None) -> Site:
    """Load mkdocs.yml and the wxcloud plugin's options; errors become :class:`ConfigError`."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    try:
        config = load_config(str(config_file))
    except (ConfigurationError, Abort) as error:
        raise ConfigError(f"{config_file}: {error}") from None
    plugin = config.plugins.get(NAME)
    plugin_options: dict[str, Any] = dict(plugin.config) if plugin is not None else {}
    if plugin is None:
        log.info("wxcloud: %s has no `wxcloud` plugin entry: using the default options", config_file)
    settings = options.resolve({**plugin_options, **(overrides or {})}, config_file.resolve().parent)
    listing = pages_of(config, settings.cache_dir)
    return new_site(
        settings, Path(config.docs_dir), listing.documents, list(config.markdown_extensions),
        dict(config.mdx_configs or {}), config_file=config_file, documents=listing.documents,
        stylesheets=listing.stylesheets,
        site_url=config.site_url or None, site_dir=Path(config.site_dir),
        plugins=built.page_changing(config.plugins), optimized_by_theme="material/optimize" in config.plugins,
    )  # fmt: skip


def from_zensical(config_file: Path, overrides: Mapping[str, Any] | None = None) -> Site:
    """Load a Zensical project with Zensical's own parser; the options of the ``wxcloud`` extension."""
    try:
        from zensical.config import parse_config
    except ImportError:
        raise ConfigError(f"{config_file}: reading a Zensical project needs Zensical: pip install zensical") from None
    try:
        config = parse_config(str(config_file))
    except Exception as error:  # noqa: BLE001 - Zensical's ConfigurationError, or what its parsers raise
        raise ConfigError(f"{config_file}: {' '.join(str(error).split()) or type(error).__name__}") from None
    root = config_file.resolve().parent
    docs_dir = (root / str(config.get("docs_dir") or "docs")).resolve()
    extensions = [e for e in config["markdown_extensions"] if e not in EXTENSION_NAMES]
    configs = {k: v for k, v in config["mdx_configs"].items() if k not in EXTENSION_NAMES}
    own = next(
        (config["mdx_configs"].get(n) or {} for n in EXTENSION_NAMES if n in config["markdown_extensions"]), None
    )
    if own is None:
        log.info("wxcloud: %s has no `wxcloud` Markdown extension: using the default options", config_file)
    values = {name: (None if value == "" else value) for name, value in (own or {}).items()}
    settings = options.resolve({**values, **(overrides or {})}, root)
    # Zensical resolves every relative link, raw HTML too, against the page's file: no `documents`.
    site_url, site_dir = config.get("site_url"), root / str(config.get("site_dir") or "site")
    return new_site(settings, docs_dir, markdown_pages([docs_dir], docs_dir), extensions, configs,
                    config_file=config_file, site_url=site_url or None, site_dir=site_dir)  # fmt: skip


class _Tolerant(yaml.SafeLoader):
    """Reads a mkdocs.yml whatever its tags (``!ENV``, ``!!python/name``): only its shape matters here."""


_Tolerant.add_multi_constructor("", lambda loader, suffix, node: None)


def _wxcloud_is_an_extension(path: Path) -> bool:
    """Whether a mkdocs.yml configures ``wxcloud`` as a Markdown extension and not as a plugin."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Tolerant)  # noqa: S506 - a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # MkDocs says what is wrong with it

    def names(entries: object) -> set[str]:
        entries = entries if isinstance(entries, list) else [entries] if isinstance(entries, (str, dict)) else []
        return {k for e in entries for k in ([e] if isinstance(e, str) else e if isinstance(e, dict) else [])}

    if not isinstance(data, dict):
        return False
    return NAME not in names(data.get("plugins")) and bool(
        names(data.get("markdown_extensions")) & set(EXTENSION_NAMES)
    )
