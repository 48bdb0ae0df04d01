"""case search index (SQLite FTS5 trigram / PostgreSQL pg_trgm), stage tally, list indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel.sql.sqltypes
from alembic import op

from models import search

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_stage_tally',
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('coordinator_key', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('stage', 'coordinator_key')
    )
    op.create_index('ix_meeting_attendee_staff_id', 'meeting_attendee', ['staff_id'], unique=False)
    op.create_index('ix_person_name', 'person', ['name'], unique=False)
    op.create_index('ix_person_kana', 'person', ['kana'], unique=False)
    op.create_index('ix_household_dv_protected', 'household', ['id'], unique=False,
                    sqlite_where=sa.text('dv_protected = 1'), postgresql_where=sa.text('dv_protected'))
    op.create_index('ix_case_coordinator_stage_monitoring', 'case',
                    ['coordinator_id', 'stage', 'next_monitoring_on', 'overdue'], unique=False)
    op.create_index('ix_case_stage', 'case', ['stage'], unique=False)
    op.create_index('ix_case_coordinator_id', 'case', ['coordinator_id'], unique=False)
    op.create_index('ix_case_stage_monitoring', 'case', ['stage', 'next_monitoring_on', 'overdue'], unique=False)
    op.create_index('ix_case_overdue_mark', 'case', ['overdue', 'stage', 'next_monitoring_on'], unique=False,
                    sqlite_where=sa.text('overdue = 1'), postgresql_where=sa.text('overdue'))
    op.create_index('ix_case_overdue_mark_coordinator', 'case',
                    ['overdue', 'coordinator_id', 'stage', 'next_monitoring_on'],
                    unique=False, sqlite_where=sa.text('overdue = 1'), postgresql_where=sa.text('overdue'))
    # FTS5 table and triggers (SQLite) or GIN trigram indexes (PostgreSQL), the tally's triggers,
    # the existing cases indexed and counted: models/search.py, the same DDL `create_all` runs.
    search.install(op.get_bind(), fill=True)


def downgrade() -> None:
    search.uninstall(op.get_bind())
    op.drop_index('ix_case_overdue_mark_coordinator', table_name='case')
    op.drop_index('ix_case_overdue_mark', table_name='case')
    op.drop_index('ix_case_stage_monitoring', table_name='case')
    op.drop_index('ix_case_coordinator_id', table_name='case')
    op.drop_index('ix_case_stage', table_name='case')
    op.drop_index('ix_case_coordinator_stage_monitoring', table_name='case')
    op.drop_index('ix_household_dv_protected', table_name='household')
    op.drop_index('ix_person_kana', table_name='person')
    op.drop_index('ix_person_name', table_name='person')
    op.drop_index('ix_meeting_attendee_staff_id', table_name='meeting_attendee')
    op.drop_table('case_stage_tally')
