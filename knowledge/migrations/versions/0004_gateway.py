"""gateway: push outbox, push cursor, chat callbacks, price_record.updated_at index

Revision ID: 0003_gateway
Revises: 0003_console
Create Date: 2026-11-22 23:40:00

The messenger gateway's own state: every push it sends (one row per logical push, claimed in a
transaction so two gateway processes never send the same one), how far it has read the price
table, and the meaning of Telegram buttons whose payload does not fit in 64 bytes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_gateway'
down_revision = '0003_console'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('push',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('push_key', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('farmer_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('handoff_ticket_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=256), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['farmer_id'], ['farmer.id'], name=op.f('fk_push_farmer_id_farmer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handoff_ticket_id'], ['handoff_ticket.id'], name=op.f('fk_push_handoff_ticket_id_handoff_ticket'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], name=op.f('fk_push_subscription_id_subscription'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push')),
    sa.UniqueConstraint('push_key', name=op.f('uq_push_push_key'))
    )
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_farmer_id'), ['farmer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_subscription_id'), ['subscription_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_handoff_ticket_id'), ['handoff_ticket_id'], unique=False)
        batch_op.create_index('ix_push_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('push_cursor',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('position', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_push_cursor'))
    )
    op.create_table('chat_callback',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_chat_callback'))
    )
    with op.batch_alter_table('chat_callback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_callback_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('price_record', schema=None) as batch_op:
        batch_op.create_index('ix_price_record_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('price_record', schema=None) as batch_op:
        batch_op.drop_index('ix_price_record_updated_at')

    with op.batch_alter_table('chat_callback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_callback_created_at'))

    op.drop_table('chat_callback')
    op.drop_table('push_cursor')
    with op.batch_alter_table('push', schema=None) as batch_op:
        batch_op.drop_index('ix_push_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_push_handoff_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_push_subscription_id'))
        batch_op.drop_index(batch_op.f('ix_push_farmer_id'))

    op.drop_table('push')
