"""Run the doctests of the graph modules (pytest's own doctest collection is not configured project-wide)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "graphs.normalize",
    "graphs.build",
    "graphs.node_features",
    "graphs.screening",
    "graphs.resolve",
    "graphs.shipments",
    "graphs.neighbourhood",
    "graphs.snapshot",
    "graphs.index",
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
