"""The web chat: the same gateway logic over HTTP, for people without Telegram."""
from __future__ import annotations

import functools
import json
import logging
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, FrozenSet, Tuple

from aiohttp import web

from bot.conversation import Conversation, Outcome
from bot.forgetting import Forgetting
from bot.metrics import GatewayMetrics
from bot.webchat_identity import WebchatIdentity
from forwarded import client_address as forwarded_client_address
from knowledge.db import KnowledgeStore
from knowledge.masking import mask_sender_id
from knowledge.outbox.queue import acknowledge_webchat_pushes, offer_webchat_pushes
from knowledge.people.farmers import move_farmer, set_home_region, set_home_region_id

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
CHAT_COOKIE = "xiangxin_chat"
CONVERSATION_KEY = web.AppKey("conversation", Conversation)
STORE_KEY = web.AppKey("knowledge_store", KnowledgeStore)
# More than a page could have been offered in one poll is not an acknowledgement.
MAX_ACKNOWLEDGED = 200
IDENTITY_KEY = web.AppKey("webchat_identity", WebchatIdentity)
PROXIES_KEY = web.AppKey("trusted_proxies", FrozenSet[str])
FORGETTING_KEY = web.AppKey("forgetting", Forgetting)
# The chat page with the retention period filled in (webchat.html says "{{retention_days}}").
PAGE_KEY = web.AppKey("chat_page", str)
METRICS_KEY = web.AppKey("gateway_metrics", GatewayMetrics)
FORGOTTEN = "已删除您的记录。以后再发消息，就像第一次来一样。"
# Chinese stays readable in responses and logs of the browser's network panel.
json_response = partial(web.json_response, dumps=partial(json.dumps, ensure_ascii=False))


def _sender_id(request: web.Request) -> str:
    """The sender id behind the request's chat cookie; empty without a valid cookie."""
    return request.app[IDENTITY_KEY].sender_for(request.cookies.get(CHAT_COOKIE, "")) or ""


def client_address(request: web.Request) -> str:
    """The browser's address (forwarded.client_address with this app's trusted proxies)."""
    return forwarded_client_address(request.remote or "", request.headers.get("X-Forwarded-For", ""),
                                    request.app[PROXIES_KEY])


async def _move_legacy_farmer(request: web.Request, legacy: str, sender: str) -> bool:
    """Carry a farmer from an old cookie (which was their sender id) over to the new sender id; False on DB errors.

    The old id stops working once moved: it was shown to officers, so it must not stay a credential.
    """
    try:
        moved = await request.app[STORE_KEY].run(lambda session: move_farmer(session, legacy, sender))
    except Exception:  # the page still loads; the old cookie is kept and the move tried on the next visit
        logger.exception("Could not move a web chat farmer to their new sender id")
        return False
    if moved:
        logger.info("Web chat farmer moved from an old-style cookie to sender %s", mask_sender_id(sender))
    return True


def chat_page_html(retention_days: int) -> str:
    """The chat page, saying how long conversations are kept."""
    return (STATIC_DIR / "webchat.html").read_text(encoding="utf-8").replace("{{retention_days}}", str(retention_days))


