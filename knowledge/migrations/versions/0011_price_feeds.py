"""price feeds: scheduled price files, their runs, and imported batches that can be undone

Revision ID: 0009_price_feeds
Revises: 0009_market_scope
Create Date: 2026-11-30 14:40:00

A feed (`price_feed`) is fetched on its schedule by whichever gateway wins its lease (the conditional
UPDATE of `next_run_at`); each fetch is a `price_feed_run` with its outcome and reasons. Every price file
that lands (feed, `python -m knowledge import-prices`, console upload) is an `import_batch` whose
`import_batch_record` rows keep what it replaced, so the batch can be undone as a whole.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_price_feeds'
down_revision = '0009_market_scope'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('price_feed',
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=48), nullable=False),
    sa.Column('source_kind', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=512), nullable=False),
    sa.Column('column_map', sa.Text(), nullable=False),
    sa.Column('schedule', sa.String(length=32), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('next_run_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('last_run_at', sa.DateTime(), nullable=True),
    sa.Column('last_outcome', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_price_feed_region_id_region'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_feed')),
    sa.UniqueConstraint('name', name=op.f('uq_price_feed_name'))
    )
    with op.batch_alter_table('price_feed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_feed_next_run_at'), ['next_run_at'], unique=False)

    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('feed_id', sa.Integer(), nullable=True),
    sa.Column('source_name', sa.String(length=256), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['feed_id'], ['price_feed.id'], name=op.f('fk_import_batch_feed_id_price_feed'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch'))
    )
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batch_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_batch_feed_id'), ['feed_id'], unique=False)

    op.create_table('import_batch_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('price_record_id', sa.Integer(), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after_digest', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_import_batch_record_batch_id_import_batch'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch_record'))
    )
    with op.batch_alter_table('import_batch_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batch_record_batch_id'), ['batch_id'], unique=False)

    op.create_table('price_feed_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feed_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=256), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_price_feed_run_batch_id_import_batch'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['feed_id'], ['price_feed.id'], name=op.f('fk_price_feed_run_feed_id_price_feed'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_feed_run'))
    )
    with op.batch_alter_table('price_feed_run', schema=None) as batch_op:
        batch_op.create_index('ix_price_feed_run_feed_id_started_at', ['feed_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_feed_run_sha256'), ['sha256'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('price_feed_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_feed_run_sha256'))
        batch_op.drop_index('ix_price_feed_run_feed_id_started_at')

    op.drop_table('price_feed_run')
    with op.batch_alter_table('import_batch_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batch_record_batch_id'))

    op.drop_table('import_batch_record')
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batch_feed_id'))
        batch_op.drop_index(batch_op.f('ix_import_batch_created_at'))

    op.drop_table('import_batch')
    with op.batch_alter_table('price_feed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_feed_next_run_at'))

    op.drop_table('price_feed')
