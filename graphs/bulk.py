"""Helpers for bulk loads of millions of Python objects (the graph build and its array view)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

__all__ = ["SharedAttrs", "age_tracked_objects", "gc_paused"]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk load creates millions of dicts and lists.

    Every collection the allocations would trigger walks all tracked objects, which at a million nodes
    costs more than the load itself, and the loaded dicts hold no reference cycles to collect. The
    previous state is restored on exit, also on error; nested uses keep the collector off until the
    outermost one ends. On that exit the objects alive are moved to the oldest generation unscanned
    (:func:`age_tracked_objects`).

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
            age_tracked_objects()
            gc.enable()


def age_tracked_objects() -> None:
    """Move every object the cyclic collector tracks to its oldest generation without scanning them.

    A bulk load leaves millions of new, long-lived dicts in the youngest generation: left there, the
    next young collections would walk them all, and their promotion would count towards a full
    collection (one over the whole graph, about 6 s at a million entities). Moved at once, they are
    scanned only by the next full collection that other allocations trigger; cyclic garbage among them
    is still collected then. Done with ``gc.freeze()`` and ``gc.unfreeze()``, so it is skipped when the
    process keeps frozen objects of its own (unfreezing would release them).

    >>> import gc
    >>> made = [[] for _ in range(3)]
    >>> age_tracked_objects()
    >>> any(x is made for x in gc.get_objects(generation=2))
    True
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


_ABSENT = object()


class SharedAttrs(dict[str, Any]):
    """An attribute dict that many nodes or edges hold as one object (every ``has_identifier`` edge
    carries the same ``{"has_identifier": True}``): about 200 bytes saved per holder, millions at scale.

    Reading is a plain dict's. A write that would change it raises ``TypeError`` instead of changing
    every holder at once; a write of a value it already holds passes (so networkx's ``add_edge`` of an
    edge already so marked still works). Writers that mean to change one holder replace its shared
    dict by a private copy first (:func:`graphs.build` does). Copies and pickles are plain dicts.

    >>> d = SharedAttrs(has_identifier=True)
    >>> d.update(has_identifier=True); d["has_identifier"]
    True
    >>> d["ownership"] = 0.5
    Traceback (most recent call last):
    ...
    TypeError: shared attributes {'has_identifier': True} cannot take ownership=0.5: copy them first
    >>> type(d.copy()) is dict
    True
    """

    __slots__ = ()

    def __setitem__(self, key: str, value: Any) -> None:
        held = self.get(key, _ABSENT)
        if held is not value and (type(held) is not type(value) or held != value):
            raise TypeError(f"shared attributes {dict(self)} cannot take {key}={value!r}: copy them first")

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Accepted only when it changes nothing (see the class docstring)."""
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        """The value of ``key``; raises if it would have to be added."""
        if key not in self:
            self[key] = default
        return self[key]

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"shared attributes {dict(self)} cannot change: copy them first")

    __delitem__ = pop = popitem = clear = __ior__ = _refuse

    def copy(self) -> dict[str, Any]:
        """A private (plain, writable) copy."""
        return dict(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))
