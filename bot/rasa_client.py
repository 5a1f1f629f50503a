"""Client of Rasa's gateway channel (/webhooks/gateway/webhook, rasa_extensions/), over one shared aiohttp session."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional

import aiohttp

from bot.replies import Reply, from_rasa

logger = logging.getLogger(__name__)
# The header Rasa's gateway channel (rasa_extensions/gateway_channel.py) checks.
SECRET_HEADER = "X-Gateway-Secret"  # noqa: S105 (the header's name, not a secret)
# The conversation's id, for a balancer in front of several Rasa servers to keep each farmer on one of them
# (nginx `hash $http_x_sender consistent`): Rasa's Redis lock store races across servers (RasaHQ/rasa#9213).
SENDER_HEADER = "X-Sender"
# What a balancer answers when no Rasa server behind it took the message: it never reached Rasa.
_NOT_DELIVERED_STATUSES = (502, 503)


class RasaUnavailable(Exception):
    """Rasa (or the action server behind it) did not answer in time or answered with an error."""


class RasaUnreachable(RasaUnavailable):
    """The message never reached Rasa (connection refused, or the balancer found no server): safe to send again."""


class RasaClient:
    """Sends a farmer's message to Rasa and returns the bot's replies."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, timeout_seconds: float, secret: str) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/webhooks/gateway/webhook"
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._headers = {SECRET_HEADER: secret}

    async def send(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Reply]:
        """Post one message; raises RasaUnavailable on timeout, connection error or a non-200 answer."""
        body = {"sender": sender, "message": text, "metadata": metadata or {}}
        headers = {**self._headers, SENDER_HEADER: sender}
        try:
            async with self._session.post(self._url, json=body, timeout=self._timeout, headers=headers) as response:
                if response.status in _NOT_DELIVERED_STATUSES:
                    raise RasaUnreachable(f"Rasa answered HTTP {response.status}")
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
                messages: Any = await response.json(content_type=None)
        except asyncio.TimeoutError as error:
            raise RasaUnavailable("Rasa did not answer in time") from error
        except aiohttp.ClientConnectorError as error:
            raise RasaUnreachable(f"Rasa unreachable: {error.__class__.__name__}") from error
        except aiohttp.ClientError as error:
            raise RasaUnavailable(f"Rasa unreachable: {error.__class__.__name__}") from error
        except ValueError as error:
            # Something else on Rasa's address (a proxy's page, another service) answered.
            raise RasaUnavailable("Rasa answered something other than JSON") from error
        if messages is None:
            return []
        if not isinstance(messages, list) or not all(isinstance(message, dict) for message in messages):
            raise RasaUnavailable("Rasa answered JSON that is not a list of messages")
        return from_rasa(messages)
