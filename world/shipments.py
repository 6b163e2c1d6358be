"""Shipments: scenario knobs per row (see :mod:`world.scenarios`), then one vectorised pass that turns
the knobs into the flat columns of :data:`features.columns.SHIPMENT_SCHEMA`.

Items and intermediaries are generated as flat arrays with per-shipment offsets and become Arrow list
columns directly, so a million shipments cost a few seconds of numpy work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from features import reference
from features.columns import SHIPMENT_SCHEMA
from world import vocab
from world.draw import END, INVASION, START
from world.population import Population
from world.scenarios import HONEST, SCHEMES, Knobs, Scenario

__all__ = ["ShipmentBatch", "make_shipments"]

_OBSERVABLE = np.array(["BIS-02", "BIS-07", "BIS-08", "BIS-09", "BIS-12", "BIS-13"], dtype=object)
_ROUTE_HUBS = np.array(["HK", "SG", "AE", "TR", "KZ", "AM", "GE", "RS", "CN", "KG", "UZ"], dtype=object)
_PORTS = np.array(["NL", "DE", "BE", "US", "JP", "KR", "PA", "MY", "GB"], dtype=object)
_EMBARGOED = ("RU", "BY", "IR", "KP", "SY")
_CURRENCY = {
    **dict.fromkeys(("DE", "FR", "NL", "IT", "ES", "AT", "FI", "BE", "IE", "PT"), ("EUR", 0.7)),
    "JP": ("JPY", 0.5),
    "CN": ("CNY", 0.35),
    "GB": ("GBP", 0.5),
    "CH": ("CHF", 0.4),
    "KR": ("KRW", 0.2),
    "TW": ("TWD", 0.15),
    "IN": ("INR", 0.3),
    "SG": ("SGD", 0.2),
}
_CONTROL_CODES = np.array(["3A991", "5A991", "4A994", "7A994", "2B991", "6A993"], dtype=object)
_INCOTERMS = np.array(["FOB", "CIF", "DAP", "DDP", "CPT", "CIP", "CFR", "FAS", "DPU"], dtype=object)
_NA = np.array(None, dtype=object)  # the "missing" fill of object-array np.where
_INCOTERM_W = np.array([0.28, 0.22, 0.2, 0.1, 0.06, 0.05, 0.05, 0.02, 0.02])


@dataclass(frozen=True, slots=True)
class ShipmentBatch:
    """Generated shipments and their ground truth, row-aligned."""

    table: pa.Table
    label: np.ndarray
    scheme: np.ndarray  # object: scheme name or None
    negative_kind: np.ndarray  # object: hard-negative kind or None


def obj(xs: Sequence[object]) -> np.ndarray:
    """A list as a numpy object array (strings and None)."""
    return np.asarray(xs, dtype=object)


class _World:
    """The population as numpy arrays plus role pools."""

    def __init__(self, pop: Population) -> None:
        self.pop = pop
        self.name = obj(pop.name)
        self.latin = obj(pop.latin)
        self.country = obj(pop.country)
        self.address = obj(pop.address)
        self.phone = obj(pop.phone)
        self.email = obj(pop.email)
        self.website = obj(pop.website)
        self.registration = obj(pop.registration_id)
        self.btype = obj(pop.business_type)
        self.sector = obj(pop.sector)
        self.inc = np.asarray(pop.incorporated, dtype=np.int64)
        self.role = obj(pop.role)
        self.gecc = np.array([reference.countries()[c].gecc for c in pop.country])
        self.hub = np.array([reference.countries()[c].transshipment_hub for c in pop.country])
        self.pools = {r: np.flatnonzero(self.role == r) for r in sorted(set(pop.role))}
        tech = np.isin(self.sector, ["electronics", "instruments", "machinery", "aerospace"])
        self.exp_tech = np.flatnonzero((self.role == "exporter") & tech)
        self.exp_all = self.pools["exporter"]
        self.exp_cons = np.flatnonzero((self.role == "exporter") & ~tech)
        self.parent = np.full(len(pop), -1, np.int64)
        for child, par in pop.parent_of.items():
            self.parent[child] = par

    def of(self, role: str) -> np.ndarray:
        return self.pools.get(role, np.zeros(0, np.int64))


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    if len(pool) == 0:
        raise ValueError("empty entity pool: the world is too small for its shipments")
    return pool[rng.integers(0, len(pool), k)]


def _pick_near(rng: np.random.Generator, w: _World, pool: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each row an entity of ``pool`` in the ``wanted`` country (any country when it has none)."""
    out = _pick(rng, pool, len(wanted))
    countries = w.country[pool]
    for cc in np.unique(wanted.astype(str)):
        local = pool[countries == cc]
        rows = np.flatnonzero(wanted == cc)
        if len(local):
            out[rows] = local[rng.integers(0, len(local), len(rows))]
    return out


