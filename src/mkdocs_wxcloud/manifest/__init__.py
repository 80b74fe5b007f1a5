"""The manifest (which file went where) and everything that keeps it safe on disk.

:mod:`.model` is the YAML format, :mod:`.store` one run's view of it (journal, lock, merge),
:mod:`.atomic` the write that never leaves a torn file, :mod:`.hashing` the content hashes cached
against file times. Imports only :mod:`mkdocs_wxcloud.errors`.
"""
