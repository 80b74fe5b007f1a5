"""Fewer bytes for the same pictures: what to do to an image before it is uploaded.

:mod:`.settings` is what the user asked for and the *profile* each format gets from it (the key of
a stored result), :mod:`.formats` tells an image's format and size from its bytes, :mod:`.engine`
turns the bytes of one image into smaller ones (oxipng, mozjpeg, Pillow, libimagequant), never
larger, :mod:`.metadata` keeps what changes how an image looks and drops the rest (GPS, camera),
and :mod:`.workers` runs the engine in worker processes, since the optimizers hold the interpreter
lock. Pure functions of bytes and settings: imports only :mod:`mkdocs_wxcloud.errors`, and the
image libraries only where they are used (they are the optional ``optimize`` extra).
"""
