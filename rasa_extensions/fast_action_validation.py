"""Rasa's check of every action server response, with its JSON-schema validator built once per process.

Why: Rasa 3.6's `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` after every
custom action (and every form's `validate_<form>` call). `jsonschema.validate` first checks the *schema*
against the draft 2020-12 metaschema, then builds a new validator, then validates the response: on this
machine ~47 ms of CPU per call, 52% of the Rasa server's CPU under load (issue 16's profile). The schema
(`RemoteAction.action_response_format_spec()`, Rasa's EVENTS_SCHEMA) is a constant, so checking it and
building its validator once gives the same verdict in well under a millisecond.

What stays the same: the same schema, the same validator class (`validator_for(schema)`, as `validate` picks
it), the same error (`jsonschema.exceptions.best_match` over the same errors, as `validate` raises), and
Rasa's sentence appended to its message. tests/rasa_extensions/test_fast_action_validation.py fails when
Rasa's method or schema changes (a hash of the original source), and checks that a bad response is still
refused.

Upstream: RasaHQ/rasa, rasa/core/actions/action.py at tag 3.6.21, `RemoteAction._validate_action_result`
(unchanged through the 3.6 line as far as we know; no upstream fix to point to). jsonschema's own docs
advise building a validator once for repeated validation against one schema ("Validating With Additional
Types"/`validator_for`); drop this module when an upgraded Rasa does so itself.

Applied by `install()`, which rasa_extensions/gateway_channel.py calls when Rasa loads it: credentials.yml names
that channel, so every Rasa server of ours (`make run`, the integration tests' servers, `rasa shell`) validates
with the built-once validator, with no start-up hook of its own. (`rasa test core` calls no action server.)
"""
from __future__ import annotations

import hashlib
import inspect
import logging
from functools import lru_cache
from typing import Any, Dict

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

logger = logging.getLogger(__name__)

# sha256 of inspect.getsource(RemoteAction._validate_action_result) and of action_response_format_spec in
# Rasa 3.6.21: the code replaced and the schema cached. A change in either means this module must be re-read.
PATCHED_SOURCE_SHA256 = {
    "_validate_action_result": "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
    "action_response_format_spec": "091b74aa3738d1262cf3c028386aaf9dd4f0d5c1374b62392411d70a79104a46",
}

# Rasa's own method, kept for the tests that compare the two.
ORIGINAL_VALIDATE_ACTION_RESULT = RemoteAction._validate_action_result


def source_sha256(function: Any) -> str:
    """sha256 of a function's source text."""
    return hashlib.sha256(inspect.getsource(function).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def _validator() -> Any:
    """The validator for Rasa's action-response schema, the schema checked against its metaschema once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: Dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with a validator built once (same errors, same message)."""
    error = best_match(_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Replace RemoteAction._validate_action_result in this process (idempotent)."""
    _validator()  # the metaschema check now, at start-up, not in a farmer's first turn
    RemoteAction._validate_action_result = _validate_action_result
    logger.debug("Action server responses are validated with a validator built once")
