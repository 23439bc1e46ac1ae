"""The audit trail becomes a tamper-evident Merkle log (RFC 9162): every record gets a log index
and the exact entry bytes that are hashed; completed subtree hashes, the append frontier and the
signed checkpoints are stored beside it.

Existing records are turned into entries in ``seq`` order, so a database upgraded from 0002 has a
complete log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pgs_hub.crypto.merkle import CompactRange, leaf_hash

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _entry(index: int, row: sa.Row[tuple[object, ...]], countries: list[str]) -> bytes:
    # The pgs-log/1 entry encoding (docs/audit-log.md), frozen here as of this revision.
    doc = {
        "v": 1,
        "index": index,
        "at": row.at,
        "event": row.event,
        "actor": row.actor,
        "subject": row.subject,
        "countries": sorted(countries),
        "details": json.loads(str(row.details)),
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("log_index", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("entry", sa.LargeBinary(), nullable=True))
        batch.create_unique_constraint(op.f("uq_audit_records_log_index"), ["log_index"])
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_nodes")),
    )
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_state")),
        sa.CheckConstraint("id = 1", name=op.f("ck_log_state_single_row")),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_log_checkpoints")),
    )
    bind = op.get_bind()
    state = CompactRange(0, ())
    rows = bind.execute(sa.text("SELECT * FROM audit_records ORDER BY seq")).fetchall()
    for index, row in enumerate(rows):
        countries = [
            str(c)
            for (c,) in bind.execute(
                sa.text("SELECT country FROM audit_record_countries WHERE seq = :seq"),
                {"seq": row.seq},
            )
        ]
        entry = _entry(index, row, countries)
        state, completed = state.append(leaf_hash(entry))
        bind.execute(
            sa.text("UPDATE audit_records SET log_index = :i, entry = :e WHERE seq = :seq"),
            {"i": index, "e": entry, "seq": row.seq},
        )
        for node in completed:
            bind.execute(
                sa.text("INSERT INTO log_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
                {"l": node.level, "i": node.index, "h": node.hash},
            )
    bind.execute(
        sa.text("INSERT INTO log_state (id, size, frontier) VALUES (1, :size, :frontier)"),
        {"size": state.size, "frontier": b"".join(state.hashes)},
    )
    with op.batch_alter_table("audit_records") as batch:
        batch.alter_column("log_index", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("entry", existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    op.drop_table("log_checkpoints")
    op.drop_table("log_state")
    op.drop_table("log_nodes")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_constraint(op.f("uq_audit_records_log_index"), type_="unique")
        batch.drop_column("entry")
        batch.drop_column("log_index")
