"""farmer attachments: voice messages, photos and files farmers sent, linked to handoff tickets

Revision ID: 0004_farmer_attachment
Revises: 0003_gateway
Create Date: 2026-11-23 10:00:00

The gateway notes every voice message, photo or file a farmer sends on Telegram (only Telegram's
file id and what it says about the file); a handoff ticket opened soon after takes them along, so
the officer sees what was sent and can open it from the console.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_farmer_attachment'
down_revision = '0003_gateway'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('farmer_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('farmer_id', sa.Integer(), nullable=False),
    sa.Column('handoff_ticket_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('telegram_file_id', sa.String(length=256), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('file_size', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=256), nullable=True),
    sa.Column('mime_type', sa.String(length=128), nullable=True),
    sa.Column('caption', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['farmer_id'], ['farmer.id'], name=op.f('fk_farmer_attachment_farmer_id_farmer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handoff_ticket_id'], ['handoff_ticket.id'], name=op.f('fk_farmer_attachment_handoff_ticket_id_handoff_ticket'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_farmer_attachment'))
    )
    with op.batch_alter_table('farmer_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_farmer_attachment_handoff_ticket_id'), ['handoff_ticket_id'], unique=False)
        batch_op.create_index('ix_farmer_attachment_farmer_id_created_at', ['farmer_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('farmer_attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_farmer_attachment_farmer_id_created_at')
        batch_op.drop_index(batch_op.f('ix_farmer_attachment_handoff_ticket_id'))

    op.drop_table('farmer_attachment')
