"""Identifier nodes and ``has_identifier`` edges share one attribute dict: writers of one holder get a
private copy and leave the others alone; a write that would change every holder at once raises."""

from __future__ import annotations

from datetime import date

import networkx as nx
import pandas as pd
import pytest

from graphs import build
from graphs.bulk import SharedAttrs
from graphs.normalize import _ADDRESS_ABBREVIATIONS, _ADDRESS_COUNTRIES, _FLOOR, _tokens, normalize_address


def _graph() -> nx.DiGraph[str]:
    G = build.new_graph()
    build.add_entities(G, [{"id": e, "kind": "company", "name": e, "country": "HK"} for e in "abc"])
    build.add_identifiers(
        G,
        pd.DataFrame(
            {
                "entity_id": ["a", "b", "c", "a"],
                "kind": "phone",
                "value": ["2345 6789"] * 3 + ["+852 1111 2222"],
            }
        ),
    )
    return G


def test_identifier_edges_and_nodes_share_one_dict() -> None:
    G = _graph()
    phone, other = "I:phone:+85223456789", "I:phone:+85211112222"
    assert G.succ["a"][phone] is G.succ["b"][phone] is G.succ["a"][other]
    assert type(G.succ["a"][phone]) is SharedAttrs
    assert G.nodes[phone] is G.nodes[other]
    assert dict(G.nodes[phone]) == {"kind": "identifier", "id_kind": "phone"}


def test_build_writers_copy_before_changing_one_holder() -> None:
    G = _graph()
    phone, other = "I:phone:+85223456789", "I:phone:+85211112222"
    build.add_relationships(G, [{"src_id": "a", "dst_id": phone, "kind": "directorship"}])
    build.add_trade(G, "b", phone, date(2024, 1, 2))
    assert G.edges["a", phone] == {"has_identifier": True, "directorship": True}
    assert G.pred[phone]["a"] is G.succ["a"][phone]  # still one dict for both directions
    assert G.edges["b", phone] == {
        "has_identifier": True,
        "traded_with": [1, date(2024, 1, 2), date(2024, 1, 2)],
    }
    assert G.edges["c", phone] == {"has_identifier": True}
    assert G.edges["a", other] == {"has_identifier": True}
    assert G.nodes[phone]["first_seen"] == date(2024, 1, 2)
    assert "first_seen" not in G.nodes[other]
    # A second load onto existing edges and nodes changes nothing.
    before = {(u, v): dict(d) for u, v, d in G.edges(data=True)}
    build.add_identifiers(G, pd.DataFrame({"entity_id": ["c"], "kind": ["phone"], "value": ["2345 6789"]}))
    assert {(u, v): dict(d) for u, v, d in G.edges(data=True)} == before


def test_networkx_writes_that_change_nothing_pass_and_others_raise() -> None:
    G = _graph()
    phone = "I:phone:+85223456789"
    G.add_edge("a", phone, has_identifier=True)
    G.add_node(phone, kind="identifier", id_kind=phone.split(":", 2)[1])  # an equal, not the same, string
    with pytest.raises(TypeError, match="copy them first"):
        G.add_edge("a", phone, ownership=0.5)
    with pytest.raises(TypeError, match="copy them first"):
        G.nodes[phone]["listed"] = True
    assert G.edges["b", phone] == {"has_identifier": True}
    copied = G.copy()
    copied.edges["a", phone]["ownership"] = 0.5  # a copy's edges are its own plain dicts
    assert G.edges["a", phone] == {"has_identifier": True}


@pytest.mark.parametrize(
    "address",
    [
        "Room 1318, 13/F, Sunbeam Ctr., 27 Shing Yip St., Kwun Tong, Hong Kong",
        "Flat 2, 5th floor, 1 Main Rd, Hong Kong SAR",
        "Unit 7 Harbour Road Wan Chai",
        "ул. Тверская, д. 7, Москва, Russian Federation",
        "香港 灣仔 港灣道 18號",
        "Ｕｎｉｔ ５, ＦＬ ３, Dubai, United Arab Emirates",
        "12 Park Lane, London, UK",
        "Office F12, Islamic Republic of Iran",
        "ﬂoor 3, 9 Ring Rd, Turkiye",
    ],
)
def test_fast_address_normalisation_equals_the_plain_steps(address: str) -> None:
    tokens = _tokens(_FLOOR.sub(" ", address), _ADDRESS_ABBREVIATIONS)
    for country in _ADDRESS_COUNTRIES:  # longest first, every country name compared
        if len(tokens) > len(country) and tuple(tokens[-len(country) :]) == country:
            tokens = tokens[: -len(country)]
            break
    plain = " ".join(tokens)
    assert normalize_address(address) == (plain if len(plain) >= 5 else None)
