"""`catchall screen` (one party against the lists and the graph) and `catchall graph refresh`."""

from __future__ import annotations

import json
import re
from typing import Any

import typer

from service.cli.common import QuietOption, fail, progress, say

__all__ = ["register"]

graph_app = typer.Typer(help="The relationship graph: rebuild its snapshot.", no_args_is_help=True)


def _screen(
    name: str = typer.Argument(..., help="The party's name, in any script."),
    country: str | None = typer.Option(None, "--country", help="ISO 3166-1 alpha-2 country code."),
    address: str | None = typer.Option(None, "--address", help="Address as written."),
    phone: str | None = typer.Option(None, "--phone", help="Phone number as written."),
    email: str | None = typer.Option(None, "--email", help="E-mail address."),
    website: str | None = typer.Option(None, "--website", help="Website or domain."),
    registration_id: str | None = typer.Option(None, "--registration-id", help="Registration or tax id."),
    as_json: bool = typer.Option(False, "--json", help='Print {"matches": [...], "entity": {...}} as JSON.'),
) -> None:
    """Resolve one party against the loaded lists and the graph: matches, entity, nearest listed parties."""
    from graphs.resolve import Party
    from graphs.snapshot import SnapshotError
    from service.graph_store import load_or_build_index
    from service.settings import get_settings

    if not name.strip():
        fail("NAME must not be empty")
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", country):
        fail(f"--country must be a two-letter ISO code (got {country!r})")
    party = Party(
        name=name.strip(),
        country=country.upper() if country else None,
        address=address,
        phone=phone,
        email=email,
        website=website,
        registration_id=registration_id,
    )
    try:
        index = load_or_build_index(get_settings())
    except (SnapshotError, OSError, ValueError) as exc:
        fail(f"cannot load the relationship graph: {exc}")
    result = index.screen(party).as_dict()
    if as_json:
        say(json.dumps(result, ensure_ascii=False, default=str))
        return
    _print_human(result)


def _label(node: dict[str, Any]) -> str:
    label = node.get("label") or node["id"]
    extra = f" [{node['list']}:{node['entry_id']}]" if node.get("kind") == "list_entry" else ""
    listed = " (listed)" if node.get("listed") else ""
    return f"{label}{extra}{listed}"


def _print_human(result: dict[str, Any]) -> None:
    matches = result["matches"]
    say(f"{len(matches)} list match(es)")
    for m in matches:
        say(f"  {m['score']:.2f}  {m['list']}:{m['entry_id']}  {m['matched_name']}  (via {m['via']})")
    e = result["entity"]
    state = "new party" if e["is_new"] else f"resolved by {e['resolved_by']}"
    say(f"entity {e['id']} ({state}): {e.get('label')}")
    hops = e["features"]["hops_to_listed"]
    if e["path_to_listed"]:
        say(
            f"nearest listed party, {int(hops)} hop(s): "
            + " -> ".join(_label(n) for n in e["path_to_listed"])
        )
    else:
        say("no listed party reachable")
    for s in e["shared_identifiers"]:
        others = ", ".join(_label(n) for n in s["entities"])
        say(f"shares {s['kind']} {s['value']} with: {others}")


@graph_app.command("refresh")
def _refresh(quiet: bool = QuietOption) -> None:
    """Rebuild the graph snapshot from the current world and the database."""
    from service.graph_store import rebuild_index
    from service.settings import get_settings

    try:
        with progress("rebuilding the relationship graph", total=None, quiet=quiet):
            index = rebuild_index(get_settings(), keep_answers=True)
    except (OSError, ValueError) as exc:
        fail(f"cannot rebuild the relationship graph: {exc}")
    say(
        f"graph rebuilt: {index.G.number_of_nodes()} nodes, {index.G.number_of_edges()} edges, "
        f"{index.listed_count()} listed"
    )


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the main app."""
    app.command("screen")(_screen)
    app.add_typer(graph_app, name="graph")
