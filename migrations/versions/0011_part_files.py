"""Attachment parts as files beside an SQLite database: ``upload_parts.file`` names a part's file
(its ``data`` is then empty); see hub/storage/part_files.py. PostgreSQL keeps every part in
``data``. A downgrade first copies the files' bytes back into ``data``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("upload_parts") as batch:
        batch.add_column(sa.Column("file", sa.Text(), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT upload_id, position, file FROM upload_parts WHERE file IS NOT NULL")
    ).fetchall()
    if rows:
        database = Path(str(bind.engine.url.database))
        folder = database.with_name(database.name + "-parts")
        for upload_id, position, file in rows:
            data = (folder / upload_id / file).read_bytes()
            bind.execute(
                sa.text(
                    "UPDATE upload_parts SET data = :data WHERE upload_id = :u AND position = :p"
                ),
                {"data": data, "u": upload_id, "p": position},
            )
    with op.batch_alter_table("upload_parts") as batch:
        batch.drop_column("file")
