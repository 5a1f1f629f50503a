"""Rasa's lookup of an event class by its type name, from a table instead of a walk of every Event subclass.

Why: every event Rasa reads back from the tracker store (each message loads the conversation's events since its
session started) goes through `Event.resolve_by_type(type_name)`, which calls
`rasa.shared.utils.common.all_subclasses(Event)`: a recursive walk of the ~40 event classes with an
`inspect.isabstract` check on each, for every event. That was 8.5% of the Rasa server's CPU per message here
(py-spy under bench/e2e_bench.py's conversations, issue 16).

What stays the same: the class found for each name is the first in `all_subclasses(Event)` order, as Rasa's
loop returns it; "topic" still resolves to None; an unknown name still returns `default` or raises Rasa's
ValueError. The table is rebuilt when a name is not in it (an Event subclass imported since), so a new class is
found as before. tests/rasa_extensions/test_fast_event_types.py fails when Rasa's method changes (a hash of its
source) and compares both lookups for every event type.

Upstream: RasaHQ/rasa, rasa/shared/core/events.py `Event.resolve_by_type` at tag 3.6.21; no upstream fix we
know of. Installed by rasa_extensions/gateway_channel.py, like fast_action_validation.
"""
from __future__ import annotations

import logging
from typing import Dict, Optional, Type

import rasa.shared.utils.common
from rasa.shared.core.events import Event

logger = logging.getLogger(__name__)

# sha256 of inspect.getsource(Event.resolve_by_type) in Rasa 3.6.21 (see fast_action_validation.source_sha256).
PATCHED_SOURCE_SHA256 = "b5cf570fa7f286c7059ec73d8880528d03a78b28cf4e80285a46079c0fa65968"

# Rasa's own function (a staticmethod's function), kept for the tests that compare the two.
ORIGINAL_RESOLVE_BY_TYPE = Event.__dict__["resolve_by_type"].__func__

_classes_by_name: Dict[str, Type[Event]] = {}


def _build_table() -> Dict[str, Type[Event]]:
    table: Dict[str, Type[Event]] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)  # the first in Rasa's order wins, as its loop returns it
    return table


def resolve_by_type(type_name: str, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Event.resolve_by_type from a table (same result as Rasa's loop)."""
    global _classes_by_name
    found = _classes_by_name.get(type_name)
    if found is None:
        _classes_by_name = _build_table()
        found = _classes_by_name.get(type_name)
    if found is not None:
        return found
    if type_name == "topic":
        return None  # Rasa's backwards compatibility with old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


def install() -> None:
    """Replace Event.resolve_by_type in this process (idempotent)."""
    Event.resolve_by_type = staticmethod(resolve_by_type)
    logger.debug("Event classes are looked up by name from a table")
