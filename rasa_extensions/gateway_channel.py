"""The one way into Rasa's dialogue: Rasa's REST channel, answering only the gateway.

Rasa 3.6's REST channel has no authentication: anyone who reaches it could talk as any farmer (a web
farmer's sender id, "tg-<user id>"). This subclass serves the same webhook at /webhooks/gateway/webhook
and refuses (403) every call without the shared secret RASA_WEBHOOK_SECRET in the X-Gateway-Secret
header, which the gateway (bot/rasa_client.py) sends.
"""
from __future__ import annotations

import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_extensions.cli import install_serving_fixes
from settings import load_settings

logger = logging.getLogger(__name__)

# Every Rasa server of ours loads this module (credentials.yml names the channel) before it loads the model and
# serves: the one place where the serving fixes of Rasa (rasa_extensions/cli.py `install_serving_fixes` lists
# them) reach all of them.
install_serving_fixes()

SECRET_HEADER = "X-Gateway-Secret"  # noqa: S105 (the header's name, not a secret)


class GatewayInput(RestInput):
    """Rasa's REST channel behind a shared secret (constant-time compared)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode("utf-8")

    @classmethod
    def name(cls) -> str:
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "GatewayInput":
        """The channel with the secret from the environment; Rasa does not start without one."""
        secret = load_settings().rasa_webhook_secret
        if not secret:
            # Failing at start is louder than a channel that refuses every farmer (or, worse, lets anyone in).
            raise RasaException("RASA_WEBHOOK_SECRET is not set: the gateway channel needs the secret the gateway "
                                "sends (make run generates one into var/local.env).")
        return cls(secret)

    def allows(self, offered: str) -> bool:
        """Whether the offered header value is the shared secret."""
        return hmac.compare_digest(offered.encode("utf-8", "replace"), self._secret)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """RestInput's routes, with every POST checked for the secret first."""
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def require_secret(request: Request) -> Optional[HTTPResponse]:
            if request.method == "POST" and not self.allows(request.headers.get(SECRET_HEADER, "")):
                logger.warning("Refused a webhook call without the gateway's secret from %s", request.ip)
                return response.json({"error": "forbidden"}, status=403)
            return None

        return webhook
