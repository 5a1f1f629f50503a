"""market scope and article review date: what a market's figure stands for, and when an article needs a look

Revision ID: 0009_market_scope
Revises: 0008_personal_data
Create Date: 2026-11-30 15:00:00

`market.scope` says whether a market's price is a national figure (the 200 index, the national
wholesale or purchase average: answered as 全国), a regional average (a province's purchase
average: answered for that region) or one local market (a wholesale market, a purchase point, a
village fair: always named as local, never as national). Existing markets get their scope from
where they hang and what they are: a 全国均价 or 产区均价 on the 全国 root, and the seeded national
figures by name, are national; other averages are regional; everything else is local, so a market an
officer entered never becomes national by itself.

`article.review_on` is the date after which an officer should check an article again (the console's
需要更新 page lists it then).

Plain ADD COLUMN on both dialects (no batch mode): SQLite's batch rebuild would drop the catalog
triggers of 0005_catalog_version.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_market_scope'
down_revision = '0008_personal_data'
branch_labels = None
depends_on = None

# Seeded national figures whose kind alone does not say so.
NATIONAL_MARKETS = ("玉米主销区批发市场",)


def upgrade() -> None:
    op.add_column('market', sa.Column('scope', sa.String(length=16), nullable=False, server_default='local'))
    op.add_column('article', sa.Column('review_on', sa.Date(), nullable=True))
    names = ", ".join(f"'{name}'" for name in NATIONAL_MARKETS)
    op.execute(
        "UPDATE market SET scope = 'national' WHERE region_id IN (SELECT id FROM region WHERE parent_id IS NULL) "
        f"AND (kind IN ('全国均价', '产区均价') OR name LIKE '全国%' OR name IN ({names}))"
    )
    op.execute(
        "UPDATE market SET scope = 'regional' WHERE scope = 'local' "
        "AND (kind IN ('全国均价', '产区均价') OR name LIKE '%均价')"
    )


def downgrade() -> None:
    op.drop_column('article', 'review_on')
    op.drop_column('market', 'scope')
