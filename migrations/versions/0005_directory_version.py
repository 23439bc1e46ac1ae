"""The directory version: one row that every change to participants or their keys moves on, so
each hub process can cache the directory and know, with one primary-key read, whether it is
still current (``hub/services/directory_cache.py``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-11
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("stamp", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_version")),
        sa.CheckConstraint("id = 1", name=op.f("ck_directory_version_single_row")),
        sa.CheckConstraint("length(stamp) = 16", name=op.f("ck_directory_version_stamp_length")),
    )
    # A random first stamp: a database dropped and migrated again never looks like the old one
    # to a cache that outlived it.
    op.get_bind().execute(
        sa.text("INSERT INTO directory_version (id, version, stamp) VALUES (1, 0, :stamp)"),
        {"stamp": os.urandom(16)},
    )


def downgrade() -> None:
    op.drop_table("directory_version")
