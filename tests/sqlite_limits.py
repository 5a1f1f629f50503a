"""Lowering SQLite's limit on bound variables per statement for a test.

Debian's SQLite allows 250,000; SQLite's own builds (and many others) allow 32,766. Tests that must
show a query works past the limit lower it on each connection through sqlite3_limit, in the same
library the sqlite3 module uses.
"""
from __future__ import annotations

import _sqlite3
import ctypes
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

UPSTREAM_VARIABLE_LIMIT = 32_766  # SQLITE_MAX_VARIABLE_NUMBER of SQLite's own builds since 3.32
_SQLITE_LIMIT_VARIABLE_NUMBER = 9
_library = ctypes.CDLL(_sqlite3.__file__)
_library.sqlite3_limit.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]


def lower_variable_limit(connection: sqlite3.Connection, limit: int = UPSTREAM_VARIABLE_LIMIT) -> None:
    """Set the connection's bound-variable limit (its sqlite3* follows the object header of the Python object)."""
    handle = ctypes.c_void_p.from_address(id(connection) + object.__basicsize__).value
    _library.sqlite3_limit(handle, _SQLITE_LIMIT_VARIABLE_NUMBER, limit)


def limit_variables(engine: Engine, limit: int = UPSTREAM_VARIABLE_LIMIT) -> None:
    """Lower the limit on every new connection of a SQLite engine."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda connection, _record: lower_variable_limit(connection, limit))
