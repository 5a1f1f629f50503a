"""login throttle: failed sign-ins counted per username and per client address in the database

Revision ID: 0006_login_throttle
Revises: 0005_catalog_version
Create Date: 2026-11-28 10:00:00

The lock-out moves from account.failed_logins/locked_until (read, then written, by each attempt, and
only for usernames that exist) to login_throttle, which counts with UPDATE … failures + 1 per
username and per client address. Locks still running are carried over.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_login_throttle'
down_revision = '0005_catalog_version'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_updated_at'), ['updated_at'], unique=False)
    op.execute("INSERT INTO login_throttle (key, failures, blocked_until, updated_at) "
               "SELECT 'user:' || username, 0, locked_until, locked_until FROM account WHERE locked_until IS NOT NULL")
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_updated_at'))
    op.drop_table('login_throttle')
