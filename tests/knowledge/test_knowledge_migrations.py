"""Migrations from an empty database to head and back, and models agreeing with migrations."""
from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from knowledge import migrate
from knowledge.cli import main
from knowledge.models import Article, Base


def _head(engine) -> str:
    return ScriptDirectory.from_config(migrate.alembic_config(engine)).get_current_head()


def _version(engine) -> str:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT version_num FROM alembic_version"))


def test_empty_database_migrates_to_head_with_every_table(empty_db):
    migrate.upgrade(empty_db.engine)
    tables = set(inspect(empty_db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "article_fts" in tables
    assert _version(empty_db.engine) == _head(empty_db.engine) == "0003_gateway"


def test_models_and_migrations_agree(empty_db):
    migrate.upgrade(empty_db.engine)
    assert migrate.pending_model_changes(empty_db.engine) == []


def test_agreement_check_notices_a_schema_the_models_do_not_describe(empty_db):
    migrate.upgrade(empty_db.engine)
    with empty_db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE stray_table (id INTEGER PRIMARY KEY)"))
    changes = migrate.pending_model_changes(empty_db.engine)
    assert [change[0] for change in changes] == ["remove_table"]
    assert changes[0][1].name == "stray_table"


def test_downgrade_removes_the_search_index_then_everything_and_upgrades_again(empty_db):
    engine = empty_db.engine
    migrate.upgrade(engine)
    migrate.downgrade(engine, "0001")
    tables = set(inspect(engine).get_table_names())
    assert "article_fts" not in tables
    assert "article" in tables
    assert _version(engine) == "0001"
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert _version(engine) == "0003_gateway"
    assert migrate.pending_model_changes(engine) == []


def test_migrate_command_fills_an_empty_search_index(kb):
    with kb.scope() as session:
        published = session.scalar(select(func.count(Article.id)).where(Article.status == "published"))
        session.execute(text("DELETE FROM article_fts"))
    assert published == 36
    assert main(["--db", kb.url, "migrate"]) == 0
    with kb.scope() as session:
        assert session.scalar(text("SELECT count(*) FROM article_fts")) == published
