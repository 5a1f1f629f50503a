"""Security items 4, 5 (console inbox), 7, 10 and 12 of issue 13, through the console's HTTP routes.

4: an officer's audit log, dashboard and inbox stay inside their region; region-less tickets are the admins'.
5: the handoff inbox pages.
7: failed sign-ins are counted atomically and read alike; argon2 checks are bounded.
10: sessions are server-side records that logout and a password change revoke; pages carry CSP, frame and
    cache headers; the CSRF check comes before any large body is read.
12: the conversation filter works past SQLite's variable limit; transcripts page.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sqlite3

from aiohttp import web
from sqlalchemy import insert, select

from console.app import create_app
from knowledge.audit import record_change
from knowledge.catalog.lookup import find_region
from knowledge.models import Account, Farmer, HandoffTicket, MessageCorrection, utcnow
from scripts.demo_conversations import DAY
from scripts.demo_knowledge import TODAY
from settings import PROJECT_ROOT
from tests.console.conftest import PASSWORD, csrf_of, sign_in
from tests.sqlite_limits import UPSTREAM_VARIABLE_LIMIT, limit_variables

_ALERT = re.compile(r'<p class="error-text" role="alert">([^<]*)</p>')


def _account_id(session, username: str) -> int:
    return session.scalars(select(Account.id).where(Account.username == username)).one()


def _farmer_id(session, sender_id: str) -> int:
    return session.scalars(select(Farmer.id).where(Farmer.sender_id == sender_id)).one()


def _add_ticket(knowledge, question: str, region: str, created: dt.datetime) -> int:
    with knowledge() as session:
        farmer = session.scalars(select(Farmer).where(Farmer.sender_id == "tg-1001")).one()
        ticket = HandoffTicket(farmer=farmer, question=question, conversation_id="tg-1001",
                               region=find_region(session, region) if region else None, created_at=created)
        session.add(ticket)
        session.commit()
        return ticket.id


async def _try(client, username: str, password: str, token: str):
    return await client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                             allow_redirects=False)


# --- item 4: region scope -------------------------------------------------------------------------------------

async def test_item04_audit_is_region_scoped(client, knowledge) -> None:
    with knowledge() as session:
        correction = MessageCorrection(conversation_id="tg-1001", event_id=1, text="玉米多少钱一斤",
                                       intent="ask_price", annotated_text="[玉米](product)多少钱一斤")
        session.add(correction)
        session.flush()
        gaocheng, fengtai = _account_id(session, "gaocheng"), _account_id(session, "fengtai")
        record_change(session, "gaocheng", "answer", "handoff_ticket", 1, None, {"answer": "藁城的回答AAA"})
        record_change(session, "admin", "answer", "handoff_ticket", 2, None, {"answer": "丰台工单的回答BBB"})
        record_change(session, "reviewer", "create", "message_correction", correction.id, None,
                      {"text": "藁城农户的更正CCC"})
        record_change(session, "tg-1001", "set_region", "farmer", _farmer_id(session, "tg-1001"),
                      {"region": None}, {"region": "藁城的村DDD"})
        record_change(session, "tg-2002", "set_region", "farmer", _farmer_id(session, "tg-2002"),
                      {"region": None}, {"region": "丰台的村EEE"})
        record_change(session, "gaocheng", "link_telegram", "account", gaocheng, None,
                      {"username": "gaocheng", "telegram_user_id": "777000111"})
        record_change(session, "fengtai", "link_telegram", "account", fengtai, None,
                      {"username": "fengtai", "telegram_user_id": "888000222"})
        record_change(session, "admin", "create", "topic_alias", None, None, {"alias": "全国别名FFF"})
        session.commit()
    await sign_in(client, "fengtai")
    page = await (await client.get("/audit")).text()
    for seen in ("丰台工单的回答BBB", "丰台的村EEE", "888000222"):
        assert seen in page, seen
    for hidden in ("藁城的回答AAA", "藁城农户的更正CCC", "藁城的村DDD", "777000111", "全国别名FFF"):
        assert hidden not in page, hidden
    client.session.cookie_jar.clear()
    await sign_in(client, "admin")
    everything = await (await client.get("/audit")).text()
    assert "藁城的回答AAA" in everything and "777000111" in everything


async def test_item04_dashboard_is_region_scoped_for_officers(client) -> None:
    await sign_in(client, "fengtai")
    page = await (await client.get("/?days=7")).text()
    # 藁城区's farmer web-5f3a asked the question the bot did not understand; 丰台区's tg-2002 asked one question.
    assert "&lt;script&gt;" not in page and "138****5678" not in page
    assert re.search(r'<span class="big">1</span>农户消息', page), page
    assert re.search(r'<span class="big">1</span>待回答工单（共 1）', page), page


async def test_item04_region_less_tickets_are_the_admins(client, knowledge) -> None:
    unplaced = _add_ticket(knowledge, "地区不明的问题", "", utcnow())
    token = await sign_in(client, "gaocheng")  # 藁城区 is a county
    assert "地区不明的问题" not in await (await client.get("/handoff")).text()
    assert (await client.get(f"/handoff/{unplaced}")).status == 403
    answer = await client.post(f"/handoff/{unplaced}/answer", data={"csrf_token": token, "answer": "回答"})
    assert answer.status == 403
    client.session.cookie_jar.clear()
    await sign_in(client, "admin")
    assert "地区不明的问题" in await (await client.get("/handoff")).text()


# --- item 5: inbox paging -------------------------------------------------------------------------------------

async def test_item05_handoff_inbox_pages(client, knowledge) -> None:
    start = dt.datetime(2026, 11, 1, 9, 0)
    with knowledge() as session:
        farmer = session.scalars(select(Farmer).where(Farmer.sender_id == "tg-1001")).one()
        region = find_region(session, "藁城区")
        session.add_all(HandoffTicket(farmer=farmer, question=f"第{number:03d}个问题", conversation_id="tg-1001",
                                      region=region, created_at=start + dt.timedelta(minutes=number))
                        for number in range(80))
        session.commit()
    await sign_in(client, "gaocheng")
    first = await (await client.get("/handoff")).text()
    assert "第000个问题" in first and "第079个问题" not in first
    assert "第 1 / 2 页" in first and "共 81 条" in first
    second = await (await client.get("/handoff?page=2")).text()
    assert "第079个问题" in second and "第000个问题" not in second


# --- item 7: sign-in ------------------------------------------------------------------------------------------

async def test_item07_parallel_failures_all_count(client) -> None:
    token = csrf_of(await (await client.get("/login")).text())
    failures = await asyncio.gather(*(_try(client, "gaocheng", "wrong-password", token) for _ in range(8)))
    assert {response.status for response in failures} == {401}
    assert (await _try(client, "gaocheng", PASSWORD, token)).status == 401  # locked after 5 of the 8


async def test_item07_one_message_for_every_failure(client, knowledge) -> None:
    token = csrf_of(await (await client.get("/login")).text())
    messages = []
    for username, password in (("nobody", "wrong-password"), ("gaocheng", "wrong-password")):
        page = await (await _try(client, username, password, token)).text()
        messages.append(_ALERT.search(page).group(1))
    for _ in range(5):
        await _try(client, "reviewer", "wrong-password", token)
    locked = await _try(client, "reviewer", PASSWORD, token)
    assert locked.status == 401
    messages.append(_ALERT.search(await locked.text()).group(1))
    with knowledge() as session:
        session.get(Account, _account_id(session, "fengtai")).active = False
        session.commit()
    deactivated = await _try(client, "fengtai", PASSWORD, token)
    assert deactivated.status == 401
    messages.append(_ALERT.search(await deactivated.text()).group(1))
    assert len(set(messages)) == 1, messages


async def test_item07_password_checks_beyond_the_queue_are_refused_without_hashing(
        aiohttp_client, console_settings, monkeypatch) -> None:
    import knowledge.people.login as login

    settings = console_settings.copy(update={"console_password_checks": 1, "console_password_check_queue": 1})
    client = await aiohttp_client(create_app(settings, nlu_dir=PROJECT_ROOT / "data" / "nlu", today=lambda: TODAY))
    checks = []
    real_verify = login.verify_password

    def counted(password_hash: str, password: str) -> bool:
        checks.append(password)
        return real_verify(password_hash, password)

    monkeypatch.setattr(login, "verify_password", counted)
    token = csrf_of(await (await client.get("/login")).text())
    responses = await asyncio.gather(*(_try(client, f"user{number}", "wrong-password", token)
                                       for number in range(6)))
    busy = [response for response in responses if response.status == 503]
    assert busy and all("稍后再试" in text for text in [await response.text() for response in busy])
    assert len(checks) == len(responses) - len(busy) <= 2 + 2


# --- item 10: sessions and headers ----------------------------------------------------------------------------

def _session_cookie(client) -> str:
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))["xiangxin_console"].value


async def test_item10_logout_revokes_every_copy_of_the_cookie(client) -> None:
    token = await sign_in(client, "admin")
    copied = _session_cookie(client)
    await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    client.session.cookie_jar.update_cookies({"xiangxin_console": copied})
    assert (await client.get("/", allow_redirects=False)).status == 302


async def test_item10_password_change_revokes_other_copies(client) -> None:
    token = await sign_in(client, "reviewer")
    copied = _session_cookie(client)
    done = await client.post("/account/password", data={"csrf_token": token, "current": PASSWORD,
                                                        "new": "new-password-1", "repeated": "new-password-1"})
    assert "密码已修改" in await done.text()  # the browser that changed it stays signed in
    assert (await client.get("/", allow_redirects=False)).status == 200
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"xiangxin_console": copied})
    assert (await client.get("/", allow_redirects=False)).status == 302


async def test_item10_pages_forbid_framing_inline_script_and_caching(client) -> None:
    await sign_in(client, "admin")
    for path in ("/", "/prices", "/nothing-here"):
        headers = (await client.get(path)).headers
        policy = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert headers.get("X-Frame-Options") == "DENY" and headers.get("Cache-Control") == "no-store", path
    for template in (PROJECT_ROOT / "console" / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "javascript:" not in text, template.name


async def test_item10_csrf_check_rejects_before_reading_a_large_body(client, monkeypatch) -> None:
    read = []
    real_post = web.BaseRequest.post

    async def recorded(self):
        read.append(self.path)
        return await real_post(self)

    monkeypatch.setattr(web.BaseRequest, "post", recorded)
    body = b"x" * (2 * 1024 * 1024)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    # No session at all, then a signed-out session that has a CSRF token (it opened the login page).
    assert (await client.post("/imports/preview", data=body, headers=headers)).status == 403
    await client.get("/login")
    assert (await client.post("/imports/preview", data=body, headers=headers)).status == 403
    assert read == []


# --- item 12: conversations -----------------------------------------------------------------------------------

async def test_item12_region_filter_works_past_sqlites_variable_limit(client, knowledge, monkeypatch) -> None:
    import knowledge.conversations.tracker as tracker

    opened = tracker._read_only_engine

    def limited(url: str):
        engine = opened(url)
        limit_variables(engine)  # as SQLite's own builds have it (Debian's allows 250,000)
        return engine

    monkeypatch.setattr(tracker, "_read_only_engine", limited)
    with knowledge() as session:
        region_id = find_region(session, "藁城区").id
        session.execute(insert(Farmer.__table__), [
            {"sender_id": f"tg-9{number:06d}", "channel": "telegram", "region_id": region_id,
             "created_at": utcnow(), "updated_at": utcnow(), "updated_by": "test"}
            for number in range(UPSTREAM_VARIABLE_LIMIT + 1000)])
        session.commit()
    await sign_in(client, "reviewer")
    response = await client.get(f"/conversations?region={region_id}")
    page = await response.text()
    assert response.status == 200, page
    assert "/conversations/tg-1001" in page and "/conversations/web-5f3a" in page
    assert "/conversations/tg-2002" not in page


async def test_item12_transcripts_page(client, tracker_path) -> None:
    with sqlite3.connect(tracker_path) as tracker:
        tracker.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data) VALUES (?, 'user', ?, ?, ?)",
            [("tg-1001", DAY + 100 + number, "ask_price",
              json.dumps({"event": "user", "text": f"Q{number:04d}",
                          "parse_data": {"intent": {"name": "ask_price", "confidence": 0.9}, "entities": []}}))
             for number in range(150)])
    await sign_in(client, "reviewer")
    latest = await (await client.get("/conversations/tg-1001")).text()
    assert "Q0149" in latest and "Q0000" not in latest and "第 2 / 2 页" in latest
    earliest = await (await client.get("/conversations/tg-1001?page=1")).text()
    assert "Q0000" in earliest and "Q0149" not in earliest and "玉米多少钱一斤" in earliest
