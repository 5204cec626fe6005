"""Where a person's role came from (the hub sync removes only what it granted); delivery logs
reduced to status classes and generic reasons (they used to echo what answered).

Revision ID: 0003_role_sources
Revises: 0002_profiles_webhooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_role_sources"
down_revision = "0002_profiles_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Roles stored before this revision count as an admin's: the sync never removes them.
    with op.batch_alter_table("person_roles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=20), server_default="admin", nullable=False))
    op.execute("UPDATE webhook_deliveries SET status_code = (status_code / 100) * 100 WHERE status_code IS NOT NULL")
    for table, column in (("webhook_deliveries", "error"), ("outbox", "last_error")):
        op.execute(f"UPDATE {table} SET {column} = 'HTTP ' || substr({column}, 6, 1) || 'xx' WHERE {column} LIKE 'HTTP %'")
        op.execute(f"UPDATE {table} SET {column} = 'delivery failed' WHERE {column} IS NOT NULL AND {column} NOT LIKE 'HTTP %'")


def downgrade() -> None:
    with op.batch_alter_table("person_roles", schema=None) as batch_op:
        batch_op.drop_column("source")
