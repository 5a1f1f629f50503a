"""The web chat page in a real headless Chromium on a phone-sized screen, through the gateway to the real Rasa
and action servers: a typed price question, the product buttons, a farmer's HTML shown as plain text; and the
conversation kept when the farmer arrives by another site's link. Under CI a missing browser fails the test;
on a developer machine it is skipped."""
from __future__ import annotations

from typing import List

import pytest
from aiohttp import web

from bot.app import SCHEDULER_KEY, create_app
from bot.webchat import CHAT_COOKIE, IDENTITY_KEY
from knowledge.db import open_store
from knowledge.models import Farmer, HandoffTicket, utcnow
from scripts.chromium import PHONE_VIEWPORT, launch
from settings import Settings

pytestmark = pytest.mark.integration
# Rasa answers in well under a second once warm; the first answer loads the model's pipeline.
ANSWER_TIMEOUT_MS = 60_000


async def _send(page, text: str) -> None:
    """Type `text` into the composer, send it, and wait until the gateway has answered."""
    async with page.expect_response(lambda response: response.url.endswith("/api/messages"),
                                    timeout=ANSWER_TIMEOUT_MS) as answered:
        await page.fill("#message", text)
        await page.press("#message", "Enter")
    assert (await answered.value).status == 200


async def test_price_question_buttons_and_html_as_text_on_a_phone(chromium, serve, rasa_stack) -> None:
    from playwright.async_api import async_playwright, expect

    # The gateway shares the action server's knowledge DB; its push scheduler is not under test here.
    settings = Settings(rasa_url=rasa_stack["rasa_url"], rasa_timeout_seconds=30,
                        knowledge_db_url=rasa_stack["knowledge_db_url"], push_interval_seconds=0)
    base = await serve(create_app(settings))
    errors: List[str] = []

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            context = await browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", is_mobile=True,
                                                has_touch=True)
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            await page.goto(f"{base}/")
            bot = page.locator("#log .msg.bot")
            await expect(bot.first).to_contain_text("您好！我是乡信")

            # The page fits the phone: no sideways scrolling, the composer on screen.
            assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
            composer = await page.locator("#composer").bounding_box()
            assert composer is not None and composer["y"] + composer["height"] <= PHONE_VIEWPORT["height"]

            # A typed price question: price, date and source in one answer.
            await _send(page, "玉米多少钱一斤")
            await expect(page.locator("#log .msg.user").last).to_have_text("玉米多少钱一斤")
            answer = bot.last
            await expect(answer).to_contain_text("1.00–1.05元/斤")
            await expect(answer).to_contain_text("2024-09-30")
            await expect(answer).to_contain_text("来源")

            # Asking without a product shows the products as buttons; tapping one answers for it. A new
            # conversation: right after the corn answer, "查价格" is taken as a follow-up about corn.
            await context.clear_cookies()
            await page.reload()
            await _send(page, "查价格")
            corn = bot.last.locator(".buttons button", has_text="玉米")
            await expect(corn).to_be_visible()
            async with page.expect_response(lambda response: response.url.endswith("/api/messages"),
                                            timeout=ANSWER_TIMEOUT_MS):
                await corn.tap()
            await expect(page.locator("#log .msg.user").last).to_have_text("玉米")
            await expect(bot.last).to_contain_text("1.00–1.05元/斤")
            await expect(bot.last).to_contain_text("2024-09-30")

            # A farmer's markup is shown as the characters typed, never rendered.
            await _send(page, "<b>x</b>")
            await expect(page.locator("#log .msg.user").last).to_have_text("<b>x</b>")
            assert await page.locator("#log b").count() == 0
            await context.close()
        finally:
            await browser.close()
    assert errors == []


async def test_a_farmer_arriving_by_another_sites_link_keeps_the_conversation(
    chromium, serve, seeded_db_url
) -> None:
    from playwright.async_api import async_playwright

    # Only the page is loaded here, so no Rasa is needed.
    settings = Settings(rasa_url="http://127.0.0.1:9", knowledge_db_url=seeded_db_url, push_interval_seconds=0)
    chat_url = f"{await serve(create_app(settings))}/"

    async def village_page(_request: web.Request) -> web.Response:
        return web.Response(text=f'<a id="chat" href="{chat_url}">乡信</a>', content_type="text/html")

    village = web.Application()
    village.router.add_get("/", village_page)
    # localhost and 127.0.0.1 are different sites to the browser.
    village_url = f"{await serve(village)}/".replace("127.0.0.1", "localhost")

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            context = await browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", is_mobile=True)
            page = await context.new_page()
            await page.goto(chat_url)
            before = {cookie["name"]: cookie["value"] for cookie in await context.cookies()}
            await page.goto(village_url)
            await page.click("#chat")
            await page.wait_for_url(chat_url)
            after = {cookie["name"]: cookie["value"] for cookie in await context.cookies()}
            await context.close()
        finally:
            await browser.close()
    assert before[CHAT_COOKIE]
    assert after[CHAT_COOKIE] == before[CHAT_COOKIE]


async def test_an_officers_answer_is_shown_once_and_delivered_when_the_page_acknowledges_it(
    chromium, serve, seeded_db_url
) -> None:
    from playwright.async_api import async_playwright, expect

    # Only the page and its polls: no Rasa is needed.
    kb_url = seeded_db_url
    app = create_app(Settings(rasa_url="http://127.0.0.1:9", knowledge_db_url=kb_url, push_interval_seconds=0))
    chat_url = await serve(app) + "/"
    store = open_store(kb_url)

    def answered_ticket(sender: str):
        def work(session) -> int:
            ticket = HandoffTicket(farmer=Farmer(sender_id=sender, channel="webchat"), question="玉米叶子发黄怎么办",
                                   conversation_id=sender, status="answered", answer="可能缺氮，建议追施尿素。",
                                   answered_at=utcnow())
            session.add(ticket)
            session.flush()
            return ticket.id
        return work

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            context = await browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", is_mobile=True)
            page = await context.new_page()
            # The first poll finds nothing: the answer is written after it.
            async with page.expect_response(lambda response: response.url.endswith("/api/messages/pending")):
                await page.goto(chat_url)
            cookie = {cookie["name"]: cookie["value"] for cookie in await context.cookies()}[CHAT_COOKIE]
            ticket_id = store.run_blocking(answered_ticket(app[IDENTITY_KEY].sender_for(cookie)))
            await app[SCHEDULER_KEY].run_once()
            # The page polls as it loads, shows the answer, then acknowledges it.
            async with page.expect_response(lambda response: response.url.endswith("/api/messages/delivered")) as ack:
                await page.reload()
            assert (await ack.value).status == 200
            await expect(page.locator("#log .msg.push")).to_have_count(1)
            await expect(page.locator("#log .msg.push")).to_contain_text("追施尿素")
            await context.close()
        finally:
            await browser.close()
    try:
        assert store.run_blocking(lambda session: session.get(HandoffTicket, ticket_id).status) == "delivered"
    finally:
        store.dispose()
