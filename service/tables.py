"""SQLModel tables. API schemas live apart from these (``service.api.schemas``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["Entity", "EntityIdentifier", "ListEntry", "Relationship", "ScreeningList"]


def utcnow() -> datetime:
    """The current time, timezone-aware (SQLModel rejects naive datetimes)."""
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, **kw))


class Entity(SQLModel, table=True):
    """A company or person: from a world, a screening list, or a scored shipment's parties."""

    __tablename__ = "entity"

    id: str = Field(primary_key=True, max_length=80)
    kind: str = Field(max_length=16)  # company | person
    name: str = Field(max_length=300)
    country: str | None = Field(default=None, max_length=2)
    address: str | None = None
    phone: str | None = Field(default=None, max_length=50)
    email: str | None = Field(default=None, max_length=254)
    website: str | None = Field(default=None, max_length=300)
    registration_id: str | None = Field(default=None, max_length=100)
    incorporated_on: date | None = None
    business_type: str | None = Field(default=None, max_length=32)
    source: str = Field(max_length=32, index=True)  # world | list | shipment
    created_at: datetime = _ts()


class EntityIdentifier(SQLModel, table=True):
    """A normalised identifier (address, phone, e-mail, website domain, registration id) of an entity."""

    __tablename__ = "entity_identifier"
    __table_args__ = (
        UniqueConstraint("entity_id", "kind", "value", name="uq_entity_identifier"),
        Index("ix_entity_identifier_kind_value", "kind", "value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_id: str = Field(foreign_key="entity.id", max_length=80, index=True)
    kind: str = Field(max_length=16)  # address | phone | email | website | registration
    value: str = Field(max_length=500)


class Relationship(SQLModel, table=True):
    """A directed edge between entities: ownership (with share), directorship, subsidiary, traded_with."""

    __tablename__ = "relationship"
    __table_args__ = (Index("ix_relationship_src_dst", "src_id", "dst_id"),)

    id: int | None = Field(default=None, primary_key=True)
    src_id: str = Field(max_length=80)
    dst_id: str = Field(max_length=80, index=True)
    kind: str = Field(max_length=24)
    share: float | None = None
    count: int | None = None
    first_date: date | None = None
    last_date: date | None = None
    source: str = Field(max_length=32)


class ScreeningList(SQLModel, table=True):
    """A loaded screening list."""

    __tablename__ = "screening_list"

    name: str = Field(primary_key=True, max_length=64)
    format: str = Field(max_length=16)
    source_file: str | None = None
    entries: int = 0
    imported_at: datetime = _ts()


class ListEntry(SQLModel, table=True):
    """One entry of a screening list, with everything it says about the party."""

    __tablename__ = "list_entry"
    __table_args__ = (UniqueConstraint("list_name", "entry_id", name="uq_list_entry"),)

    id: str = Field(primary_key=True, max_length=200)  # "{list_name}:{entry_id}"
    list_name: str = Field(foreign_key="screening_list.name", max_length=64, index=True)
    entry_id: str = Field(max_length=128)
    name: str = Field(max_length=500)
    kind: str = Field(default="company", max_length=16)
    country: str | None = Field(default=None, max_length=2)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    addresses: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    phones: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    emails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    websites: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    registration_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    parent_names: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    programs: str | None = None
    start_date: date | None = None
    entity_id: str | None = Field(default=None, max_length=80)
