"""The web chat: the same gateway logic over HTTP, for people without Telegram."""
from __future__ import annotations

import json
import logging
import secrets
from functools import partial
from pathlib import Path

from aiohttp import web

from bot.conversation import Conversation
from knowledge.db import KnowledgeStore
from knowledge.outbox.queue import take_webchat_pushes

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
SENDER_COOKIE = "xiangxin_chat"
CONVERSATION_KEY = web.AppKey("conversation", Conversation)
STORE_KEY = web.AppKey("knowledge_store", KnowledgeStore)
# Chinese stays readable in responses and logs of the browser's network panel.
json_response = partial(web.json_response, dumps=partial(json.dumps, ensure_ascii=False))


def _sender_id(request: web.Request) -> str:
    cookie = request.cookies.get(SENDER_COOKIE, "")
    return cookie if cookie.startswith("web-") and len(cookie) < 80 else ""


async def chat_page(request: web.Request) -> web.StreamResponse:
    """The chat page; gives the browser a stable, random conversation id on first visit."""
    response = web.FileResponse(STATIC_DIR / "webchat.html")
    if not _sender_id(request):
        # Lax, not Strict: a farmer who follows a link from another site (a village page, a search result)
        # must arrive with the cookie, or a new one would replace it and lose the conversation and any
        # officer's answer waiting for it. Lax cookies still never ride along on another site's POST or fetch.
        response.set_cookie(
            SENDER_COOKIE, "web-" + secrets.token_urlsafe(16),
            max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
        )
    return response


async def post_message(request: web.Request) -> web.Response:
    """Take one message from the page and answer with the bot's replies as JSON."""
    sender = _sender_id(request)
    if not sender:
        return json_response({"error": "请先刷新页面再发消息。"}, status=400)
    # The cookie is SameSite=Lax and the body must be JSON, so another site cannot post as this user.
    if request.content_type != "application/json":
        return json_response({"error": "unsupported content type"}, status=415)
    try:
        body = await request.json()
        text = str(body.get("message", ""))
    except (ValueError, AttributeError):
        return json_response({"error": "消息格式不对。"}, status=400)
    conversation = request.app[CONVERSATION_KEY]
    replies = await conversation.handle_text(sender, text, {"channel": "webchat"})
    return json_response({"replies": [reply.to_json() for reply in replies]})


async def pending_messages(request: web.Request) -> web.Response:
    """Pushes waiting for this browser (an officer's answer, price alerts), handed over once."""
    sender = _sender_id(request)
    # Another site may send the farmer here by a link (the Lax cookie rides along): taking the pushes then
    # would show them as raw JSON instead of in the chat. Browsers without Sec-Fetch-Site are let through.
    if not sender or request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        return json_response({"messages": []})
    try:
        texts = await request.app[STORE_KEY].run(lambda session: take_webchat_pushes(session, sender))
    except Exception:  # the page polls again later; the pushes stay pending
        logger.exception("Could not read pending pushes for the web chat")
        return json_response({"messages": []}, status=503)
    return json_response({"messages": [{"text": text, "buttons": []} for text in texts]})


async def health(_request: web.Request) -> web.Response:
    """Readiness probe for the process runner."""
    return json_response({"status": "ok"})


def add_webchat_routes(app: web.Application) -> None:
    """Register the web chat's routes on the gateway app."""
    app.router.add_get("/", chat_page, name="webchat")
    app.router.add_post("/api/messages", post_message, name="webchat_message")
    app.router.add_get("/api/messages/pending", pending_messages, name="webchat_pending")
    app.router.add_get("/healthz", health, name="health")
    app.router.add_static("/static/", STATIC_DIR, name="static")
