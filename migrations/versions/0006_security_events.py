"""Security events (refusals counted per actor, reason and minute, outside the transparency log),
the per-participant submission counters every hub process shares, and the outcome of a stored
receipt (so the same receipt posted again gets the first answer).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "security_events",
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor_kind", sa.Text(), nullable=False),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.BigInteger(), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "actor_kind IN ('participant', 'address')",
            name=op.f("ck_security_events_actor_kind"),
        ),
        sa.CheckConstraint("count > 0", name=op.f("ck_security_events_count_positive")),
        sa.PrimaryKeyConstraint(
            "window_start", "actor", "code", "action", name=op.f("pk_security_events")
        ),
    )
    op.create_index(
        "ix_security_events_country_window_start",
        "security_events",
        ["country", "window_start"],
        unique=False,
    )
    op.create_table(
        "submission_counters",
        sa.Column("participant_id", sa.Text(), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "participant_id", "window_start", name=op.f("pk_submission_counters")
        ),
    )
    op.create_index(
        "ix_submission_counters_window_start",
        "submission_counters",
        ["window_start"],
        unique=False,
    )
    op.add_column("receipts", sa.Column("state_changed", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("state_changed")
    op.drop_index("ix_submission_counters_window_start", table_name="submission_counters")
    op.drop_table("submission_counters")
    op.drop_index("ix_security_events_country_window_start", table_name="security_events")
    op.drop_table("security_events")
