"""The catalog says how a course is joined (self-enrolment or roster only) and each item's expected hours.

Revision ID: 0005_catalog_hours_enrolment
Revises: 0004_reminders_badges
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_catalog_hours_enrolment"
down_revision = "0004_reminders_badges"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Courses stored before this revision keep the old rule: only an admin or the hub group enrols.
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrolment", sa.String(length=20), server_default="roster", nullable=False))
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hours", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.drop_column("hours")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_column("enrolment")
