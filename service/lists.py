"""Screening lists in the database: replace one list's entries and its ownership edges in one transaction.

``import_list`` writes what ``graphs.listfiles.parse_list_file`` read: a ``ScreeningList`` row, one
``ListEntry`` per record (``id = "{list}:{entry_id}"``) and, for every parent a record names, an
``ownership`` ``Relationship`` from the parent to the entry. A parent is resolved by its normalised name
against the names and aliases of the same import, then of the other loaded lists; a parent that is no
entry becomes an ``Entity`` (source ``list``, id ``"{list}:parent:{slug}"``) so every edge has both ends.
Importing a list again replaces all of this; a failed import leaves the database as it was.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, col

from features.reference import countries
from graphs.listfiles import name_key, parse_list_file, slug
from graphs.records import ListRecord
from service.db import migrate, session_scope
from service.logging import get_logger
from service.tables import Entity, EntityIdentifier, ListEntry, Relationship, ScreeningList

__all__ = [
    "ImportSummary",
    "ListImportError",
    "import_list",
    "import_list_file",
    "loaded_lists",
    "reference_countries",
]

log = get_logger(__name__)

# Ids and edge sources embed the list name: "list:{name}" must fit Relationship.source (32 characters).
_LIST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,26}")
_ENTITY_ID_MAX = 80


class ListImportError(ValueError):
    """A list that cannot be stored as given (bad list name, duplicate entry ids, values too long)."""


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What one import stored."""

    list_name: str
    format: str
    entries: int
    aliases: int
    addresses: int
    phones: int
    emails: int
    websites: int
    registration_ids: int
    replaced: int  # entries the list had before
    parent_links: int  # ownership edges written
    parents_in_list: int  # ... whose parent is an entry of this list
    parents_other_lists: int  # ... whose parent is an entry of another loaded list
    parents_unresolved: int  # ... whose parent is no entry: it became an Entity row
    parent_entities: int  # Entity rows created for those parents

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        return (
            f"list {self.list_name} ({self.format}): {self.entries} entries, {self.aliases} aliases, "
            f"{self.addresses} addresses, {self.phones} phones, {self.emails} e-mails, "
            f"{self.websites} websites, {self.registration_ids} ids; {self.parent_links} parent links "
            f"({self.parents_in_list} within the list, {self.parents_other_lists} to other lists, "
            f"{self.parents_unresolved} to "
            f"{self.parent_entities} new parent entities); replaced {self.replaced} entries"
        )


def reference_countries() -> dict[str, str]:
    """The product's country table as ``{iso2: name}``, for reading countries from list files."""
    return {code: country.name for code, country in countries().items()}


def import_list_file(
    *, url: str, path: Path, fmt: str, list_name: str, mapping: Mapping[str, str] | None = None
) -> ImportSummary:
    """Parse ``path`` (raises ``graphs.listfiles.ListFileError`` before any write) and import it."""
    _check_name(list_name)
    records = parse_list_file(path, fmt, list_name, dict(mapping or {}), countries=reference_countries())
    return import_list(url=url, records=records, list_name=list_name, fmt=fmt, source_file=str(path))


def loaded_lists(url: str) -> list[ScreeningList]:
    """The screening lists in the database, by name."""
    migrate(url)
    with session_scope(url) as session:
        rows = list(session.execute(select(ScreeningList).order_by(col(ScreeningList.name))).scalars())
        session.expunge_all()
        return rows


@dataclass(frozen=True, slots=True)
class _Candidate:
    entry_id: str  # ListEntry.id
    primary: bool  # matched its name, not an alias
    start: date
    order: int


def _index(rows: Sequence[tuple[str, str, Sequence[str], date | None]]) -> dict[str, list[_Candidate]]:
    """Normalised name -> entries that carry it as name or alias."""
    index: dict[str, list[_Candidate]] = {}
    for order, (entry_id, name, aliases, start) in enumerate(rows):
        for i, text in enumerate([name, *aliases]):
            key = name_key(text)
            if key:
                index.setdefault(key, []).append(_Candidate(entry_id, i == 0, start or date.min, order))
    return index


