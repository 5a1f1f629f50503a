"""The name of the article search index's table, shared by the search and the migrations.

A leaf of its own: the search (imported by the action server at start) must not import knowledge.migrate,
which pulls in Alembic and its dialect modules, seconds of start-up for one string.
"""
# Built by hand in migration 0002 (an FTS5 virtual table with its shadow tables on SQLite, a tsvector table
# on PostgreSQL), with no ORM model on purpose: autogenerate and the agreement check must not propose to drop it.
SEARCH_INDEX_TABLE = "article_fts"
