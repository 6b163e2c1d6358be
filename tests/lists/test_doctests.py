"""The examples in the list parsers' docstrings hold."""

from __future__ import annotations

import doctest

import graphs.listfiles


def test_listfiles_doctests() -> None:
    result = doctest.testmod(graphs.listfiles, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 7
    assert result.failed == 0
