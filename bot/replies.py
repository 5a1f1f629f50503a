"""Bot replies as the gateway renders them, independent of the messenger."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List


@dataclass(frozen=True)
class Button:
    """A choice under a reply: what the farmer sees, and what is sent to Rasa when they tap it."""

    title: str
    payload: str


@dataclass
class Reply:
    """One message to show: text and optional buttons."""

    text: str
    buttons: List[Button] = field(default_factory=list)

    def to_json(self) -> Dict[str, Any]:
        """The shape the web chat's script reads."""
        return {"text": self.text, "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons]}


def from_rasa(messages: Iterable[Dict[str, Any]]) -> List[Reply]:
    """Turn Rasa REST-channel messages into replies, joining consecutive texts into one message.

    An action often sends a note, the answer and a freshness warning separately; a farmer should
    get them as one message, with any buttons under the last.
    """
    replies: List[Reply] = []
    for message in messages:
        text = (message.get("text") or "").strip()
        buttons = [Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in message.get("buttons") or []]
        if not text and not buttons:
            continue
        if replies and not replies[-1].buttons and text:
            replies[-1].text = f"{replies[-1].text}\n{text}"
            replies[-1].buttons = buttons
        else:
            replies.append(Reply(text=text, buttons=buttons))
    return replies
