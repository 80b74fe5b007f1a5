"""The WeChat cloud-storage HTTP API, as ``wechat-api.md`` describes it.

:mod:`.client` is what callers use (upload, links, delete); :mod:`.transport` sends one request
(:mod:`.pools` holds the connections, :mod:`.deadline` bounds each answer in time, :mod:`.media`
names the type COS stores), :mod:`.answers` checks every field of an answer for its type,
:mod:`.auth` and :mod:`.tokens` provide credentials, :mod:`.retry` decides what is worth retrying
and :mod:`.errors` turns answers into one-line errors with a hint. Imports only
:mod:`mkdocs_wxcloud.errors`: nothing here knows about sites, manifests or the emulator.
"""
