"""A service some tests need (PostgreSQL, the browser) that is not there."""
from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(message: str) -> NoReturn:
    """Fail the test under CI (CI=true), where every service must be there; skip it on a developer machine."""
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)
