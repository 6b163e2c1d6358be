"""Runtime settings: one typed object, read from ``CATCHALL_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Every knob of the service; each field is ``CATCHALL_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="CATCHALL_", extra="ignore")

    # Data directory: the SQLite database, worlds, model bundles and graph snapshots live below it.
    home: Path = Field(default=Path("./var"))
    # SQLAlchemy URL; empty means a SQLite file under ``home``. PostgreSQL: postgresql+psycopg://...
    database_url: str = ""
    # Log format: "console" for people at a terminal, "json" for production log collectors.
    log_format: Literal["console", "json"] = "console"
    # Minimum level that is logged.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Seed and size of the default world that ``serve`` builds on an empty home.
    default_seed: int = 1
    default_shipments: int = 200_000
    # Share of shipments analysts can review; sets the review threshold of a trained model.
    review_rate: float = Field(default=0.05, gt=0.0, lt=1.0)
    # Share of cleared shipments sampled for audit so that misses can be measured.
    audit_rate: float = Field(default=0.01, ge=0.0, le=1.0)
    # Largest accepted request body, in bytes (413 above it).
    max_body_bytes: int = Field(default=1 << 20, gt=0)

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError("use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB")
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL in force: the configured one, or the home's SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'catchall.db').resolve()}"

    @property
    def worlds_dir(self) -> Path:
        """Where generated worlds are kept."""
        return self.home / "worlds"

    @property
    def models_dir(self) -> Path:
        """Where model bundles are kept."""
        return self.home / "models"

    @property
    def graph_dir(self) -> Path:
        """Where the relationship graph snapshot is kept."""
        return self.home / "graph"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return Settings()
