"""Schema migrations of the knowledge DB through Alembic, driven from Python rather than alembic.ini."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from sqlalchemy.engine import Engine

from knowledge.articles.index_table import SEARCH_INDEX_TABLE
from knowledge.models import Base

logger = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The article search index (SEARCH_INDEX_TABLE, knowledge/articles/index_table.py) has no ORM model on purpose:
# autogenerate and the agreement check must not propose to drop it.


def include_name(name: Optional[str], type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """Alembic filter: compare everything except the hand-made search index and its shadow tables."""
    return not (type_ == "table" and name is not None and name.startswith(SEARCH_INDEX_TABLE))


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our migrations; the engine is passed through attributes."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (the newest by default)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    logger.info("Knowledge DB migrated to %s", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to `revision` ("base" empties it)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def pending_model_changes(engine: Engine) -> List[tuple]:
    """Differences between the ORM models and the migrated schema; empty when they agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        return compare_metadata(context, Base.metadata)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration from the difference between models and database (developers only)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
