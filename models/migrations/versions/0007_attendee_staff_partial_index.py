"""meeting_attendee.staff_id: a partial index of the staff attendees only

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_meeting_attendee_staff_id', table_name='meeting_attendee')
    op.create_index('ix_meeting_attendee_staff_id', 'meeting_attendee', ['staff_id'], unique=False,
                    sqlite_where=sa.text('staff_id IS NOT NULL'),
                    postgresql_where=sa.text('staff_id IS NOT NULL'))
    # A database whose planner statistics were gathered (ANALYZE) gets them for the new index
    # too; one never analyzed is left to SQLite's defaults, as before.
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.execute(
        sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    ).first():
        op.execute('ANALYZE meeting_attendee')


def downgrade() -> None:
    op.drop_index('ix_meeting_attendee_staff_id', table_name='meeting_attendee')
    op.create_index('ix_meeting_attendee_staff_id', 'meeting_attendee', ['staff_id'], unique=False)
