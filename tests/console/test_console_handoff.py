"""The handoff inbox: an officer's region only, oldest first; an answer marks the ticket answered (audited)
for the gateway to deliver; delivered tickets show as such and can no longer be changed."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from knowledge.lookup import find_region
from knowledge.models import Account, AuditLog, Farmer, HandoffTicket, utcnow
from tests.console.conftest import sign_in


def _add_ticket(knowledge, question: str, region: str, created: dt.datetime) -> int:
    with knowledge() as session:
        farmer = session.scalars(select(Farmer).where(Farmer.sender_id == "tg-1001")).one()
        ticket = HandoffTicket(farmer=farmer, question=question, conversation_id="tg-1001",
                               region=find_region(session, region) if region else None, created_at=created)
        session.add(ticket)
        session.commit()
        return ticket.id


async def test_inbox_lists_the_officers_region_oldest_first(client, knowledge) -> None:
    older = _add_ticket(knowledge, "玉米收购点在哪里", "藁城区", dt.datetime(2026, 11, 1, 9, 0))
    await sign_in(client, "gaocheng")
    page = await (await client.get("/handoff")).text()
    assert "玉米收购点在哪里" in page and "我家玉米能卖多少钱" in page
    assert page.index("玉米收购点在哪里") < page.index("我家玉米能卖多少钱")  # oldest first
    assert "丰台的补贴标准是多少" not in page
    assert f'href="/handoff/{older}"' in page


async def test_unplaced_tickets_go_to_county_officers_and_admins(client, knowledge) -> None:
    unplaced = _add_ticket(knowledge, "地区不明的问题", "", utcnow())
    await sign_in(client, "gaocheng")  # 藁城区 is a county
    assert "地区不明的问题" in await (await client.get("/handoff")).text()
    assert (await client.get(f"/handoff/{unplaced}")).status == 200


async def test_answering_sets_status_answer_time_assignee_and_audits(client, knowledge) -> None:
    token = await sign_in(client, "gaocheng")
    page = await (await client.get("/handoff/1")).text()
    assert "玉米多少钱一斤" not in page and "138****5678" in page  # the ticket's own conversation, masked
    empty = await client.post("/handoff/1/answer", data={"csrf_token": token, "answer": "  "})
    assert empty.status == 400 and "请填写回答内容" in await empty.text()
    answer = "藁城区玉米收购价今天1.15元/斤，可以联系收购点。"
    response = await client.post("/handoff/1/answer", data={"csrf_token": token, "answer": answer})
    assert "工单 #1 已回答" in await response.text()
    with knowledge() as session:
        ticket = session.get(HandoffTicket, 1)
        officer = session.scalars(select(Account).where(Account.username == "gaocheng")).one()
        assert ticket.status == "answered" and ticket.answer.startswith("藁城区玉米收购价")
        assert ticket.answered_at is not None and ticket.assignee_id == officer.id
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "handoff_ticket")).one()
        assert audit.action == "answer" and audit.actor == "gaocheng"
        assert json.loads(audit.before)["status"] == "open" and json.loads(audit.after)["status"] == "answered"
    inbox = await (await client.get("/handoff")).text()
    assert "已回答，等待发送（1）" in inbox and "待回答（0）" in inbox


async def test_delivered_tickets_show_delivery_and_refuse_changes(client, knowledge) -> None:
    with knowledge() as session:
        ticket = session.get(HandoffTicket, 1)
        ticket.status, ticket.answer = "delivered", "已经答复"
        ticket.answered_at = ticket.delivered_at = dt.datetime(2026, 11, 21, 10, 30)
        session.commit()
    token = await sign_in(client, "gaocheng")
    inbox = await (await client.get("/handoff")).text()
    assert "已送达农户" in inbox and "送达 2026-11-21 10:30" in inbox
    response = await client.post("/handoff/1/answer", data={"csrf_token": token, "answer": "改一下"})
    assert response.status == 409 and "已经送达农户" in await response.text()
    with knowledge() as session:
        assert session.get(HandoffTicket, 1).answer == "已经答复"


async def test_officer_of_another_region_cannot_answer(client, knowledge) -> None:
    token = await sign_in(client, "fengtai")
    assert "我家玉米能卖多少钱" not in await (await client.get("/handoff")).text()
    response = await client.post("/handoff/1/answer", data={"csrf_token": token, "answer": "抢答"})
    assert response.status == 403
    with knowledge() as session:
        assert session.get(HandoffTicket, 1).status == "open"
