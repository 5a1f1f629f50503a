"""Errors: the person sees a plain-Chinese page without technical details; the log gets the details in English."""
from __future__ import annotations

import logging
import re

from aiohttp import web

from console.app import create_app
from scripts.demo_knowledge import TODAY
from settings import PROJECT_ROOT, Settings
from tests.console.conftest import csrf_of, sign_in

_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _console_records(caplog) -> list:
    return [record for record in caplog.records if record.name.startswith("console")]


async def test_an_unexpected_error_shows_a_chinese_page_and_logs_english(aiohttp_client, console_settings,
                                                                         caplog) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("price table exploded")

    app = create_app(console_settings, nlu_dir=PROJECT_ROOT / "data" / "nlu", today=lambda: TODAY)
    app.router.add_get("/broken", broken)
    client = await aiohttp_client(app)
    await sign_in(client, "gaocheng")
    caplog.set_level(logging.INFO)
    response = await client.get("/broken")
    page = await response.text()
    assert response.status == 500
    assert "<h1>出错了</h1>" in page and "已记录下来" in page
    assert "exploded" not in page and "Traceback" not in page and "RuntimeError" not in page
    assert "gaocheng" in page  # still the console's own page, with the signed-in account's menu
    [record] = [record for record in _console_records(caplog) if record.levelno >= logging.ERROR]
    assert record.getMessage() == "Unexpected error on GET /broken"
    assert record.exc_info and "price table exploded" in str(record.exc_info[1])


async def test_a_knowledge_db_that_is_down_gives_the_chinese_error_page(aiohttp_client, tracker_path, tmp_path,
                                                                        caplog) -> None:
    # Port 9 (discard) has no PostgreSQL: every query fails to connect, as when the database is down.
    settings = Settings(knowledge_db_url="postgresql+psycopg2://xiangxin@127.0.0.1:9/knowledge",
                        tracker_db_url=f"sqlite:///{tracker_path}", console_secret_key="test-secret-key",
                        upload_dir=tmp_path / "uploads")
    client = await aiohttp_client(create_app(settings))
    token = csrf_of(await (await client.get("/login")).text())  # the login page needs no database
    caplog.set_level(logging.INFO)
    response = await client.post("/login", data={"username": "admin", "password": "x", "csrf_token": token})
    page = await response.text()
    assert response.status == 500 and "<h1>出错了</h1>" in page
    assert "psycopg2" not in page and "127.0.0.1" not in page
    assert any(record.getMessage() == "Unexpected error on POST /login" for record in _console_records(caplog))


async def test_refusals_log_english_and_show_chinese(client, caplog) -> None:
    await sign_in(client, "reviewer")
    caplog.set_level(logging.INFO)
    refused = await client.post("/prices", data={"product": "玉米"})
    assert refused.status == 403 and "表单已过期" in await refused.text()
    forbidden = await client.get("/prices/new")
    assert forbidden.status == 403 and "只有管理员、信息员可以使用" in await forbidden.text()
    messages = [record.getMessage() for record in _console_records(caplog)]
    assert "Rejected POST /prices: CSRF token missing or wrong" in messages
    assert messages and not [message for message in messages if _CJK.search(message)], messages
