"""The reference collectors' behaviours that mutation testing (tools/mutation.py) found no test for."""

from __future__ import annotations
