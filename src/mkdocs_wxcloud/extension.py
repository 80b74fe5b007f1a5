"""The documented import path of the ``wxcloud`` Markdown extension (``extensions=["mkdocs_wxcloud.extension"]``)."""

from .hosts.markdown.extension import WxCloudExtension, makeExtension

__all__ = ["WxCloudExtension", "makeExtension"]
