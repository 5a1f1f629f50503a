"""console sessions: a row per signed-in session, so signing out and a password change revoke every copy of a cookie

Revision ID: 0007_console_session
Revises: 0006_login_throttle
Create Date: 2026-11-28 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_console_session'
down_revision = '0006_login_throttle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('console_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_console_session_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_console_session_token_hash'))
    )
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_session_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_session_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('console_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_session_expires_at'))
        batch_op.drop_index(batch_op.f('ix_console_session_account_id'))
    op.drop_table('console_session')
