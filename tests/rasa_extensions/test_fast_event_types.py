"""The table lookup of event classes (rasa_extensions/fast_event_types.py) against Rasa's own loop."""
from __future__ import annotations

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import Event, UserUttered

from rasa_extensions import fast_event_types
from rasa_extensions.fast_action_validation import source_sha256
from rasa_extensions.fast_event_types import ORIGINAL_RESOLVE_BY_TYPE, resolve_by_type


def test_rasa_code_replaced_is_the_code_this_module_was_written_for() -> None:
    # Update the hash only after reading Rasa's new Event.resolve_by_type and re-running these tests.
    assert source_sha256(ORIGINAL_RESOLVE_BY_TYPE) == fast_event_types.PATCHED_SOURCE_SHA256


def test_every_event_type_resolves_to_the_class_rasa_s_loop_finds() -> None:
    names = {cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert resolve_by_type(name) is ORIGINAL_RESOLVE_BY_TYPE(name)


def test_unknown_names_behave_as_in_rasa() -> None:
    assert resolve_by_type("topic") is None and ORIGINAL_RESOLVE_BY_TYPE("topic") is None
    assert resolve_by_type("no_such_event", default=UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        resolve_by_type("no_such_event")
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        ORIGINAL_RESOLVE_BY_TYPE("no_such_event")


def test_an_event_class_defined_later_is_found() -> None:
    resolve_by_type("user")  # the table is built

    class LateEvent(Event):  # as a module imported after the first lookup would define one
        type_name = "xiangxin_test_late_event"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, LateEvent)

        def __hash__(self) -> int:
            return 0

        def as_story_string(self) -> None:
            return None

    assert resolve_by_type("xiangxin_test_late_event") is LateEvent


def test_installed_events_deserialise_as_before() -> None:
    fast_event_types.install()
    event = Event.from_parameters({"event": "user", "text": "玉米多少钱", "parse_data": {}})
    assert isinstance(event, UserUttered) and event.text == "玉米多少钱"
