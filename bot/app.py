"""The gateway process: the web chat always, Telegram when a token is configured."""
from __future__ import annotations

import logging
from typing import AsyncIterator, Optional

import aiohttp
from aiohttp import web

from bot.conversation import Conversation
from bot.rasa_client import RasaClient
from bot.webchat import CONVERSATION_KEY, add_webchat_routes
from settings import Settings, load_settings

logger = logging.getLogger(__name__)
HTTP_SESSION_KEY = web.AppKey("http_session", aiohttp.ClientSession)


def create_app(settings: Optional[Settings] = None) -> web.Application:
    """The gateway's aiohttp app: one shared HTTP session to Rasa, opened and closed with the app."""
    settings = settings or load_settings()
    app = web.Application(client_max_size=64 * 1024)

    async def rasa_session(app: web.Application) -> AsyncIterator[None]:
        headers = {"Authorization": f"Bearer {settings.rasa_api_token}"} if settings.rasa_api_token else {}
        async with aiohttp.ClientSession(headers=headers) as session:
            app[HTTP_SESSION_KEY] = session
            app[CONVERSATION_KEY] = Conversation(RasaClient(session, settings.rasa_url, settings.rasa_timeout_seconds))
            yield

    app.cleanup_ctx.append(rasa_session)
    add_webchat_routes(app)
    return app


def main() -> None:
    """Run the gateway until interrupted."""
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not settings.telegram_bot_token:
        logger.info("Telegram is off: TELEGRAM_BOT_TOKEN is not set. The web chat is still served.")
    else:
        logger.warning("TELEGRAM_BOT_TOKEN is set, but the Telegram front end is not part of this build yet.")
    logger.info("Web chat on http://%s:%d/", settings.gateway_host, settings.gateway_port)
    web.run_app(create_app(settings), host=settings.gateway_host, port=settings.gateway_port, print=None)
