"""One run put together: from a reference's docs path to a cloud URL.

:mod:`.settings` declares every option once, :mod:`.run` is the lifecycle of one run (open, look
up, publish, finish, close), :mod:`.current` the one decision of what is current, :mod:`.ledger`
and :mod:`.uploads` what a run uploads, :mod:`.linker` classifies references and words problems,
:mod:`.reporting` says what happened, :mod:`.imports` makes a file a page shows from an ``import_hosts``
host one more file of the run. Imports :mod:`..references`, :mod:`..manifest`, :mod:`..wechat`,
:mod:`..optimize`, :mod:`..remote` and :mod:`..errors`; never a host (no MkDocs, no click).
"""
