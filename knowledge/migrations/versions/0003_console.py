"""console review state: conversation reviews and corrected messages

Revision ID: 0003_console
Revises: 0002
Create Date: 2026-11-22 23:00:00

The console's own tables beside Rasa's tracker store, which it only reads: a review per
conversation (reviewed, tags, flag, note) and corrected messages for the NLU export.
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_console"
down_revision = "0002"
branch_labels = None
depends_on = None


def _timestamps() -> list:
    return [
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
    ]


def upgrade() -> None:
    """Create the review tables."""
    op.create_table(
        "conversation_review",
        *_timestamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("tags", sa.String(length=256), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_review")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_conversation_review_conversation_id")),
    )
    with op.batch_alter_table("conversation_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_review_reviewed"), ["reviewed"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversation_review_flagged"), ["flagged"], unique=False)

    op.create_table(
        "message_correction",
        *_timestamps(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=64), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("annotated_text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_correction")),
        sa.UniqueConstraint("conversation_id", "event_id", name="uq_message_correction_event"),
    )
    with op.batch_alter_table("message_correction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_correction_conversation_id"), ["conversation_id"], unique=False)


def downgrade() -> None:
    """Drop the review tables."""
    with op.batch_alter_table("message_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_correction_conversation_id"))
    op.drop_table("message_correction")
    with op.batch_alter_table("conversation_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_review_flagged"))
        batch_op.drop_index(batch_op.f("ix_conversation_review_reviewed"))
    op.drop_table("conversation_review")