def _clusters(rng: np.random.Generator, rows: np.ndarray, pool: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Group ``rows`` into runs of ``lo..hi`` shipments that share one party drawn from ``pool``."""
    sizes = rng.integers(lo, hi + 1, len(rows))
    starts = np.cumsum(sizes) - sizes
    cluster = np.searchsorted(starts, np.arange(len(rows)), side="right") - 1
    parties = _pick(rng, pool, int(cluster.max()) + 1 if len(rows) else 0)
    return parties[cluster] if len(rows) else np.zeros(0, np.int64), cluster  # type: ignore[return-value]


def _spike_dates(
    rng: np.random.Generator, k: Knobs, rows: np.ndarray, cluster: np.ndarray, inc: np.ndarray, window: int
) -> None:
    """Dates of a cluster's shipments fall within ``window`` days after a common start."""
    if len(rows) == 0:
        return
    n_cl = int(cluster.max()) + 1
    lo = np.maximum(START, inc + 45)
    first = np.zeros(n_cl, np.int64)
    np.maximum.at(first, cluster, lo)
    span = np.maximum(END - window - first, 1)
    start = first + (rng.random(n_cl) * span).astype(np.int64)
    k.date_lo[rows] = start[cluster]
    k.date_hi[rows] = np.minimum(start[cluster] + window, END)


def _fill_honest(rng: np.random.Generator, w: _World, k: Knobs, sc: Scenario, rows: np.ndarray) -> None:
    m = len(rows)
    if m == 0:
        return
    k.exporter[rows] = _pick(rng, w.exp_all, m)
    name = sc.name
    if name in ("regular", "payer_house", "parent_pays"):
        if name == "parent_pays":
            pool = np.flatnonzero(w.parent >= 0)
        else:
            pool = np.concatenate([w.of("importer"), w.of("research")])
        k.consignee[rows] = _pick(rng, pool, m)
        same = rng.random(m)
        k.eu_is_consignee[rows] = same < 0.45
        other = same > 0.88
        k.end_user[rows[other]] = _pick(rng, w.of("importer"), int(other.sum()))
        if name == "parent_pays":
            k.payer[rows] = w.parent[k.consignee[rows]]
        elif name == "payer_house":
            k.payer[rows] = _pick(rng, w.of("payer_house"), m)
        k.text[rows] = (0.57, 0.14, 0.07, 0.22)
        # Clearance lots, samples and seconds of ordinary goods sell far below list price.
        k.price_lo[rows] = np.where(rng.random(m) < 0.1, 0.06, 0.8)
        k.price_hi[rows] = np.where(k.price_lo[rows] < 0.1, 0.2, 1.25)
    elif name == "hub_distributor":
        k.consignee[rows] = _pick(rng, w.of("hub_distributor"), m)
        k.exporter[rows] = _pick(rng, w.exp_tech, m)
        k.hub_route[rows] = 0.45
        k.text[rows] = (0.7, 0.2, 0.02, 0.08)
        k.cert[rows] = 0.55
    elif name in ("forwarder_declared", "forwarder_ordinary"):
        k.consignee[rows] = _pick(rng, w.of("forwarder"), m)
        if name == "forwarder_declared":
            k.end_user[rows] = _pick(rng, w.of("importer"), m)
            k.cert[rows] = 0.6
            k.exporter[rows] = _pick(rng, w.exp_tech, m)
        else:
            k.eu_is_consignee[rows] = rng.random(m) < 0.6
            k.text[rows] = (0.4, 0.3, 0.02, 0.28)
            k.exporter[rows] = _pick(rng, w.exp_cons, m)
        k.hub_route[rows] = 0.4
        k.routed[rows] = 0.5
    elif name in ("new_ordinary", "new_chpl_legit"):
        pool = w.of("new_company")
        if name == "new_chpl_legit":
            # Start-ups outside GECC with a web presence, mostly away from the transshipment hubs.
            ok = ~w.gecc[pool] & ~np.isin(w.country[pool], list(_EMBARGOED)) & (w.website[pool] != None)  # noqa: E711
            pool = np.concatenate([pool[ok & ~w.hub[pool]], pool[ok & ~w.hub[pool]], pool[ok]])
            k.exporter[rows] = _pick(rng, w.exp_tech, m)
            k.cert[rows] = 0.8
            k.text[rows] = (0.85, 0.08, 0.0, 0.07)
        parties, cluster = _clusters(rng, rows, pool, 1, 6)
        k.consignee[rows] = parties
        k.eu_is_consignee[rows] = rng.random(m) < 0.5
        _spike_dates(rng, k, rows, cluster, w.inc[parties], 240)
    elif name == "cotenant":
        k.consignee[rows] = _pick(rng, w.of("cotenant"), m)
        k.exporter[rows] = np.where(rng.random(m) < 0.75, _pick(rng, w.exp_cons, m), k.exporter[rows])
        k.hub_route[rows] = 0.35
        k.text[rows] = (0.45, 0.3, 0.02, 0.23)
    elif name == "busy_small_trader":
        # Small hub traders trip many checklist flags at once (cash, routed, third-party payer, vague
        # declarations, forwarders...) while buying ordinary goods: the bulk of real false positives.
        new = w.of("new_company")
        hub_imp = w.of("importer")[w.hub[w.of("importer")]]
        which = rng.random(m)
        k.consignee[rows] = np.where(
            which < 0.6,
            _pick(rng, new[~w.gecc[new]], m),
            np.where(which < 0.9, _pick(rng, w.of("cotenant"), m), _pick(rng, hub_imp, m)),
        )
        k.exporter[rows] = np.where(rng.random(m) < 0.7, _pick(rng, w.exp_cons, m), k.exporter[rows])
        eu = rng.random(m)
        k.end_user[rows[eu < 0.4]] = _pick(rng, w.of("forwarder"), int((eu < 0.4).sum()))
        k.eu_is_consignee[rows] = eu > 0.85
        house = rng.random(m) < 0.5
        k.payer[rows[house]] = _pick(rng, w.of("payer_house"), int(house.sum()))
        k.hub_route[rows] = 0.7
        k.cash[rows] = 0.35
        k.routed[rows] = 0.6
        k.text[rows] = (0.25, 0.45, 0.15, 0.15)
        k.cert[rows] = 0.1
        k.forwarder[rows] = 0.7
        k.broker[rows] = 0.25
        k.rename[rows] = 0.08
        under = rng.random(m) < 0.25
        k.price_lo[rows] = np.where(under, 0.06, 0.8)
        k.price_hi[rows] = np.where(under, 0.2, 1.25)
    elif name == "busy_established":
        # Long-established importers outside GECC buying high-priority items through hubs, with routed
        # freight, vague declarations and third-party payment: many flags, no scheme.
        imp = w.of("importer")
        old = imp[
            ~w.gecc[imp] & (w.inc[imp] < INVASION - 3 * 365) & ~np.isin(w.country[imp], list(_EMBARGOED))
        ]
        k.consignee[rows] = _pick(rng, np.concatenate([w.of("hub_distributor"), old]), m)
        k.exporter[rows] = _pick(rng, w.exp_tech, m)
        pay = rng.random(m) < 0.3
        k.payer[rows[pay]] = _pick(rng, w.of("payer_house"), int(pay.sum()))
        k.hub_route[rows] = 0.75
        k.cash[rows] = 0.12
        k.routed[rows] = 0.6
        k.text[rows] = (0.35, 0.5, 0.0, 0.15)
        k.cert[rows] = 0.25
        k.forwarder[rows] = 0.8
        k.broker[rows] = 0.3
    elif name == "cotenant_established":
        # Established firms registered at an agent's address (and so sharing it with listed shells) that
        # buy high-priority items openly: website, history, declared use.
        pool = w.of("cotenant")
        pool = pool[(w.website[pool] != None) & (w.inc[pool] < INVASION - 2 * 365)]  # noqa: E711
        k.consignee[rows] = _pick(rng, pool, m)
        k.exporter[rows] = _pick(rng, w.exp_tech, m)
        k.cert[rows] = 0.5
        k.text[rows] = (0.75, 0.12, 0.0, 0.13)
    elif name == "forwarder_end_user_legit":
        # Logistics firms buying equipment for their own operations (scanners, routers, controllers).
        pool = w.of("forwarder")
        pool = pool[~w.hub[pool] & ~np.isin(w.country[pool], list(_EMBARGOED))]
        k.consignee[rows] = _pick(rng, pool, m)
        k.eu_is_consignee[rows] = True
        k.exporter[rows] = _pick(rng, w.exp_tech, m)
        k.cert[rows] = 0.5
    elif name == "minority":
        k.consignee[rows] = _pick(rng, w.of("minority"), m)
        k.exporter[rows] = _pick(rng, w.exp_tech, m)
        k.eu_is_consignee[rows] = rng.random(m) < 0.6
    else:
        raise ValueError(f"unknown honest scenario {name!r}")
    _items_from_exporter(rng, w, k, rows)
    if name == "busy_small_trader":
        k.p_high[rows] = 0.03
        k.p_low[rows] = np.minimum(k.p_low[rows], 0.2)
    elif name == "busy_established":
        k.p_high[rows] = 0.5
        k.p_low[rows] = 0.45
    elif name == "cotenant":
        k.p_high[rows] = np.minimum(k.p_high[rows], 0.05)
    elif name in ("forwarder_end_user_legit", "cotenant_established"):
        k.p_high[rows] = 0.45
        k.p_low[rows] = 0.45
    # A few honest shipments carry a vague or odd-looking declaration; exporters rarely note red flags.
    k.observed[rows] = 0.012


def _items_from_exporter(rng: np.random.Generator, w: _World, k: Knobs, rows: np.ndarray) -> None:
    """Honest item mix follows the exporter's sector; embargoed destinations get ordinary goods only."""
    sector = w.sector[k.exporter[rows]]
    p_high = np.select(
        [sector == "electronics", sector == "instruments", sector == "machinery", sector == "aerospace"],
        [0.3, 0.04, 0.02, 0.05],
        0.0,
    )
    p_low = np.select(
        [sector == "electronics", sector == "instruments", sector == "machinery", sector == "aerospace"],
        [0.5, 0.75, 0.6, 0.7],
        0.03,
    )
    embargo = np.isin(w.country[k.consignee[rows]], list(_EMBARGOED))
    k.p_high[rows] = np.where(embargo, 0.0, p_high)
    k.p_low[rows] = np.where(embargo, 0.02, p_low)


def _fill_scheme(rng: np.random.Generator, w: _World, k: Knobs, sc: Scenario, rows: np.ndarray) -> None:
    m = len(rows)
    if m == 0:
        return
    pop = w.pop
    k.exporter[rows] = _pick(rng, w.exp_tech, m)
    k.p_high[rows] = 0.6
    k.p_low[rows] = 0.35
    # Procurement networks copy normal paperwork: outside their core signals, illicit shipments look like
    # honest ones (specific end uses, certificates, usual payment and freight terms).
    k.rename[rows] = 0.12
    k.observed[rows] = 0.03
    k.routed[rows] = 0.33
    k.cash[rows] = 0.045
    k.cert[rows] = 0.3
    k.text[rows] = (0.6, 0.16, 0.02, 0.22)
    k.broker[rows] = 0.07
    name = sc.name
    if name == "direct_listed_party":
        parties, cluster = _clusters(rng, rows, w.of("listed"), 1, 4)
        as_eu = rng.random(m) < 0.15
        k.consignee[rows] = np.where(as_eu, _pick(rng, w.of("shell"), m), parties)
        k.end_user[rows] = np.where(as_eu, parties, -1)
        k.eu_is_consignee[rows] = ~as_eu & (rng.random(m) < 0.5)
        k.hub_route[rows] = 0.15
    elif name == "alias_or_front_of_listed":
        fronts, cluster = _clusters(rng, rows, w.of("front"), 1, 4)
        k.consignee[rows] = fronts
        alias = rng.random(m) < 0.25
        for r, f in zip(rows[alias], fronts[alias], strict=True):
            patron = pop.patron.get(int(f))
            names = pop.aliases.get(patron, []) if patron is not None else []
            if names:
                k.alias_name[r] = names[int(rng.integers(0, len(names)))]
        k.eu_is_consignee[rows] = rng.random(m) < 0.5
        k.hub_route[rows] = 0.2
    elif name == "third_country_shell_transshipment":
        shells, cluster = _clusters(rng, rows, w.of("shell"), 1, 5)
        k.consignee[rows] = shells
        second = rng.random(m) < 0.4
        k.end_user[rows[second]] = _pick(rng, w.of("shell"), int(second.sum()))
        mid = rng.random(m) < 0.35
        k.intermediate[rows[mid]] = _pick(rng, w.of("shell"), int(mid.sum()))
        k.hub_route[rows] = 0.5
        k.text[rows] = (0.35, 0.35, 0.05, 0.25)
        pay = rng.random(m) < 0.25
        k.payer[rows[pay]] = _pick(rng, w.of("shell"), int(pay.sum()))
    elif name == "forwarder_as_end_user":
        fwd, cluster = _clusters(
            rng,
            rows,
            np.concatenate(
                [w.of("bad_forwarder"), w.of("bad_forwarder"), w.of("forwarder")[w.hub[w.of("forwarder")]]]
            ),
            1,
            4,
        )
        k.consignee[rows] = fwd
        declared = rng.random(m) < 0.6
        k.end_user[rows[declared]] = fwd[declared]
        k.p_high[rows] = 0.85
        k.p_low[rows] = 0.14
        k.hub_route[rows] = 0.5
    elif name == "implausible_civil_end_use":
        pool = np.concatenate([w.of("importer"), w.of("new_company"), w.of("front")])
        pool = pool[~w.gecc[pool]]
        # Cover stories are told straight to the end user's country as often as through a hub.
        pool = np.concatenate([pool[~w.hub[pool]], pool[~w.hub[pool]], pool])
        parties, cluster = _clusters(rng, rows, pool, 1, 3)
        k.consignee[rows] = parties
        k.eu_is_consignee[rows] = rng.random(m) < 0.7
        k.p_high[rows] = 0.92
        k.p_low[rows] = 0.08
        k.text[rows] = (0.0, 0.1, 0.88, 0.02)
        k.cert[rows] = 0.6
        k.hub_route[rows] = 0.1
    elif name == "split_undervalued":
        parties, cluster = _clusters(rng, rows, w.of("split_trader"), 3, 8)
        k.consignee[rows] = parties
        _spike_dates(rng, k, rows, cluster, w.inc[parties], 60)
        k.price_lo[rows] = 0.04
        k.price_hi[rows] = 0.17
        k.value_median[rows] = 2500.0
        k.p_high[rows] = 0.55
        k.p_low[rows] = 0.45
        k.hub_route[rows] = 0.15
    elif name == "third_country_payment":
        pool = np.concatenate([w.of("new_company"), w.of("new_trader"), w.of("split_trader"), w.of("shell")])
        pool = pool[~w.gecc[pool]]
        parties, cluster = _clusters(rng, rows, pool, 1, 3)
        k.consignee[rows] = parties
        payers = _pick(rng, w.of("payer_shell"), m)
        k.payer[rows] = payers
        k.eu_is_consignee[rows] = rng.random(m) < 0.5
        k.p_high[rows] = 0.7
        k.p_low[rows] = 0.28
        k.hub_route[rows] = 0.15
    elif name == "owned_by_listed":
        parties, cluster = _clusters(rng, rows, w.of("listed_sub"), 1, 4)
        k.consignee[rows] = parties
        k.eu_is_consignee[rows] = rng.random(m) < 0.6
        k.text[rows] = (0.6, 0.2, 0.05, 0.15)
        k.rename[rows] = 0.05
        k.hub_route[rows] = 0.1
    elif name == "new_company_chpl_spike":
        parties, cluster = _clusters(rng, rows, w.of("new_trader"), 3, 10)
        k.consignee[rows] = parties
        _spike_dates(rng, k, rows, cluster, w.inc[parties], 90)
        k.p_high[rows] = 0.9
        k.p_low[rows] = 0.1
        k.hub_route[rows] = 0.3
    else:
        raise ValueError(f"unknown scheme {name!r}")


def _assign(n: int) -> tuple[np.ndarray, list[Scenario]]:
    """Scenario index per row: exact counts from the shares, the remainder honest ``regular``."""
    scenarios = [*SCHEMES, *HONEST, Scenario("regular", 0.0, 0)]
    counts = [round(s.share * n) for s in scenarios[:-1]]
    counts.append(n - sum(counts))
    return np.repeat(np.arange(len(scenarios)), counts), scenarios


def make_shipments(rng: np.random.Generator, pop: Population, n: int, seed: int) -> ShipmentBatch:
    """Generate ``n`` shipments over the world ``pop``."""
    w = _World(pop)
    codes, scenarios = _assign(n)
    k = Knobs(n)
    k.scenario[:] = codes
    for i, sc in enumerate(scenarios):
        rows = np.flatnonzero(codes == i)
        (_fill_scheme if sc.label else _fill_honest)(rng, w, k, sc, rows)
    # A shipment goes abroad: re-draw consignees that sit in the exporter's own country (honest rows).
    for _ in range(3):
        clash = (w.country[k.exporter] == w.country[k.consignee]) & (k.consignee >= 0)
        k.exporter[clash] = _pick(rng, w.exp_all, int(clash.sum()))
    return _assemble(rng, w, k, scenarios, seed)


def _party_columns(
    rng: np.random.Generator, w: _World, idx: np.ndarray, prefix: str, names: np.ndarray | None = None
) -> dict[str, pa.Array[Any]]:
    """The nine party columns for entity indices ``idx`` (-1: no party); fields present at realistic rates."""
    n = len(idx)
    has = idx >= 0
    safe = np.where(has, idx, 0)

    def keep(values: np.ndarray, p: float) -> np.ndarray:
        out = values[safe].copy()
        out[~has | (rng.random(n) >= p)] = None
        return out

    name = w.name[safe].copy() if names is None else names
    name[~has] = None
    inc = w.inc[safe]
    inc_mask = ~has | (inc < 0) | (rng.random(n) >= 0.65)
    return {
        f"{prefix}_name": pa.array(name, pa.string()),
        f"{prefix}_country": pa.array(np.where(has, w.country[safe], _NA), pa.string()),
        f"{prefix}_address": pa.array(keep(w.address, 0.93), pa.string()),
        f"{prefix}_registration_id": pa.array(keep(w.registration, 0.45), pa.string()),
        f"{prefix}_phone": pa.array(keep(w.phone, 0.75), pa.string()),
        f"{prefix}_email": pa.array(keep(w.email, 0.6), pa.string()),
        f"{prefix}_website": pa.array(keep(w.website, 0.55), pa.string()),
        f"{prefix}_incorporated_on": pa.array(
            np.where(inc_mask, 0, inc).astype("datetime64[D]"), pa.date32(), mask=inc_mask
        ),
        f"{prefix}_business_type": pa.array(keep(w.btype, 0.85), pa.string()),
    }


def _variant(rng: np.random.Generator, name: str) -> str:
    """A slightly different spelling: a typo, a dropped or changed legal form, or upper case."""
    kind = int(rng.integers(0, 4))
    if kind == 0 and len(name) > 6:
        i = int(rng.integers(1, len(name) - 2))
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    words = name.split()
    if kind == 1 and len(words) > 2:
        return " ".join(words[:-1])
    if kind == 2 and len(words) > 1:
        return " ".join([*words[:-1], str(rng.choice(["Ltd", "LLC", "Co.", "Limited", "Inc"]))])
    return name.upper()


def _list_array(counts: np.ndarray, values: pa.Array[Any]) -> pa.Array[Any]:
    offsets = np.zeros(len(counts) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def _assemble(
    rng: np.random.Generator, w: _World, k: Knobs, scenarios: list[Scenario], seed: int
) -> ShipmentBatch:
    n = k.n
    cols: dict[str, pa.Array[Any]] = {}
    # Dates: after the parties exist; clustered scenarios already narrowed the window.
    inc_c = w.inc[k.consignee]
    lo = np.maximum(
        k.date_lo, np.maximum(inc_c, w.inc[np.where(k.end_user >= 0, k.end_user, k.consignee)]) + 30
    )
    lo = np.minimum(lo, END - 1)
    hi = np.maximum(k.date_hi, lo + 1)
    days = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    seconds = (7 * 3600 + rng.random(n) * 11 * 3600).astype(np.int64)
    micros = days * 86_400_000_000 + seconds * 1_000_000
    order = np.lexsort((np.arange(n), micros))
    # Everything below is computed in the original row order and permuted at the end.

    dest = w.country[k.consignee]
    # Names: variants and aliases.
    con_names = w.name[k.consignee].copy()
    eu_idx = np.where(k.eu_is_consignee, k.consignee, k.end_user)
    eu_names = np.where(eu_idx >= 0, w.name[np.where(eu_idx >= 0, eu_idx, 0)], _NA)
    ren = np.flatnonzero(rng.random(n) < k.rename)
    for r in ren:
        con_names[r] = _variant(rng, str(con_names[r]))
    has_alias = np.flatnonzero(k.alias_name != None)  # noqa: E711
    con_names[has_alias] = k.alias_name[has_alias]
    same = k.eu_is_consignee
    eu_names[same] = con_names[same]
    cols.update(_party_columns(rng, w, k.exporter, "exporter"))
    cols.update(_party_columns(rng, w, k.consignee, "consignee", con_names))
    cols.update(_party_columns(rng, w, eu_idx, "end_user", eu_names))

    # Intermediaries: an optional freight forwarder, an optional intermediate consignee, sometimes a bank.
    fwd_on = rng.random(n) < k.forwarder
    # Forwarders work at the destination (most often) or at the origin.
    near = np.where(rng.random(n) < 0.65, dest, w.country[k.exporter])
    fwd = _pick_near(rng, w, w.of("forwarder"), near)
    bank_on = rng.random(n) < 0.04
    bank = _pick(rng, w.of("bank"), n)
    # Brokers and agents: honest trading houses mostly; illicit deals also use shells as "agents".
    broker_on = rng.random(n) < k.broker
    illicit_row = np.array([s.label for s in scenarios], bool)[k.scenario]
    broker = np.where(
        illicit_row & (rng.random(n) < 0.5),
        _pick(rng, w.of("payer_shell"), n),
        _pick(rng, np.concatenate([w.of("hub_distributor"), w.of("payer_house")]), n),
    )
    slots = np.stack(
        [
            np.where(fwd_on, fwd, -1),
            k.intermediate,
            np.where(broker_on, broker, -1),
            np.where(bank_on, bank, -1),
        ],
        axis=1,
    )
    broker_role = np.where(rng.random(n) < 0.6, "broker", "agent")
    roles = np.stack(
        [
            np.full(n, "freight_forwarder", dtype=object),
            np.full(n, "intermediate_consignee", dtype=object),
            broker_role.astype(object),
            np.full(n, "bank", dtype=object),
        ],
        axis=1,
    )
    present = slots >= 0
    counts = present.sum(axis=1)
    flat = slots[present]
    flat_roles = roles[present]
    sub = _party_columns(rng, w, flat, "intermediary")
    for key, arr in sub.items():
        cols[key] = _list_array(counts, arr)
    cols["intermediary_role"] = _list_array(counts, pa.array(flat_roles, pa.string()))

    # Items.
    bands = reference.price_bands()
    chpl = reference.chpl_codes()
    codes = np.array(sorted(bands), dtype=object)
    tier = np.array([chpl[c].tier if c in chpl else "" for c in codes], dtype=object)
    high = np.flatnonzero(np.isin(tier, ["1", "2"]))
    low = np.flatnonzero(np.isin(tier, ["3A", "3B", "4A", "4B"]))
    ordinary = np.flatnonzero(tier == "")
    typical = np.array([bands[c].typical for c in codes])
    desc = np.array([bands[c].description for c in codes], dtype=object)
    unit = np.array([bands[c].unit for c in codes], dtype=object)
    busy = next(i for i, s in enumerate(scenarios) if s.name == "busy_small_trader")
    n_items = 1 + rng.binomial(3, 0.25, n)
    total = int(n_items.sum())
    owner = np.repeat(np.arange(n), n_items)
    u = rng.random(total)
    cat = np.where(u < k.p_high[owner], 0, np.where(u < k.p_high[owner] + k.p_low[owner], 1, 2))
    pick_high = high[rng.integers(0, len(high), total)]
    pick_low = low[rng.integers(0, len(low), total)]
    pick_ord = ordinary[rng.integers(0, len(ordinary), total)]
    code = np.choose(cat, [pick_high, pick_low, pick_ord])
    factor = np.exp(
        np.log(k.price_lo[owner])
        + rng.random(total) * (np.log(k.price_hi[owner]) - np.log(k.price_lo[owner]))
    )
    # Honest discounts apply to ordinary goods; high-priority parts keep their price, except for a few
    # samples and for small traders' mixed lots.
    keep_price = ~illicit_row[owner] & (cat < 2) & (k.scenario[owner] != busy) & (rng.random(total) > 0.04)
    factor[keep_price] = np.clip(factor[keep_price], 0.8, 1.25)
    unit_price = typical[code] * np.exp(rng.normal(0.0, 0.3, total)) * factor
    line_target = np.exp(np.log(k.value_median[owner]) + rng.normal(0.0, 1.0, total))
    qty = np.maximum(1.0, np.round(line_target / unit_price))
    value_usd = qty * unit_price
    exp_country = w.country[k.exporter]
    cur = np.full(n, "USD", dtype=object)
    cu = rng.random(n)
    for cc, (ccy, p) in _CURRENCY.items():
        cur[(exp_country == cc) & (cu < p)] = ccy
    fx = reference.fx_rates()
    rate = np.array([fx[c] for c in cur[owner]])
    value = np.round(value_usd / rate, 2)
    is_chpl = cat < 2
    cc_draw = rng.random(total)
    control = np.where(cc_draw < 0.4, "EAR99", _NA).astype(object)
    control[is_chpl & (cc_draw > 0.93)] = _CONTROL_CODES[
        rng.integers(0, len(_CONTROL_CODES), int((is_chpl & (cc_draw > 0.93)).sum()))
    ]
    item_desc = desc[code].copy()
    vague = rng.random(total) < np.where(illicit_row[owner], 0.25, 0.08)
    item_desc[vague & is_chpl] = "Electronic components"
    item_desc[vague & ~is_chpl] = "General merchandise"
    hs = codes[code].copy()
    # Some declarations give the national 8-10 digit code.
    ext = rng.random(total) < 0.15
    hs[ext] = np.char.add(hs[ext].astype(str), "00").astype(object)
    cols["item_hs_code"] = _list_array(n_items, pa.array(hs, pa.string()))
    cols["item_description"] = _list_array(n_items, pa.array(item_desc, pa.string()))
    cols["item_quantity"] = _list_array(n_items, pa.array(qty, pa.float64()))
    cols["item_unit"] = _list_array(n_items, pa.array(unit[code], pa.string()))
    cols["item_value"] = _list_array(n_items, pa.array(value, pa.float64()))
    cols["item_currency"] = _list_array(n_items, pa.array(cur[owner], pa.string()))
    cols["item_control_code"] = _list_array(n_items, pa.array(control, pa.string()))
    any_chpl = np.bincount(owner, weights=is_chpl, minlength=n) > 0

    # Route: transit countries, origin and destination excluded.
    via_hub = rng.random(n) < k.hub_route
    two = rng.random(n) < 0.3
    h1 = _ROUTE_HUBS[rng.integers(0, len(_ROUTE_HUBS), n)]
    h2 = _ROUTE_HUBS[rng.integers(0, len(_ROUTE_HUBS), n)]
    port = _PORTS[rng.integers(0, len(_PORTS), n)]
    via_port = ~via_hub & (rng.random(n) < 0.2)
    r1 = np.where(via_hub, h1, np.where(via_port, port, _NA))
    r2 = np.where(via_hub & two & (h2 != h1), h2, _NA)
    r1[(r1 == dest) | (r1 == exp_country)] = None
    r2[(r2 == dest) | (r2 == exp_country)] = None
    route = np.stack([r1, r2], axis=1)
    rp = route != None  # noqa: E711
    cols["route"] = _list_array(rp.sum(axis=1), pa.array(route[rp], pa.string()))

    # Payment.
    pm = rng.random(n)
    method = np.where(
        pm < 0.68, "wire", np.where(pm < 0.83, "letter_of_credit", np.where(pm < 0.86, "other", _NA))
    ).astype(object)
    cash = rng.random(n) < k.cash
    method[cash] = np.where(rng.random(int(cash.sum())) < 0.9, "cash", "cryptocurrency")
    third = k.payer >= 0
    method[third & (method == None)] = "wire"  # noqa: E711
    payer_name = np.where(rng.random(n) < 0.55, con_names, _NA).astype(object)
    payer_country = np.where(payer_name != None, dest, _NA).astype(object)  # noqa: E711
    payer_name[third] = w.name[k.payer[third]]
    payer_country[third] = w.country[k.payer[third]]
    none = method == None  # noqa: E711
    payer_name[none] = None
    payer_country[none] = None
    cols["payment_method"] = pa.array(method, pa.string())
    cols["payer_name"] = pa.array(payer_name, pa.string())
    cols["payer_country"] = pa.array(payer_country, pa.string())

    inc_term = _INCOTERMS[np.searchsorted(np.cumsum(_INCOTERM_W), rng.random(n) * _INCOTERM_W.sum())]
    routed = rng.random(n) < k.routed
    inc_term = np.where(routed, np.where(rng.random(n) < 0.5, "EXW", "FCA"), inc_term).astype(object)
    inc_term[rng.random(n) < 0.03] = None
    cols["incoterm"] = pa.array(inc_term, pa.string())

    # Declared end use.
    cum = np.cumsum(k.text, axis=1)
    t = rng.random(n)
    kind = (t[:, None] >= cum).sum(axis=1)
    spec_chpl = np.array(vocab.END_USES["chpl"], dtype=object)
    spec_ord = np.array(vocab.END_USES["ordinary"], dtype=object)
    vague_t = np.array(vocab.VAGUE_USES, dtype=object)
    cover_t = np.array(vocab.COVER_USES, dtype=object)
    text = np.where(
        any_chpl, spec_chpl[rng.integers(0, len(spec_chpl), n)], spec_ord[rng.integers(0, len(spec_ord), n)]
    ).astype(object)
    text[kind == 1] = vague_t[rng.integers(0, len(vague_t), int((kind == 1).sum()))]
    text[kind == 2] = cover_t[rng.integers(0, len(cover_t), int((kind == 2).sum()))]
    text[kind >= 3] = None
    cols["declared_end_use"] = pa.array(text, pa.string())
    cols["end_use_certificate"] = pa.array(rng.random(n) < k.cert, pa.bool_())
    obs = rng.random(n) < k.observed
    flags = _OBSERVABLE[rng.integers(0, len(_OBSERVABLE), n)]
    cols["observed_flags"] = _list_array(obs.astype(np.int64), pa.array(flags[obs], pa.string()))

    cols["destination_country"] = pa.array(dest, pa.string())
    cols["declared_at"] = pa.array(micros, pa.timestamp("us", tz="UTC"))
    ids = np.array([f"W{seed}-{i:07d}" for i in range(n)], dtype=object)
    columns = {name: cols[name].take(order) for name in SHIPMENT_SCHEMA.names if name != "shipment_id"}
    columns["shipment_id"] = pa.array(ids, pa.string())
    table = pa.Table.from_pydict(
        {name: columns[name] for name in SHIPMENT_SCHEMA.names}, schema=SHIPMENT_SCHEMA
    )
    label = np.array([scenarios[c].label for c in k.scenario], np.int8)[order]
    scheme = np.array([scenarios[c].name if scenarios[c].label else None for c in k.scenario], dtype=object)[
        order
    ]
    negative = np.array([scenarios[c].negative_kind for c in k.scenario], dtype=object)[order]
    return ShipmentBatch(table=table, label=label, scheme=scheme, negative_kind=negative)
