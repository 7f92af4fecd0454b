"""Errors that explain themselves in one sentence.

In a notebook, IPython shows an exception through ``_render_traceback_`` when it has one,
so these print their message alone instead of a wall of traceback.
"""
from __future__ import annotations


class FriendlyError(Exception):
    """A bad input the reader can fix; the message says how."""

    def _render_traceback_(self):
        return [f"{type(self).__name__}: {self}"]
