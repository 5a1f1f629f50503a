"""deferred messages: farmers' messages kept until Rasa has capacity to answer them

Revision ID: 0010_deferred_message
Revises: 0009_price_feeds
Create Date: 2026-11-30 15:00:00

Under load the gateway answers a message it cannot get through Rasa in time with "we will answer
shortly" and keeps it here; its drain answers it when capacity returns and pushes the answer through
the outbox (`push`), once and in order per farmer.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_deferred_message'
down_revision = '0009_price_feeds'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deferred_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('farmer_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('message_metadata', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=256), nullable=True),
    sa.ForeignKeyConstraint(['farmer_id'], ['farmer.id'], name=op.f('fk_deferred_message_farmer_id_farmer'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deferred_message'))
    )
    with op.batch_alter_table('deferred_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deferred_message_farmer_id'), ['farmer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deferred_message_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index('ix_deferred_message_status_next_attempt_at', ['status', 'next_attempt_at'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('deferred_message')
