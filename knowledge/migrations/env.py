"""Alembic environment: runs migrations on the connection that knowledge.migrate hands over."""
from __future__ import annotations

from alembic import context

from knowledge.migrate import include_name
from knowledge.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Migrate using the connection passed in config.attributes (see knowledge/migrate.py)."""
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `python -m knowledge migrate`.")
run_migrations_online()
