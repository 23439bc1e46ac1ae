"""Retention and certificate expiry: when an envelope's body was purged (``envelopes.purged_at``;
the body is then empty, its size, hash and metadata kept), and when the certificate that listed a
key expires (``participant_keys.expires_at``; null for certificates without ``exp``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("envelopes", sa.Column("purged_at", sa.BigInteger(), nullable=True))
    op.add_column("participant_keys", sa.Column("expires_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participant_keys") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("envelopes") as batch:
        batch.drop_column("purged_at")