def _set_chat_cookie(response: web.StreamResponse, cookie: str) -> None:
    # Lax, not Strict: a farmer who follows a link from another site (a village page, a search result)
    # must arrive with the cookie, or a new one would replace it and lose the conversation and any
    # officer's answer waiting for it. Lax cookies still never ride along on another site's POST or fetch.
    response.set_cookie(CHAT_COOKIE, cookie, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")


async def chat_page(request: web.Request) -> web.StreamResponse:
    """The chat page; gives the browser a random secret cookie on first visit (or in place of an old-style one)."""
    response = web.Response(text=request.app[PAGE_KEY], content_type="text/html")
    cookie = request.cookies.get(CHAT_COOKIE, "")
    if _sender_id(request):
        return response
    identity = request.app[IDENTITY_KEY]
    fresh = identity.new_cookie()
    if identity.is_legacy(cookie):
        fresh_sender = identity.sender_for(fresh)
        assert fresh_sender is not None  # new_cookie's cookies are well-formed
        if not await _move_legacy_farmer(request, cookie, fresh_sender):
            return response
    _set_chat_cookie(response, fresh)
    return response


class _Refused(Exception):
    """A page's request answered with an error (400/415) before its handler does anything."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.response = json_response({"error": error}, status=status)


async def _farmer_json(request: web.Request, no_cookie: str = "请先刷新页面。") -> Tuple[str, Dict[str, Any]]:
    """The farmer's sender id and the request's JSON object; _Refused without a chat cookie or such a body.

    The cookie is SameSite=Lax and the body must be JSON, which a form on another site cannot send: that site
    cannot post as this farmer."""
    sender = _sender_id(request)
    if not sender:
        raise _Refused(400, no_cookie)
    if request.content_type != "application/json":
        raise _Refused(415, "unsupported content type")
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _Refused(400, "格式不对。")
    return sender, body


def _answers_refusals(handler: Callable[[web.Request], Awaitable[web.Response]]
                     ) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The handler, with a _Refused request answered by its error response."""
    @functools.wraps(handler)
    async def handle(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _Refused as refused:
            return refused.response

    return handle


@_answers_refusals
async def post_message(request: web.Request) -> web.Response:
    """Take one message from the page and answer with the bot's replies as JSON."""
    sender, body = await _farmer_json(request, no_cookie="请先刷新页面再发消息。")
    text = str(body.get("message", ""))
    conversation = request.app[CONVERSATION_KEY]

    def gone() -> bool:
        # The browser closed the request while it waited for a turn: its message is not sent to Rasa.
        transport = request.transport
        return transport is None or transport.is_closing()

    replies, outcome = await conversation.handle(sender, text, {"channel": "webchat"},
                                                 client_address=client_address(request), gone=gone)
    # "deferred": the page polls for pushes sooner, until the late answer has come.
    return json_response({"replies": [reply.to_json() for reply in replies], "deferred": outcome == Outcome.DEFERRED})


async def pending_messages(request: web.Request) -> web.Response:
    """Pushes waiting for this browser (an officer's answer, price alerts), offered until the page acknowledges them."""
    sender = _sender_id(request)
    # Another site may send the farmer here by a link (the Lax cookie rides along): the pushes would show
    # as raw JSON instead of in the chat. Browsers without Sec-Fetch-Site are let through.
    if not sender or request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        return json_response({"messages": []})
    try:
        offered = await request.app[STORE_KEY].run(lambda session: offer_webchat_pushes(session, sender))
    except Exception:  # the page polls again later; the pushes stay pending
        logger.exception("Could not read pending pushes for the web chat")
        return json_response({"messages": []}, status=503)
    return json_response({"messages": [{"id": push_id, "text": text, "buttons": []} for push_id, text in offered]})


@_answers_refusals
async def delivered_messages(request: web.Request) -> web.Response:
    """The page showed these pushes (`{"ids": [...]}`): only now are they delivered (an answered ticket too)."""
    sender, body = await _farmer_json(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or len(ids) > MAX_ACKNOWLEDGED or not all(type(item) is int for item in ids):
        return json_response({"error": "格式不对。"}, status=400)
    count = await request.app[STORE_KEY].run(lambda session: acknowledge_webchat_pushes(session, sender, ids))
    if count:
        request.app[METRICS_KEY].pushes.labels("webchat", "delivered").inc(count)
    return json_response({"delivered": count})


@_answers_refusals
async def forget_me(request: web.Request) -> web.Response:
    """“删除我的记录” (`{"confirm": true}`): forget this farmer and give the browser a new identity."""
    sender, body = await _farmer_json(request)
    if body.get("confirm") is not True:
        return json_response({"error": "请先确认要删除。"}, status=400)
    if await request.app[FORGETTING_KEY].forget(sender, via="webchat"):
        logger.info("A web chat farmer was forgotten at their request")
    response = json_response({"message": FORGOTTEN})
    # A new secret: nothing the browser holds leads back to what was forgotten.
    _set_chat_cookie(response, request.app[IDENTITY_KEY].new_cookie())
    return response


@_answers_refusals
async def set_region(request: web.Request) -> web.Response:
    """The farmer says where they live (the page's 我的地区): `{"place": "藁城"}`, or `{"region_id": 12}` for one
    of several places the name means. Stored only this way (or as a Telegram farmer's confirmed location)."""
    sender, body = await _farmer_json(request)
    place = str(body.get("place") or "").strip()[:32]
    region_id = body.get("region_id")
    store = request.app[STORE_KEY]
    if type(region_id) is int:
        home = await store.run(lambda session: set_home_region_id(session, sender, "webchat", region_id))
    elif place:
        home = await store.run(lambda session: set_home_region(session, sender, "webchat", place))
    else:
        return json_response({"error": "请写上县、乡镇的名字。"}, status=400)
    if home.choices:
        return json_response({"message": f"叫“{place}”的地方有好几个，您在哪一个？",
                              "choices": [{"id": rid, "label": label} for rid, label in home.choices]})
    if home.stored is None:
        return json_response({"error": f"没找到“{place}”这个地方，请换个写法（写县名或乡镇名）。"}, status=404)
    return json_response({"stored": home.stored,
                          "message": f"好的，已记下您在{home.stored}。以后查价格、转人工都会先找这里。"})


async def health(_request: web.Request) -> web.Response:
    """Readiness probe for the process runner."""
    return json_response({"status": "ok"})


def add_webchat_routes(app: web.Application) -> None:
    """Register the web chat's routes on the gateway app."""
    app.router.add_get("/", chat_page, name="webchat")
    app.router.add_post("/api/messages", post_message, name="webchat_message")
    app.router.add_get("/api/messages/pending", pending_messages, name="webchat_pending")
    app.router.add_post("/api/messages/delivered", delivered_messages, name="webchat_delivered")
    app.router.add_post("/api/forget", forget_me, name="webchat_forget")
    app.router.add_post("/api/region", set_region, name="webchat_region")
    app.router.add_get("/healthz", health, name="health")
    app.router.add_static("/static/", STATIC_DIR, name="static")
