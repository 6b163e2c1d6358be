"""suppressions of known false-positive list matches and their hash-chained history

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 21:48:18.984593
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "suppression",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("list_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entry_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("party_entity_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("party_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("party_name_norm", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("party_country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("exporter", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("exporter_norm", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("rationale", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("revoke_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_event_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("suppression", schema=None) as batch_op:
        batch_op.create_index("ix_suppression_list_entry", ["list_name", "entry_id"], unique=False)

    op.create_table(
        "suppression_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suppression_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["suppression_id"], ["suppression.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("suppression_id", "seq", name="uq_suppression_event_seq"),
    )
    _guard()


# The history is evidence like case events: the database refuses UPDATE and DELETE on it. A suppression
# itself is never deleted (only revoked), so DELETE is refused there too. PostgreSQL reuses 0002's
# catchall_append_only() function.
_SQLITE_TRIGGER = """
CREATE TRIGGER {table}_no_{verb} BEFORE {op} ON {table}
BEGIN SELECT RAISE(ABORT, '{message}'); END
"""
_PG_TRIGGER = (
    "CREATE TRIGGER {name} BEFORE {ops} ON {table} FOR EACH ROW EXECUTE FUNCTION catchall_append_only()"
)


def _guard() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            _PG_TRIGGER.format(
                name="suppression_event_append_only", ops="UPDATE OR DELETE", table="suppression_event"
            )
        )
        op.execute(_PG_TRIGGER.format(name="suppression_no_delete", ops="DELETE", table="suppression"))
    elif dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(
                _SQLITE_TRIGGER.format(
                    table="suppression_event",
                    verb=verb,
                    op=verb.upper(),
                    message="suppression_event is append-only",
                )
            )
        op.execute(
            _SQLITE_TRIGGER.format(
                table="suppression", verb="delete", op="DELETE", message="suppression is never deleted"
            )
        )


def _unguard() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS suppression_event_append_only ON suppression_event")
        op.execute("DROP TRIGGER IF EXISTS suppression_no_delete ON suppression")
    elif dialect == "sqlite":
        for name in ("suppression_event_no_update", "suppression_event_no_delete", "suppression_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def downgrade() -> None:
    """Revert this revision."""
    _unguard()
    op.drop_table("suppression_event")
    with op.batch_alter_table("suppression", schema=None) as batch_op:
        batch_op.drop_index("ix_suppression_list_entry")
    op.drop_table("suppression")
