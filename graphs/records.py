"""Plain records exchanged between list parsers, the world and the relationship graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

__all__ = ["ListRecord"]


@dataclass(frozen=True, slots=True)
class ListRecord:
    """One screening-list entry as a parser reads it: every name and contact detail it gives.

    ``parent_names`` are owners named by the list (the DoD 1260H "Parent Name" column); they become
    ownership edges when the parent resolves to another entry or entity.
    """

    list_name: str
    entry_id: str
    name: str
    kind: str = "company"  # company | person | vessel | other
    country: str | None = None
    aliases: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    websites: tuple[str, ...] = ()
    registration_ids: tuple[str, ...] = ()
    parent_names: tuple[str, ...] = ()
    programs: str | None = None
    start_date: date | None = None
    extra: dict[str, str] = field(default_factory=dict)
