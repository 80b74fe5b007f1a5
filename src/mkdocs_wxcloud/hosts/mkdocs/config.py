"""The plugin's options as an MkDocs config, made from the one schema (:class:`Settings`).

MkDocs checks each option when it loads mkdocs.yml (a bad value is a config error naming it, an
unknown option a config warning); the values reach :func:`~...publishing.settings.resolve` as
written, which applies the ``WXCLOUD_*`` variables and the defaults.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config import base

from ...errors import ConfigError
from ...publishing.settings import Option, Settings


class _Checked(base.BaseConfigOption[Any]):
    """An option of the schema: checked as :func:`resolve` will, left unset when not given."""

    def __init__(self, option: Option[Any]) -> None:
        super().__init__()
        self.option = option

    def run_validation(self, value: object, /) -> object:
        if value is not None:
            try:
                self.option.check(self.option.name, value)
            except ConfigError as error:
                raise base.ValidationError(str(error)) from None
        return value


class WxCloudConfig(base.Config):
    """Every option of :class:`Settings` (``config["name"]``); ``None`` where mkdocs.yml is silent."""

    _schema = tuple((option.name, _Checked(option)) for option in Settings.options())
