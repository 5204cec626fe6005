"""Reminders (preferences, keyed sends, in-app notices) and Open Badges 3.0 credentials.

Revision ID: 0004_reminders_badges
Revises: 0003_role_sources
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import practicum.lms_api.db.types

revision = "0004_reminders_badges"
down_revision = "0003_role_sources"
branch_labels = None
depends_on = None

UTC_DATETIME = practicum.lms_api.db.types.UtcDateTime(timezone=True)


def _person_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["person_id"], ["people.id"], name=op.f(f"fk_{table}_person_id_people"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "reminder_preferences",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("quiet_start_hour", sa.Integer(), nullable=True),
        sa.Column("quiet_end_hour", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        _person_fk("reminder_preferences"),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_reminder_preferences")),
    )
    op.create_table(
        "reminders",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("claimed_at", UTC_DATETIME, nullable=True),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        _person_fk("reminders"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reminders")),
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminders_person_id"), ["person_id"], unique=False)
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("read_at", UTC_DATETIME, nullable=True),
        _person_fk("notices"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_person_id"), ["person_id"], unique=False)
    op.create_table(
        "badges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=100), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("issued_at", UTC_DATETIME, nullable=False),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.Column("revocation_reason", sa.String(length=500), nullable=True),
        _person_fk("badges"),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"], name=op.f("fk_badges_result_id_results"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
        sa.UniqueConstraint("result_id", name=op.f("uq_badges_result_id")),
    )
    with op.batch_alter_table("badges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_badges_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    for table in ("badges", "notices", "reminders", "reminder_preferences"):
        op.drop_table(table)