def _best(candidates: Sequence[_Candidate], child: str) -> str | None:
    """The entry a parent name means: by its own name before by alias, the latest listing, the first."""
    eligible = [c for c in candidates if c.entry_id != child]
    if not eligible:
        return None
    return min(eligible, key=lambda c: (not c.primary, -c.start.toordinal(), c.order)).entry_id


def _check_name(list_name: str) -> None:
    if not _LIST_NAME.fullmatch(list_name):
        raise ListImportError(
            f"bad list name {list_name!r}: use 1-27 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit"
        )


def _check(records: Sequence[ListRecord], list_name: str, fmt: str) -> None:
    _check_name(list_name)
    if not 0 < len(fmt) <= 16:
        raise ListImportError(f"bad format name {fmt!r}")
    for r in records:
        if r.list_name != list_name:
            raise ListImportError(f"entry {r.entry_id!r} belongs to list {r.list_name!r}, not {list_name!r}")
        if not r.entry_id or len(r.entry_id) > 128:
            raise ListImportError(f"entry id {r.entry_id!r} must have 1-128 characters")
        if len(r.name) > 500:
            raise ListImportError(f"entry {r.entry_id!r}: name longer than 500 characters")
        if r.country is not None and len(r.country) != 2:
            raise ListImportError(f"entry {r.entry_id!r}: country {r.country!r} is not an ISO alpha-2 code")
        if len(r.kind) > 16:
            raise ListImportError(f"entry {r.entry_id!r}: kind {r.kind!r} is longer than 16 characters")


def _entry_row(r: ListRecord, list_name: str) -> dict[str, Any]:
    return {
        "id": f"{list_name}:{r.entry_id}",
        "list_name": list_name,
        "entry_id": r.entry_id,
        "name": r.name,
        "kind": r.kind,
        "country": r.country,
        "aliases": list(r.aliases),
        "addresses": list(r.addresses),
        "phones": list(r.phones),
        "emails": list(r.emails),
        "websites": list(r.websites),
        "registration_ids": list(r.registration_ids),
        "parent_names": list(r.parent_names),
        "programs": r.programs,
        "start_date": r.start_date,
        "entity_id": None,
    }


def _clear(session: Session, list_name: str) -> int:
    """Delete what an earlier import of the list wrote; returns how many entries it had."""
    prefix = f"{list_name}:parent:"
    parents = select(col(Entity.id)).where(
        col(Entity.source) == "list", col(Entity.id).startswith(prefix, autoescape=True)
    )
    session.execute(delete(EntityIdentifier).where(col(EntityIdentifier.entity_id).in_(parents)))
    session.execute(delete(Relationship).where(col(Relationship.source) == f"list:{list_name}"))
    session.execute(
        delete(Entity).where(col(Entity.source) == "list", col(Entity.id).startswith(prefix, autoescape=True))
    )
    old = session.execute(delete(ListEntry).where(col(ListEntry.list_name) == list_name))
    session.execute(delete(ScreeningList).where(col(ScreeningList.name) == list_name))
    return int(getattr(old, "rowcount", 0) or 0)


@dataclass
class _Links:
    edges: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    in_list: int = 0
    other_lists: int = 0
    unresolved: int = 0


