"""The golden conversations (tests/golden/conversations.yml) and how a reply is judged against a turn."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

GOLDEN_DIR = Path(__file__).resolve().parent
CONVERSATIONS_PATH = GOLDEN_DIR / "conversations.yml"
_CHECK_KEYS = ("contains", "contains_any", "not_contains")


@dataclass(frozen=True)
class Turn:
    """One farmer message and what the bot's reply to it must (not) contain."""

    user: str
    contains: Tuple[str, ...] = ()
    contains_any: Tuple[str, ...] = ()
    not_contains: Tuple[str, ...] = ()

    def problems(self, reply: str) -> List[str]:
        """What is wrong with `reply` for this turn (empty when it is right)."""
        seen = comparable(reply)
        found: List[str] = [f"missing {value!r}" for value in self.contains if comparable(value) not in seen]
        if self.contains_any and not any(comparable(value) in seen for value in self.contains_any):
            found.append(f"missing any of {list(self.contains_any)!r}")
        found.extend(f"must not say {value!r}" for value in self.not_contains if comparable(value) in seen)
        return found


@dataclass(frozen=True)
class Conversation:
    """A labelled conversation: right only when every turn's reply is right."""

    id: str
    kind: str
    turns: Tuple[Turn, ...]
    note: str = ""


def comparable(text: str) -> str:
    """The form replies and expectations are compared in: NFKC (full-width brackets = half-width), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def reply_text(messages: List[Dict[str, Any]]) -> str:
    """What the farmer sees of Rasa's REST replies: every message's text and button titles, one per line."""
    lines: List[str] = []
    for message in messages:
        if message.get("text"):
            lines.append(str(message["text"]))
        lines.extend(str(button.get("title", "")) for button in message.get("buttons") or [])
    return "\n".join(lines)


def _strings(raw: Dict[str, Any], key: str, where: str) -> Tuple[str, ...]:
    values = raw.get(key) or []
    if not isinstance(values, list) or not all(isinstance(value, str) and value for value in values):
        raise ValueError(f"{where}: {key} must be a list of quoted, non-empty strings, got {values!r}")
    return tuple(values)


def _turn(raw: Dict[str, Any], where: str) -> Turn:
    unknown = set(raw) - {"user", *_CHECK_KEYS}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(raw.get("user"), str) or not raw["user"].strip():
        raise ValueError(f"{where}: user must be the farmer's message as a string")
    return Turn(raw["user"], *(_strings(raw, key, where) for key in _CHECK_KEYS))


def load_kinds(path: Path = CONVERSATIONS_PATH) -> Dict[str, str]:
    """The kinds of failure the set measures, with what each one means."""
    return dict(yaml.safe_load(path.read_text(encoding="utf-8"))["kinds"])


def load_conversations(path: Path = CONVERSATIONS_PATH) -> List[Conversation]:
    """Every golden conversation, validated: unique ids, listed kinds, string checks, a checked last turn."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    kinds = document["kinds"]
    conversations: List[Conversation] = []
    seen_ids = set()
    for raw in document["conversations"]:
        conversation_id = raw.get("id")
        if not conversation_id or conversation_id in seen_ids:
            raise ValueError(f"conversation id missing or repeated: {conversation_id!r}")
        seen_ids.add(conversation_id)
        if raw.get("kind") not in kinds or not raw.get("turns"):
            raise ValueError(f"{conversation_id}: needs turns and one of the listed kinds, got {raw.get('kind')!r}")
        turns = tuple(_turn(turn, f"{conversation_id} turn {n}") for n, turn in enumerate(raw["turns"], 1))
        last = turns[-1]
        if not (last.contains or last.contains_any or last.not_contains):
            raise ValueError(f"{conversation_id}: the last turn must say what the answer contains")
        conversations.append(Conversation(conversation_id, raw["kind"], turns, raw.get("note", "")))
    return conversations
