"""The built-once validator of action server responses (rasa_extensions/fast_action_validation.py) against Rasa's own.

The module replaces a method of Rasa: these tests fail when Rasa's method or schema changes (so the module is
re-read on an upgrade), when a response Rasa refuses would pass, or when the error raised differs from Rasa's.
"""
from __future__ import annotations

from typing import Any, Dict, List

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet

from rasa_extensions import fast_action_validation
from rasa_extensions.fast_action_validation import PATCHED_SOURCE_SHA256, install, source_sha256

# Rasa's method as shipped, kept before anything in this process installs the replacement.
ORIGINAL = fast_action_validation.ORIGINAL_VALIDATE_ACTION_RESULT

GOOD: List[Dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    {"events": [SlotSet("product", "玉米").as_dict(), ActionExecuted("action_listen").as_dict()],
     "responses": [{"text": "玉米 今天 2.80 元/斤", "buttons": [{"title": "小麦", "payload": "/ask_price"}]}]},
    {"events": [BotUttered("你好").as_dict(), {"event": "active_loop", "name": None}],
     "responses": [{"response": "utter_greet", "name": "老王"}]},
]
BAD: List[Dict[str, Any]] = [
    {"events": "slot product 玉米"},
    {"events": [{"name": "product", "value": "玉米"}]},  # no "event"
    {"events": [{"event": "slot", "name": 7, "value": "玉米"}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [], "responses": ["玉米 2.80 元/斤"]},
    {"events": [{"event": "slot", "name": "product", "value": "玉米", "timestamp": "today"}]},
]


def test_rasa_code_replaced_is_the_code_this_module_was_written_for() -> None:
    # A new Rasa may change the method (this module would then hide the change) or the schema (then re-check
    # that the cached validator is still right). Update the hashes only after reading both again.
    assert source_sha256(ORIGINAL) == PATCHED_SOURCE_SHA256["_validate_action_result"]
    assert source_sha256(RemoteAction.action_response_format_spec) == PATCHED_SOURCE_SHA256[
        "action_response_format_spec"
    ]


def test_loading_the_gateway_channel_installs_it() -> None:
    # Every `rasa run` of ours loads the channel named in credentials.yml, so it is how the server gets it.
    import rasa_extensions.gateway_channel  # noqa: F401

    assert RemoteAction._validate_action_result is fast_action_validation._validate_action_result


@pytest.mark.parametrize("response", GOOD)
def test_a_valid_response_passes_as_under_rasa(response: Dict[str, Any]) -> None:
    install()
    action = RemoteAction("action_answer_price", None)
    assert ORIGINAL(action, response) is True
    assert action._validate_action_result(response) is True


@pytest.mark.parametrize("response", BAD)
def test_a_bad_response_is_refused_with_rasa_s_error(response: Dict[str, Any]) -> None:
    install()
    action = RemoteAction("action_answer_price", None)
    with pytest.raises(ValidationError) as rasa_error:
        ORIGINAL(action, response)
    with pytest.raises(ValidationError) as our_error:
        action._validate_action_result(response)
    assert our_error.value.message == rasa_error.value.message
    assert list(our_error.value.path) == list(rasa_error.value.path)
    assert our_error.value.validator == rasa_error.value.validator
    assert "Failed to validate Action server response" in our_error.value.message