def _parent_links(session: Session, records: Sequence[ListRecord], list_name: str) -> _Links:
    """Ownership edges parent -> entry for every parent name, creating Entity rows for unknown parents."""
    own = _index([(f"{list_name}:{r.entry_id}", r.name, r.aliases, r.start_date) for r in records])
    others: dict[str, list[_Candidate]] | None = None
    links = _Links(edges=[], entities=[])
    created: dict[str, str] = {}  # name key -> Entity id
    now = datetime.now(UTC)
    prefix = f"{list_name}:parent:"
    for r in records:
        child = f"{list_name}:{r.entry_id}"
        if r.parent_names and len(child) > _ENTITY_ID_MAX:
            raise ListImportError(
                f"entry {r.entry_id!r} names a parent, but its id {child!r} is longer than the "
                f"{_ENTITY_ID_MAX} characters an ownership edge can hold; use a shorter list name or entry id"
            )
        for parent in r.parent_names:
            key = name_key(parent)
            src = _best([c for c in own.get(key, []) if len(c.entry_id) <= _ENTITY_ID_MAX], child)
            if src is not None:
                links.in_list += 1
            else:
                if others is None:  # other lists are read once, and only when needed
                    rows = session.execute(
                        select(
                            col(ListEntry.id),
                            col(ListEntry.name),
                            col(ListEntry.aliases),
                            col(ListEntry.start_date),
                        ).where(col(ListEntry.list_name) != list_name)
                    ).all()
                    others = _index([(row[0], row[1], row[2], row[3]) for row in rows])
                src = _best([c for c in others.get(key, []) if len(c.entry_id) <= _ENTITY_ID_MAX], child)
                if src is not None:
                    links.other_lists += 1
                else:
                    links.unresolved += 1
                    if key not in created:
                        if len(parent) > 300:
                            raise ListImportError(
                                f"entry {r.entry_id!r}: parent name longer than 300 characters"
                            )
                        created[key] = prefix + slug(key or parent, _ENTITY_ID_MAX - len(prefix))
                        links.entities.append(
                            {
                                "id": created[key],
                                "kind": "company",
                                "name": parent,
                                "source": "list",
                                "created_at": now,
                            }
                        )
                    src = created[key]
            links.edges.append(
                {
                    "src_id": src,
                    "dst_id": child,
                    "kind": "ownership",
                    "share": None,
                    "source": f"list:{list_name}",
                }
            )
    return links


def _duplicates(records: Sequence[ListRecord]) -> list[str]:
    return sorted(entry_id for entry_id, n in Counter(r.entry_id for r in records).items() if n > 1)


def import_list(
    *, url: str, records: Sequence[ListRecord], list_name: str, fmt: str, source_file: str
) -> ImportSummary:
    """Replace list ``list_name`` with ``records`` (and its ownership edges) in one transaction.

    Raises ``ListImportError`` (nothing written) for a bad list name, values too long for their columns,
    or entry ids that repeat within the list (the database refuses them and the import rolls back).
    """
    _check(records, list_name, fmt)
    migrate(url)
    with session_scope(url) as session:
        replaced = _clear(session, list_name)
        session.add(ScreeningList(name=list_name, format=fmt, source_file=source_file, entries=len(records)))
        session.flush()
        links = _parent_links(session, records, list_name)
        try:
            if records:
                session.execute(insert(ListEntry), [_entry_row(r, list_name) for r in records])
            if links.entities:
                session.execute(insert(Entity), links.entities)
            if links.edges:
                session.execute(insert(Relationship), links.edges)
            session.flush()
        except (IntegrityError, DataError) as exc:
            duplicates = _duplicates(records)
            if duplicates:
                shown = ", ".join(repr(d) for d in duplicates[:5]) + (" ..." if len(duplicates) > 5 else "")
                raise ListImportError(
                    f"list {list_name}: entry ids repeat within the file ({len(duplicates)}: {shown}); "
                    "nothing was imported"
                ) from exc
            raise ListImportError(f"list {list_name}: the database refused the import: {exc.orig}") from exc
    summary = ImportSummary(
        list_name=list_name,
        format=fmt,
        entries=len(records),
        aliases=sum(len(r.aliases) for r in records),
        addresses=sum(len(r.addresses) for r in records),
        phones=sum(len(r.phones) for r in records),
        emails=sum(len(r.emails) for r in records),
        websites=sum(len(r.websites) for r in records),
        registration_ids=sum(len(r.registration_ids) for r in records),
        replaced=replaced,
        parent_links=len(links.edges),
        parents_in_list=links.in_list,
        parents_other_lists=links.other_lists,
        parents_unresolved=links.unresolved,
        parent_entities=len(links.entities),
    )
    log.info("list imported", **asdict(summary))
    return summary
