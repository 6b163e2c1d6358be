"""Small random-draw helpers shared by the simulator's modules.

Python-level loops (entity creation) draw from a pre-filled buffer of uniforms instead of calling the
generator once per value: same determinism, a fraction of the call overhead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

__all__ = ["DAY", "END", "INVASION", "START", "Uniforms", "day", "slug"]

T = TypeVar("T")

# The world's fixed calendar (days since 1970-01-01): no dependence on "now".
START = int(np.datetime64("2021-01-01", "D").astype(np.int64))
END = int(np.datetime64("2026-10-31", "D").astype(np.int64))
INVASION = int(np.datetime64("2022-02-24", "D").astype(np.int64))
DAY = 1


def day(iso: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return int(np.datetime64(iso, "D").astype(np.int64))


class Uniforms:
    """A stream of U(0, 1) values drawn from ``rng`` in blocks."""

    def __init__(self, rng: np.random.Generator, block: int = 1 << 16) -> None:
        self._rng = rng
        self._block = block
        self._buf = rng.random(block)
        self._pos = 0

    def __call__(self) -> float:
        """The next uniform value."""
        if self._pos >= self._block:
            self._buf = self._rng.random(self._block)
            self._pos = 0
        value = float(self._buf[self._pos])
        self._pos += 1
        return value

    def pick(self, seq: Sequence[T]) -> T:
        """A uniformly chosen element of ``seq``."""
        return seq[int(self() * len(seq))]

    def integer(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""
        return low + int(self() * (high - low + 1))

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self() < p

    def digits(self, n: int) -> str:
        """``n`` random decimal digits."""
        return "".join(str(int(self() * 10)) for _ in range(n))


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (for domains and e-mail local parts)."""
    from anyascii import anyascii

    return "".join(ch for ch in anyascii(text).lower() if ch.isalnum())
