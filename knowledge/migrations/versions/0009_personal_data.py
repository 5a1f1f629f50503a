"""personal data: the lease of the daily retention run, and forgotten conversations still to anonymise

Revision ID: 0008_personal_data
Revises: 0007_console_session
Create Date: 2026-11-30 14:00:00

Farmers' personal data is kept only PERSONAL_DATA_RETENTION_DAYS (knowledge/privacy/): the daily run
that anonymises older data claims its due time in `scheduled_run`, so several gateway processes run it
once; a farmer forgotten from the console, which never writes Rasa's tracker store, waits in
`conversation_erasure` until the gateway's scheduler anonymises that conversation.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_personal_data'
down_revision = '0007_console_session'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduled_run',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('done_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduled_run'))
    )
    op.create_table('conversation_erasure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.String(length=255), nullable=False),
    sa.Column('new_sender_id', sa.String(length=255), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_erasure'))
    )


def downgrade() -> None:
    op.drop_table('conversation_erasure')
    op.drop_table('scheduled_run')
