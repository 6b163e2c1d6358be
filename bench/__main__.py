"""Run one benchmark (`python -m bench NAME [ARGS]`) or all of them (`python -m bench all`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def _names() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    """Dispatch to ``bench.<name>.main``; ``all`` runs every benchmark with its defaults."""
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: python -m bench {{all,{','.join(_names())}}} [ARGS]")  # noqa: T201
        return 0
    names = _names() if argv[0] == "all" else [argv[0]]
    status = 0
    for name in names:
        if name not in _names():
            print(f"unknown benchmark {name!r}; known: {', '.join(_names())}", file=sys.stderr)  # noqa: T201
            return 2
        module = importlib.import_module(f"bench.{name}")
        status |= int(module.main(argv[1:] if argv[0] != "all" else []))
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
