"""catalog version: a token that changes with every write to products, aliases, regions or markets

Revision ID: 0005_catalog_version
Revises: 0004_farmer_attachment
Create Date: 2026-11-27 14:30:00

Every price question and article search resolves names (苞谷, 藁城, 新发地) against the catalog
of products, aliases, regions and markets. knowledge/catalog/snapshot.py keeps that catalog in memory and
reads only this token to know whether it is still current; triggers change the token on every
write, whichever process or tool (console, CLI, psql) made it.

Hand-written triggers, one set per dialect. SQLite's batch mode rebuilds a table by copying it and
drops its triggers: a later migration that alters product, product_alias, region or market in
batch mode must create them again (tests/knowledge/test_knowledge_catalog.py would fail).
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_catalog_version'
down_revision = '0004_farmer_attachment'
branch_labels = None
depends_on = None

CATALOG_TABLES = ("product", "product_alias", "region", "market")


def upgrade() -> None:
    op.create_table('catalog_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_version'))
    )
    op.execute("INSERT INTO catalog_version (id, token) VALUES (1, 1)")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite triggers run per row; random() is a 64-bit integer.
        for table in CATALOG_TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_catalog_{event.lower()} AFTER {event} ON {table} "
                    "BEGIN UPDATE catalog_version SET token = random(); END"
                )
    else:
        # Once per statement: a bulk insert of a thousand products changes the token once.
        op.execute(
            "CREATE FUNCTION bump_catalog_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN UPDATE catalog_version SET token = (random() * 9007199254740991)::bigint; RETURN NULL; END $$"
        )
        for table in CATALOG_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_catalog_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_version()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in CATALOG_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_{event}")
    else:
        for table in CATALOG_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_catalog_version ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bump_catalog_version()")
    op.drop_table('catalog_version')
