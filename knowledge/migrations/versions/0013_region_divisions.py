"""region divisions: national division codes, seats and aliases of regions; escalated handoff tickets

Revision ID: 0009_region_divisions
Revises: 0010_deferred_message
Create Date: 2026-11-30 15:00:00

Every province, city and county of China is loaded from a packaged data set (knowledge/catalog/divisions.py):
each region keeps its division code (so a second load finds it again) and the seat's coordinates (a shared
location is placed in the nearest county), and farmers' other names for it live in `region_alias`, which
the catalog snapshot reads, so it bumps the catalog token like the other catalog tables. Handoff tickets
left unanswered move one region up and remember from where.

Columns are added without SQLite's batch mode: a batch rebuild of `region` would drop its catalog triggers.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_region_divisions'
down_revision = '0010_deferred_message'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('region', sa.Column('code', sa.String(length=12), nullable=True))
    op.add_column('region', sa.Column('latitude', sa.Float(), nullable=True))
    op.add_column('region', sa.Column('longitude', sa.Float(), nullable=True))
    op.create_index(op.f('ix_region_code'), 'region', ['code'], unique=True)
    op.create_table('region_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_region_alias_region_id_region'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region_alias')),
    sa.UniqueConstraint('region_id', 'alias', name='uq_region_alias_region_id')
    )
    op.create_index(op.f('ix_region_alias_alias'), 'region_alias', ['alias'], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER region_alias_catalog_{event.lower()} AFTER {event} ON region_alias "
                "BEGIN UPDATE catalog_version SET token = random(); END"
            )
    else:
        op.execute(
            "CREATE TRIGGER region_alias_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON region_alias "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()"
        )
    with op.batch_alter_table('handoff_ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('escalated_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_handoff_ticket_escalated_from_id_region'), 'region',
                                    ['escalated_from_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('handoff_ticket', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_handoff_ticket_escalated_from_id_region'), type_='foreignkey')
        batch_op.drop_column('escalated_from_id')
        batch_op.drop_column('escalated_at')
    op.drop_index(op.f('ix_region_alias_alias'), table_name='region_alias')
    op.drop_table('region_alias')
    op.drop_index(op.f('ix_region_code'), table_name='region')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column only by rebuilding the table; the rebuild must keep the catalog triggers.
        with op.batch_alter_table('region', schema=None) as batch_op:
            batch_op.drop_column('longitude')
            batch_op.drop_column('latitude')
            batch_op.drop_column('code')
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS region_catalog_{event.lower()}")
            op.execute(
                f"CREATE TRIGGER region_catalog_{event.lower()} AFTER {event} ON region "
                "BEGIN UPDATE catalog_version SET token = random(); END"
            )
    else:
        op.drop_column('region', 'longitude')
        op.drop_column('region', 'latitude')
        op.drop_column('region', 'code')
