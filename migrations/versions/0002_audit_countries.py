"""Audit records name every country they involve (sender's and recipients'), so a country-scoped
auditor sees an exchange from either side.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_record_countries",
        sa.Column("seq", SERIAL, nullable=False),
        sa.Column("country", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", "country", name=op.f("pk_audit_record_countries")),
        sa.ForeignKeyConstraint(
            ["seq"],
            ["audit_records.seq"],
            name=op.f("fk_audit_record_countries_seq_audit_records"),
        ),
    )
    op.create_index(
        op.f("ix_audit_record_countries_country_seq"), "audit_record_countries", ["country", "seq"]
    )
    # Existing records involve at least the actor's country.
    op.execute(
        "INSERT INTO audit_record_countries (seq, country) "
        "SELECT seq, country FROM audit_records WHERE country IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_audit_record_countries_country_seq"), table_name="audit_record_countries"
    )
    op.drop_table("audit_record_countries")
