"""Screenshots of the console's main pages for the README, taken in headless Debian Chromium.

Builds throwaway databases (the seed, the demo people, and conversations written by Rasa's own
SQLTrackerStore), serves the console on a free local port and saves PNGs under docs/screenshots/.
Run: .venv/bin/python scripts/screenshots.py
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from rasa.core.tracker_store import SQLTrackerStore  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

from console.app import create_app  # noqa: E402
from knowledge.db import make_engine, make_session_factory, session_scope  # noqa: E402
from knowledge.models import HandoffTicket  # noqa: E402
from scripts.chromium import DESKTOP_VIEWPORT, PHONE_VIEWPORT, launch  # noqa: E402
from scripts.demo_conversations import DAY, action, bot, conversations, product, user  # noqa: E402
from scripts.demo_knowledge import TODAY, build_knowledge_db  # noqa: E402
from scripts.demo_people import PASSWORD, add_people  # noqa: E402
from settings import Settings  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PAGES = (("dashboard", "/"), ("prices", "/prices"), ("conversations", "/conversations"),
         ("conversation", "/conversations/web-5f3a"), ("handoff", "/handoff"))
logger = logging.getLogger("screenshots")

# A fortnight of everyday questions, so the dashboard's charts have something to show.
EVERYDAY = [
    ("玉米多少钱一斤", "ask_price", 0.96, "玉米"), ("今天猪肉啥价", "ask_price", 0.93, "猪肉"),
    ("鸡蛋批发价多少", "ask_price", 0.91, "鸡蛋"), ("小麦最低收购价是多少", "ask_policy", 0.88, None),
    ("养老保险一年交多少", "ask_pension", 0.9, None), ("大白菜多少钱", "ask_price", 0.95, "大白菜"),
    ("医保啥时候交", "ask_medical_insurance", 0.87, None), ("玉米价格最近涨了没", "ask_price_trend", 0.82, "玉米"),
    ("俺们这嘎达苞米咋卖", "nlu_fallback", 0.41, None), ("生猪价格", "ask_price", 0.94, "生猪"),
]


async def write_tracker(path: Path) -> None:
    """The test conversations plus a fortnight of everyday ones, written through Rasa's SQLTrackerStore."""
    store = SQLTrackerStore(dialect="sqlite", db=str(path))
    trackers = dict(conversations())
    for day in range(14):
        for number, (text, intent, confidence, name) in enumerate(EVERYDAY[: 3 + (day * 7) % len(EVERYDAY)]):
            at = DAY - (13 - day) * 86400 + number * 600
            entities = [product(name, text.index(name), text.index(name) + len(name))] if name and name in text else []
            sender = f"tg-{3000 + (day * 5 + number) % 23}"
            trackers.setdefault(sender, []).extend([
                user(text, intent, confidence, at, entities), action("action_listen", at + 1),
                bot("（回答略）", at + 1),
            ])

    for sender_id, events in trackers.items():
        await store.save(DialogueStateTracker.from_events(sender_id, sorted(events, key=lambda e: e.timestamp)))
    store.engine.dispose()


def chinese_font_installed() -> bool:
    """True when fontconfig knows a font with Chinese glyphs."""
    if shutil.which("fc-list") is None:
        return False
    return bool(subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip())


def answer_one_ticket(url: str) -> None:
    """Ticket 2 answered three hours after it was opened and delivered, so every state shows."""
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        ticket = session.get(HandoffTicket, 2)
        ticket.answer = "丰台区今年耕地地力保护补贴每亩约100元，6月底前打到一卡通，以当地公示为准。"
        ticket.status = "delivered"
        ticket.answered_at = ticket.created_at + dt.timedelta(hours=3)
        ticket.delivered_at = ticket.answered_at + dt.timedelta(minutes=1)
    engine.dispose()


async def capture(base: str) -> None:
    """Sign in and photograph the main pages, on a desktop screen and on a phone."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            for suffix, viewport in (("", DESKTOP_VIEWPORT), ("-phone", PHONE_VIEWPORT)):
                context = await browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
                page = await context.new_page()
                await page.goto(f"{base}/login")
                await page.screenshot(path=str(OUT / f"login{suffix}.png"))
                await page.fill("input[name=username]", "admin")
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button:has-text('登录')")
                await page.wait_for_url(f"{base}/")
                for name, path in PAGES:
                    await page.goto(f"{base}{path}")
                    await page.screenshot(path=str(OUT / f"{name}{suffix}.png"), full_page=(suffix == ""))
                await context.close()
        finally:
            await browser.close()


async def main() -> None:
    """Build the demo databases, serve the console and take the screenshots."""
    OUT.mkdir(parents=True, exist_ok=True)
    if not chinese_font_installed():
        logger.warning("No Chinese font: install fonts-wqy-microhei (or fonts-noto-cjk), or the text shows as boxes")
    with tempfile.TemporaryDirectory() as folder:
        knowledge_url = build_knowledge_db(f"sqlite:///{Path(folder) / 'knowledge.db'}")
        add_people(knowledge_url)
        answer_one_ticket(knowledge_url)
        await write_tracker(Path(folder) / "tracker.db")
        settings = Settings(knowledge_db_url=knowledge_url, tracker_db_url=f"sqlite:///{Path(folder) / 'tracker.db'}",
                            console_secret_key=secrets.token_urlsafe(32), upload_dir=Path(folder) / "uploads")
        runner = web.AppRunner(create_app(settings, today=lambda: TODAY))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # the free port the OS chose
        try:
            await capture(f"http://127.0.0.1:{port}")
        finally:
            await runner.cleanup()
    logger.info("Screenshots written to %s", OUT)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(main())
