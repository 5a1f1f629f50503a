"""article search index: SQLite FTS5 or PostgreSQL tsvector + GIN

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:00:00

Hand-written because each database has its own full-text engine. The index holds text already
segmented by jieba (knowledge/articles/search.py), one row per published article, keyed by article id;
knowledge.articles.search.index_article keeps it in step with every write. The table has no ORM model,
so knowledge.migrate.include_name keeps it out of the models-vs-migrations comparison.
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the search index for the connected dialect; it starts empty (`migrate` fills it)."""
    if op.get_bind().dialect.name == "sqlite":
        # Columns hold space-separated jieba tokens; unicode61 then splits on the spaces and keeps
        # each Chinese word whole. rowid is the article id.
        op.execute(
            "CREATE VIRTUAL TABLE article_fts USING fts5("
            "title, questions, answer, topic, tokenize = 'unicode61 remove_diacritics 0')"
        )
        # FTS5 tables cannot carry foreign keys; a trigger stands in for ON DELETE CASCADE.
        op.execute(
            "CREATE TRIGGER article_fts_after_delete AFTER DELETE ON article "
            "BEGIN DELETE FROM article_fts WHERE rowid = old.id; END"
        )
    else:
        op.execute(
            "CREATE TABLE article_fts ("
            "article_id INTEGER NOT NULL, "
            "document TSVECTOR NOT NULL, "
            "CONSTRAINT pk_article_fts PRIMARY KEY (article_id), "
            "CONSTRAINT fk_article_fts_article_id_article FOREIGN KEY (article_id) "
            "REFERENCES article (id) ON DELETE CASCADE)"
        )
        op.execute("CREATE INDEX ix_article_fts_document ON article_fts USING gin (document)")


def downgrade() -> None:
    """Drop the search index."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS article_fts_after_delete")
        op.execute("DROP TABLE IF EXISTS article_fts")
    else:
        op.execute("DROP TABLE IF EXISTS article_fts")
