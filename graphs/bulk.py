"""Helpers for bulk loads of millions of Python objects (the graph build and its array view)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk load creates millions of dicts and lists.

    Every collection the allocations would trigger walks all tracked objects, which at a million nodes
    costs more than the load itself, and the loaded dicts hold no reference cycles to collect. The
    previous state is restored on exit, also on error; nested uses keep the collector off until the
    outermost one ends.

    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
