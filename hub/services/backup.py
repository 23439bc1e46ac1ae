"""Backups and restores of the hub's database, as ``pgs backup`` and ``pgs restore`` reach them
(the CLI does not import the storage layer; hub.storage.backup does the copying)."""

from __future__ import annotations

from pgs_hub.hub.storage.backup import (
    backup,
    commit_sqlite,
    kind_of,
    restore_postgresql,
    stage_sqlite,
)
from pgs_hub.hub.storage.tables import metadata

__all__ = [
    "backup",
    "commit_sqlite",
    "kind_of",
    "restore_postgresql",
    "stage_sqlite",
    "table_count",
]


def table_count() -> int:
    """How many tables the hub's schema has (the progress of a PostgreSQL dump or restore)."""
    return len(metadata.tables)
