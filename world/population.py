"""The world's companies and persons, their ownership and directorships, the listed parties and the
fronts, shells and other vehicles that the illicit schemes use.

Entities are created one at a time in Python (tens of thousands, well under a second of work); every
random choice comes from one seeded stream, so the population is a pure function of the seed and sizes.
Each entity also carries a ``role``: the simulator's hidden reason for its existence (regular importer,
registered-agent tenant, listed party, front of a listed party, ...). Roles are never written to the
world files; shipments use them to pick parties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from world import vocab
from world.draw import END, INVASION, Uniforms, day
from world.naming import (
    address,
    company_name,
    email,
    person_name,
    phone,
    registration_id,
    website_domain,
)

__all__ = ["EXPORTER_COUNTRIES", "HUBS", "Population", "build_population"]

EXPORTER_COUNTRIES: tuple[tuple[str, float], ...] = (
    ("US", 8.0),
    ("DE", 6.0),
    ("JP", 5.0),
    ("KR", 3.5),
    ("TW", 3.5),
    ("GB", 2.5),
    ("FR", 2.5),
    ("NL", 2.0),
    ("IT", 2.0),
    ("CH", 1.5),
    ("SE", 1.0),
    ("FI", 0.6),
    ("AT", 0.8),
    ("CZ", 0.6),
    ("PL", 0.6),
    ("ES", 1.0),
    ("CA", 1.0),
    ("CN", 5.0),
    ("IL", 0.5),
    ("SG", 0.6),
    ("IN", 0.8),
)
HUBS: tuple[str, ...] = ("HK", "AE", "TR", "KZ", "KG", "AM", "GE", "UZ", "RS", "CN", "SG", "IN", "TJ")
_SHELL_HUBS: tuple[str, ...] = ("HK", "HK", "HK", "AE", "AE", "TR", "KZ", "KG", "AM", "GE", "UZ", "RS")
_EXPORT_SECTORS: tuple[tuple[str, float], ...] = (
    ("electronics", 0.32),
    ("instruments", 0.10),
    ("machinery", 0.14),
    ("consumer", 0.18),
    ("vehicles", 0.07),
    ("materials", 0.10),
    ("pharma", 0.05),
    ("aerospace", 0.04),
)
_IMPORT_SECTORS: tuple[tuple[str, float], ...] = (
    ("electronics", 0.22),
    ("instruments", 0.06),
    ("machinery", 0.12),
    ("consumer", 0.25),
    ("vehicles", 0.08),
    ("materials", 0.11),
    ("pharma", 0.06),
    ("trading", 0.10),
)
_BTYPE_BY_SECTOR: dict[str, tuple[str, ...]] = {
    "electronics": ("manufacturer", "manufacturer", "distributor", "distributor", "trading_company"),
    "instruments": ("manufacturer", "distributor", "research_institute"),
    "machinery": ("manufacturer", "manufacturer", "distributor"),
    "consumer": ("distributor", "distributor", "trading_company", "manufacturer", "other"),
    "vehicles": ("manufacturer", "distributor"),
    "materials": ("manufacturer", "distributor", "trading_company"),
    "pharma": ("manufacturer", "distributor"),
    "aerospace": ("manufacturer", "research_institute"),
    "trading": ("trading_company", "trading_company", "distributor"),
    "logistics": ("freight_forwarder", "freight_forwarder", "logistics"),
    "research": ("research_institute", "university"),
    "finance": ("bank",),
    "military": ("military", "manufacturer", "research_institute", "government"),
}
_LISTED_COUNTRIES: tuple[tuple[str, float], ...] = (
    ("RU", 45.0),
    ("CN", 18.0),
    ("BY", 6.0),
    ("IR", 7.0),
    ("HK", 9.0),
    ("AE", 4.0),
    ("TR", 3.0),
    ("KZ", 2.0),
    ("AM", 1.5),
    ("KG", 1.5),
    ("UZ", 1.0),
    ("RS", 1.0),
)


# Where a company's phone line is registered when it is not its own country's (diaspora, parent firm,
# the agent's mainland line...): common in hubs, occasional elsewhere.
_FOREIGN_PHONE: dict[str, tuple[str, ...]] = {
    "HK": ("CN", "CN", "CN", "SG"),
    "AE": ("IN", "RU", "IR", "GB", "PK"),
    "KZ": ("CN", "TR"),
    "KG": ("RU", "CN", "KZ"),
    "AM": ("RU", "RU", "US"),
    "GE": ("RU", "TR", "AM"),
    "TR": ("RU", "DE", "AZ"),
    "RS": ("RU", "DE"),
    "UZ": ("RU", "KZ"),
    "SG": ("MY", "CN", "IN"),
    "CY": ("RU", "GB", "GR"),
}
_HUB_SET = frozenset(("HK", "AE", "TR", "KZ", "KG", "AM", "GE", "UZ", "RS", "SG", "CY", "TJ"))


def _phone_country(u: Uniforms, country: str) -> str:
    return u.pick(_FOREIGN_PHONE.get(country, ("US", "GB", "CN", "DE")))


def _weighted(u: Uniforms, table: tuple[tuple[str, float], ...]) -> str:
    total = sum(w for _, w in table)
    x = u() * total
    for key, w in table:
        x -= w
        if x < 0:
            return key
    return table[-1][0]


@dataclass
class Population:
    """Every entity of the world as parallel lists, plus relationships, list entries and role pools."""

    ids: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    latin: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    address: list[str | None] = field(default_factory=list)
    phone: list[str | None] = field(default_factory=list)
    email: list[str | None] = field(default_factory=list)
    website: list[str | None] = field(default_factory=list)
    registration_id: list[str | None] = field(default_factory=list)
    incorporated: list[int] = field(default_factory=list)  # days since epoch; -1 unknown
    business_type: list[str | None] = field(default_factory=list)
    sector: list[str | None] = field(default_factory=list)
    role: list[str] = field(default_factory=list)
    aliases: dict[int, list[str]] = field(default_factory=dict)
    extra_ids: list[tuple[int, str, str]] = field(default_factory=list)  # (entity, kind, value)
    rel_src: list[int] = field(default_factory=list)
    rel_dst: list[int] = field(default_factory=list)
    rel_kind: list[str] = field(default_factory=list)
    rel_share: list[float | None] = field(default_factory=list)
    parent_of: dict[int, int] = field(default_factory=dict)  # corporate parent (honest groups)
    patron: dict[int, int] = field(default_factory=dict)  # front/subsidiary -> listed party behind it
    listings: list[tuple[str, int, str]] = field(default_factory=list)  # (list, entity, start date)

    def __len__(self) -> int:
        return len(self.ids)

    def pool(self, role: str) -> np.ndarray:
        """Indices of the entities with ``role``, in creation order."""
        roles = np.asarray(self.role, dtype=object)
        return np.flatnonzero(roles == role)

    def relate(self, src: int, dst: int, kind: str, share: float | None = None) -> None:
        """Add a directed relationship."""
        self.rel_src.append(src)
        self.rel_dst.append(dst)
        self.rel_kind.append(kind)
        self.rel_share.append(share)


class _Maker:
    """Creates entities into a :class:`Population`."""

    def __init__(self, u: Uniforms, pop: Population) -> None:
        self.u = u
        self.pop = pop
        self.persons_by_country: dict[str, list[int]] = {}
        self.agent_by_country: dict[str, list[str]] = {}
        for cc, addr in vocab.AGENT_ADDRESSES:
            self.agent_by_country.setdefault(cc, []).append(addr)
        # Nominee directors and the agent's phone line, per registered-agent address.
        self.nominees: dict[str, list[int]] = {}
        self.agent_phone: dict[str, str] = {}
        self.names_seen: set[str] = set()

    def _append(self, **kw: object) -> int:
        pop = self.pop
        idx = len(pop.ids)
        prefix = "P" if kw["kind"] == "person" else "C"
        pop.ids.append(f"W:{prefix}{idx:07d}")
        for key in (
            "kind",
            "name",
            "latin",
            "country",
            "address",
            "phone",
            "email",
            "website",
            "registration_id",
            "incorporated",
            "business_type",
            "sector",
            "role",
        ):
            getattr(pop, key).append(kw[key])
        return idx

    def person(self, country: str, *, role: str = "person", reuse: float = 0.3) -> int:
        """A person living in ``country`` (an existing one with probability ``reuse``)."""
        u = self.u
        known = self.persons_by_country.setdefault(country, [])
        if known and u.chance(reuse):
            return u.pick(known)
        name = person_name(u, country)
        idx = self._append(
            kind="person",
            name=name,
            latin=name,
            country=country,
            address=address(u, country, residential=True) if u.chance(0.6) else None,
            phone=phone(u, country) if u.chance(0.4) else None,
            email=email(u, None, name) if u.chance(0.3) else None,
            website=None,
            registration_id=None,
            incorporated=-1,
            business_type="individual",
            sector=None,
            role=role,
        )
        known.append(idx)
        return idx

    def _unique_name(
        self, country: str, sector: str, script_p: float
    ) -> tuple[str, str, tuple[str, ...], str]:
        u = self.u
        for attempt in range(6):
            cn = company_name(u, country, sector, script_p=script_p)
            if cn.name not in self.names_seen or attempt == 5:
                name = cn.name
                if name in self.names_seen:
                    # Last resort: a distinguishing word, as registries force on duplicate names.
                    word = u.pick(("Group", "International", "Holdings", "Industries"))
                    name = f"{cn.name} {word} {u.integer(2, 99)}"
                self.names_seen.add(name)
                return name, cn.latin if cn.latin != cn.name else name, cn.aliases, cn.stem
        raise AssertionError("unreachable")

    def agent_address(self, country: str) -> str | None:
        """One of the shared registered-agent / free-zone addresses of ``country``, if it has any."""
        options = self.agent_by_country.get(country)
        return self.u.pick(options) if options else None

    def company(
        self,
        country: str,
        sector: str,
        role: str,
        *,
        incorporated: int,
        business_type: str | None = None,
        web_p: float = 0.85,
        address_kind: str = "own",
        phone_p: float = 0.95,
        script_p: float = 0.35,
        directors: int = 1,
        foreign_phone_p: float | None = None,
    ) -> int:
        """A company with its contact details and ``directors`` directors; returns its index."""
        u = self.u
        name, latin, aliases, _stem = self._unique_name(country, sector, script_p)
        btype = business_type or u.pick(_BTYPE_BY_SECTOR.get(sector, ("other",)))
        agent = self.agent_address(country) if address_kind == "agent" else None
        if agent is not None:
            addr: str | None = agent
        elif address_kind == "residential":
            addr = address(u, country, residential=True)
        else:
            addr = address(u, country)
        domain = website_domain(u, latin, country) if u.chance(web_p) else None
        if foreign_phone_p is None:
            foreign_phone_p = 0.12 if country in _HUB_SET else 0.02
        line = _phone_country(u, country) if u.chance(foreign_phone_p) else country
        tel: str | None = phone(u, line) if u.chance(phone_p) else None
        if agent is not None and tel is not None and u.chance(0.35):
            # Tenants of a formation agent often list the agent's switchboard.
            tel = self.agent_phone.setdefault(agent, phone(u, country))
        idx = self._append(
            kind="company",
            name=name,
            latin=latin,
            country=country,
            address=addr,
            phone=tel,
            email=email(u, domain, latin) if (domain is not None or u.chance(0.6)) else None,
            website=(f"www.{domain}" if u.chance(0.7) else f"https://{domain}") if domain else None,
            registration_id=registration_id(u, country) if u.chance(0.8) else None,
            incorporated=incorporated,
            business_type=btype,
            sector=sector,
            role=role,
        )
        if aliases:
            self.pop.aliases[idx] = list(aliases)
        for _ in range(directors):
            if agent is not None and u.chance(0.6):
                noms = self.nominees.setdefault(agent, [])
                if len(noms) < 3 or u.chance(0.1):
                    noms.append(self.person(country, role="nominee", reuse=0.0))
                director = u.pick(noms)
            else:
                director = self.person(country)
            self.pop.relate(director, idx, "directorship")
        return idx


def _age_days(u: Uniforms) -> int:
    # Company ages: lognormal, median ~14 years, a realistic share founded in the last few years.
    years = float(np.exp(2.6 + 0.8 * _normal(u)))
    return END - int(min(max(years, 0.2), 90.0) * 365.25)


def _normal(u: Uniforms) -> float:
    # Box-Muller from the uniform stream (keeps every draw on one stream).
    a = max(u(), 1e-12)
    return float(np.sqrt(-2.0 * np.log(a)) * np.cos(2.0 * np.pi * u()))


def _new_day(u: Uniforms) -> int:
    """An incorporation date after 24 Feb 2022."""
    return INVASION + 10 + int(u() * (day("2026-06-30") - INVASION - 10))


def build_population(rng: np.random.Generator, *, companies: int, illicit_parties: int) -> Population:
    """Build the world's entities: ``companies`` ordinary companies, their persons, the listed parties
    and about ``illicit_parties`` fronts/shells/vehicles for the schemes.
    """
    u = Uniforms(rng)
    pop = Population()
    mk = _Maker(u, pop)

    n_exporters = int(companies * 0.16)
    n_hub = int(companies * 0.05)
    n_fwd = int(companies * 0.05)
    n_cotenant = int(companies * 0.07)
    n_new = int(companies * 0.06)
    n_bank = max(20, int(companies * 0.006))
    n_research = max(20, int(companies * 0.01))
    n_regular = companies - n_exporters - n_hub - n_fwd - n_cotenant - n_new - n_bank - n_research

    for _ in range(n_exporters):
        cc = _weighted(u, EXPORTER_COUNTRIES)
        sector = _weighted(u, _EXPORT_SECTORS)
        mk.company(
            cc,
            sector,
            "exporter",
            incorporated=_age_days(u),
            web_p=0.97,
            business_type=u.pick(("manufacturer", "manufacturer", "distributor")),
        )
    for _ in range(n_regular):
        cc = _weighted(u, vocab.COUNTRY_WEIGHTS)
        sector = _weighted(u, _IMPORT_SECTORS)
        web_p = 0.85 if cc in ("US", "DE", "JP", "GB", "FR", "KR", "NL") else 0.7
        mk.company(
            cc,
            sector,
            "importer",
            incorporated=_age_days(u),
            web_p=web_p,
            address_kind="residential" if u.chance(0.03) else "own",
        )
    for _ in range(n_hub):
        cc = u.pick(HUBS)
        mk.company(
            cc,
            u.pick(("electronics", "electronics", "instruments", "machinery", "trading")),
            "hub_distributor",
            incorporated=END - int((5 + u() * 30) * 365.25),
            web_p=0.95,
            business_type="distributor",
            address_kind="agent" if u.chance(0.15) else "own",
        )
    for _ in range(n_fwd):
        cc = u.pick(HUBS) if u.chance(0.5) else _weighted(u, vocab.COUNTRY_WEIGHTS)
        mk.company(
            cc,
            "logistics",
            "forwarder",
            incorporated=_age_days(u),
            web_p=0.8,
            address_kind="agent" if u.chance(0.15) else "own",
        )
    agent_countries = tuple(sorted({cc for cc, _ in vocab.AGENT_ADDRESSES}))
    for _ in range(n_cotenant):
        cc = u.pick(("HK", "HK", "HK", "AE", "AE", *agent_countries))
        inc = _new_day(u) if u.chance(0.3) else _age_days(u)
        mk.company(
            cc,
            u.pick(("trading", "consumer", "electronics", "materials")),
            "cotenant",
            incorporated=inc,
            web_p=0.5,
            address_kind="agent",
        )
    for _ in range(n_new):
        cc = _weighted(u, vocab.COUNTRY_WEIGHTS)
        mk.company(
            cc,
            _weighted(u, _IMPORT_SECTORS),
            "new_company",
            incorporated=_new_day(u),
            web_p=0.5,
            address_kind="residential" if u.chance(0.12) else ("agent" if u.chance(0.1) else "own"),
        )
    for _ in range(n_bank):
        mk.company(
            _weighted(u, vocab.COUNTRY_WEIGHTS),
            "finance",
            "bank",
            incorporated=_age_days(u),
            web_p=1.0,
            business_type="bank",
        )
    for _ in range(n_research):
        mk.company(
            _weighted(u, vocab.COUNTRY_WEIGHTS), "research", "research", incorporated=_age_days(u), web_p=0.95
        )

    _honest_ownership(u, pop, mk)
    _listed_parties(u, pop, mk, n=max(60, int(companies * 0.012)))
    _scheme_vehicles(u, pop, mk, n=illicit_parties)
    return pop


def _honest_ownership(u: Uniforms, pop: Population, mk: _Maker) -> None:
    """Persons own most small companies; multinational exporters own foreign subsidiaries."""
    exporters = [i for i, r in enumerate(pop.role) if r == "exporter"]
    importers = [i for i, r in enumerate(pop.role) if r in ("importer", "hub_distributor")]
    for i in range(len(pop.ids)):
        if pop.kind[i] != "company" or pop.role[i] in ("bank", "research"):
            continue
        if u.chance(0.45):
            owner = mk.person(pop.country[i])
            share = 1.0 if u.chance(0.6) else round(0.5 + 0.45 * u(), 2)
            pop.relate(owner, i, "ownership", share)
            if share < 1.0:
                pop.relate(mk.person(pop.country[i]), i, "ownership", round(1.0 - share, 2))
    for child in importers:
        if u.chance(0.12):
            parent = u.pick(exporters)
            if pop.country[parent] != pop.country[child]:
                pop.parent_of[child] = parent
                pop.relate(parent, child, "subsidiary")
                if u.chance(0.5):
                    pop.relate(
                        parent, child, "ownership", 1.0 if u.chance(0.7) else round(0.51 + 0.4 * u(), 2)
                    )


_LIST_SECTORS = ("military", "military", "electronics", "aerospace", "research", "instruments", "trading")


def _listed_parties(u: Uniforms, pop: Population, mk: _Maker, n: int) -> None:
    """Listed parties (with parents), their majority-owned unlisted subsidiaries and minority holdings."""
    listed: list[int] = []
    for _ in range(n):
        cc = _weighted(u, _LISTED_COUNTRIES)
        hub = cc in ("HK", "AE", "TR", "KZ", "AM", "KG", "UZ", "RS")
        sector = "trading" if hub else u.pick(_LIST_SECTORS)
        idx = mk.company(
            cc,
            sector,
            "listed",
            incorporated=_age_days(u) if not hub else _new_day(u) if u.chance(0.5) else _age_days(u),
            web_p=0.3 if hub else 0.75,
            address_kind="agent" if hub and u.chance(0.7) else "own",
            script_p=0.8,
            directors=2,
        )
        listed.append(idx)
        extra = pop.aliases.setdefault(idx, [])
        words = pop.latin[idx].replace('"', "").split()
        initials = "".join(w[0] for w in words if w[:1].isupper())
        if len(initials) >= 3:
            extra.append(initials)
        if u.chance(0.3):
            extra.append(f"{words[0]} {u.pick(('Research Center', 'Engineering Centre', 'Trading House'))}")
    # Parents: a third of the listed parties belong to a listed holding of the same country.
    for idx in listed:
        if u.chance(0.3):
            same = [j for j in listed if pop.country[j] == pop.country[idx] and j != idx]
            if same:
                parent = u.pick(same)
                if pop.patron.get(parent) != idx:
                    pop.patron[idx] = parent
                    pop.relate(parent, idx, "ownership", round(0.5 + 0.5 * u(), 2))
    lists = ("world-eu-annex-iv", "world-entity-list", "world-mieu", "world-1260h")
    for idx in listed:
        cc = pop.country[idx]
        first = (
            "world-1260h"
            if cc == "CN" and u.chance(0.4)
            else ("world-eu-annex-iv" if cc != "CN" and u.chance(0.6) else "world-entity-list")
        )
        start = day("2014-09-12") + int(u() * (day("2026-06-30") - day("2014-09-12")))
        pop.listings.append((first, idx, str(np.datetime64(start, "D"))))
        if u.chance(0.35):
            second = u.pick([name for name in lists if name != first])
            pop.listings.append((second, idx, str(np.datetime64(start + u.integer(30, 900), "D"))))
    # Unlisted subsidiaries: majority (>= 50 %, the 50 % rule) and minority holdings.
    n_sub = max(20, n // 2)
    for k in range(2 * n_sub):
        owner = u.pick(listed)
        cc = pop.country[owner] if u.chance(0.6) else u.pick(("HK", "AE", "TR", "KZ", "CN", "AM", "RS"))
        majority = k < n_sub
        idx = mk.company(
            cc,
            u.pick(("electronics", "instruments", "machinery", "trading")),
            "listed_sub" if majority else "minority",
            incorporated=_age_days(u),
            web_p=0.8,
        )
        if majority:
            pop.patron[idx] = owner
            if u.chance(0.4):
                # Through an unlisted holding: 0.8 x 0.7 = 0.56 still crosses the 50 % line.
                hold = mk.company(
                    pop.country[owner],
                    "finance",
                    "holding",
                    incorporated=_age_days(u),
                    business_type="other",
                    web_p=0.3,
                )
                pop.relate(owner, hold, "ownership", round(0.75 + 0.25 * u(), 2))
                pop.relate(hold, idx, "ownership", round(0.7 + 0.3 * u(), 2))
            else:
                pop.relate(owner, idx, "ownership", round(0.5 + 0.5 * u(), 2))
        else:
            pop.relate(owner, idx, "ownership", round(0.2 + 0.29 * u(), 2))  # a large minority stake
            pop.relate(mk.person(cc), idx, "ownership", 0.5)


def _scheme_vehicles(u: Uniforms, pop: Population, mk: _Maker, n: int) -> None:
    """Fronts around listed parties, third-country shells, forwarders, new traders and payers."""
    listed = pop.pool("listed").tolist()
    listed_directors: dict[int, list[int]] = {}
    for s, d, k in zip(pop.rel_src, pop.rel_dst, pop.rel_kind, strict=True):
        if k == "directorship" and pop.role[d] == "listed":
            listed_directors.setdefault(d, []).append(s)
    n_front = max(10, int(n * 0.22))
    for _ in range(n_front):
        patron = u.pick(listed)
        pc = pop.country[patron]
        if u.chance(0.1):
            cc = u.pick(("US", "DE", "GB", "NL", "FR"))  # domestic front that re-exports
        elif u.chance(0.5):
            cc = pc
        else:
            cc = u.pick(_SHELL_HUBS)
        share_addr = cc == pc and u.chance(0.5)
        idx = mk.company(
            cc,
            u.pick(("electronics", "trading", "instruments")),
            "front",
            incorporated=_new_day(u) if u.chance(0.7) else _age_days(u),
            web_p=0.35,
            address_kind="agent" if cc in _SHELL_HUBS and u.chance(0.5) else "own",
            foreign_phone_p=0.3,
        )
        pop.patron[idx] = patron
        links = 0
        if share_addr and pop.address[patron] is not None:
            pop.address[idx] = pop.address[patron]
            links += 1
        if u.chance(0.55) and pop.phone[patron] is not None:
            pop.phone[idx] = pop.phone[patron]
            links += 1
        if u.chance(0.2) and pop.email[patron] is not None:
            pop.email[idx] = pop.email[patron]
            links += 1
        if u.chance(0.5) or links == 0:
            director = u.pick(listed_directors.get(patron) or [mk.person(pc)])
            pop.relate(director, idx, "directorship")
            if patron not in listed_directors:
                pop.relate(director, patron, "directorship")
        if u.chance(0.3):
            # Name echoes the patron (as with an alias used on purchase orders).
            stem = pop.latin[patron].replace('"', "").split()
            base = stem[1] if len(stem) > 1 and stem[0] in ("OOO", "AO", "LLC", "CJSC", "JSC") else stem[0]
            word = u.pick(("Trading", "Technology", "Supply", "Electronics", "Components"))
            new = f"{base} {word} {u.pick(vocab.LEGAL_FORMS.get(cc, ('Ltd.',)))}"
            if new not in mk.names_seen:
                mk.names_seen.add(new)
                pop.name[idx] = new
                pop.latin[idx] = new
    n_shell = max(10, int(n * 0.2))
    for _ in range(n_shell):
        cc = u.pick(_SHELL_HUBS)
        idx = mk.company(
            cc,
            "trading",
            "shell",
            incorporated=_new_day(u) if u.chance(0.7) else _age_days(u),
            web_p=0.15,
            address_kind="agent" if u.chance(0.85) else "residential",
            business_type=u.pick(("trading_company", "trading_company", "other", "distributor")),
            foreign_phone_p=0.3,
        )
        if u.chance(0.3) and listed:
            patron = u.pick(listed)
            for director in listed_directors.get(patron, [])[:1]:
                pop.relate(director, idx, "directorship")
    for _ in range(max(5, int(n * 0.12))):
        cc = u.pick(_SHELL_HUBS)
        mk.company(
            cc,
            "logistics",
            "bad_forwarder",
            incorporated=_new_day(u) if u.chance(0.5) else _age_days(u),
            web_p=0.5,
            address_kind="agent" if u.chance(0.4) else "own",
            business_type="freight_forwarder",
            foreign_phone_p=0.3,
        )
    for _ in range(max(5, int(n * 0.16))):
        cc = u.pick((*_SHELL_HUBS, "CN", "CN", "IN", "TH", "VN", "MY", "ID", "EG", "PK", "AZ", "MN", "SA"))
        mk.company(
            cc,
            u.pick(("electronics", "trading")),
            "new_trader",
            incorporated=_new_day(u),
            web_p=0.15,
            address_kind="residential" if u.chance(0.3) else ("agent" if u.chance(0.3) else "own"),
            business_type=u.pick(("trading_company", "distributor", "other")),
            foreign_phone_p=0.3,
        )
    for _ in range(max(5, int(n * 0.1))):
        cc = u.pick((*_SHELL_HUBS, "CN", "RU", "RU", "RU", "BY", "BY", "IR", "VN", "TH"))
        mk.company(
            cc,
            u.pick(("electronics", "trading")),
            "split_trader",
            incorporated=_new_day(u) if u.chance(0.5) else _age_days(u),
            web_p=0.4,
            business_type=u.pick(("trading_company", "distributor")),
            foreign_phone_p=0.3,
        )
    for _ in range(max(5, int(n * 0.08))):
        cc = u.pick(("HK", "AE", "TR", "CY", "SG", "KZ", "AM", "GE"))
        mk.company(
            cc,
            "trading",
            "payer_shell",
            incorporated=_new_day(u) if u.chance(0.6) else _age_days(u),
            web_p=0.2,
            address_kind="agent" if u.chance(0.7) else "own",
            foreign_phone_p=0.3,
        )
    # Honest trading houses that pay for others (a common, legitimate pattern).
    for _ in range(max(5, int(n * 0.1))):
        cc = u.pick(("HK", "SG", "AE", "CH", "NL", "GB", "CY"))
        mk.company(cc, "trading", "payer_house", incorporated=_age_days(u), web_p=0.9)
