"""One run put together: from a reference's docs path to a cloud URL.

:mod:`.settings` resolves options, :mod:`.connection` opens the client (or starts the bundled
emulator), :mod:`.publisher` decides what is current and uploads the rest, :mod:`.linker` classifies
references and words problems, :mod:`.workspace` assembles them. Imports :mod:`..references`,
:mod:`..manifest`, :mod:`..wechat` and :mod:`..errors`; never a host (no MkDocs, no click).
"""
