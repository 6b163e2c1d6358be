"""Structured logging writes to the standard error in force when a record is emitted."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from service.logging import configure_logging


def test_records_follow_a_swapped_stderr_and_never_hit_a_closed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        monkeypatch.setattr(sys, "stderr", first)
        configure_logging(level="INFO", fmt="json")
        logging.getLogger("catchall.test").info("to the first")
        first.close()  # as a test runner closes the stream it captured a command's output in
        monkeypatch.setattr(sys, "stderr", second)
        logging.getLogger("alembic.runtime.migration").info("to the second")
    finally:
        root.handlers[:], root.level = saved_handlers, saved_level
    written = second.getvalue()
    assert '"event": "to the second"' in written
    assert '"logger"' not in written or "alembic" in written
    assert "Logging error" not in written
    assert "to the first" not in written
