"""Events and shows: the first schema.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "shows",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("ended_at", sa.Double, nullable=True),
    )
    op.create_table(
        "events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("show", sa.String(64), nullable=True),
        sa.Column("session", sa.String(64), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("product", sa.String(64), nullable=True),
        sa.Column("shade", sa.String(64), nullable=True),
        sa.Column("dwell_s", sa.Double, nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("text", sa.Text, nullable=True),
    )
    op.create_index("ix_events_show_at", "events", ["show", "at"])
    op.create_index("ix_events_show_product", "events", ["show", "product"])
    op.create_index("ix_events_at", "events", ["at"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("shows")
