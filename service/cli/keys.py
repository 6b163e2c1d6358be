"""`catchall keys ...`: create, list and revoke API keys (stored hashed; a key is shown once)."""

from __future__ import annotations

import typer

from service import auth
from service.cli.common import fail, say
from service.db import migrate, session_scope
from service.errors import InvalidRequestError
from service.settings import get_settings

__all__ = ["app"]

app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)


@app.command()
def create(
    role: str = typer.Option(..., help="scorer, analyst, supervisor or admin."),
    name: str = typer.Option(..., help="Who uses the key (the user name in case histories)."),
) -> None:
    """Create an API key and print it as the last line of stdout (shown once, stored hashed)."""
    url = get_settings().resolved_database_url
    migrate(url)
    try:
        with session_scope(url) as session:
            row, token = auth.create_key(session=session, name=name, role=role)
            prefix, role_name = row.prefix, row.role
    except InvalidRequestError as exc:
        fail(exc.detail)
    say(f"created {role_name} key {prefix} for {name!r}; it is shown once, store it now:")
    say(token)


@app.command("list")
def list_() -> None:
    """List keys: prefix, role, name, created, revoked (never the key itself)."""
    url = get_settings().resolved_database_url
    migrate(url)
    with session_scope(url) as session:
        for row in auth.list_keys(session=session):
            revoked = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
            say(f"{row.prefix}  {row.role:<10}  {row.name:<24}  {row.created_at:%Y-%m-%d %H:%M}  {revoked}")


@app.command()
def revoke(prefix: str = typer.Argument(..., help="The key's prefix, as `keys list` shows it.")) -> None:
    """Revoke a key: requests with it get 401 (within 10 s on running servers)."""
    url = get_settings().resolved_database_url
    migrate(url)
    try:
        with session_scope(url) as session:
            auth.revoke_key(session=session, prefix=prefix)
    except InvalidRequestError as exc:
        fail(exc.detail)
    say(f"revoked key {prefix}")
