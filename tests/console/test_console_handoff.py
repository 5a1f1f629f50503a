"""The handoff inbox: an officer's region only, oldest first; an answer marks the ticket answered (audited)
and queues it in the gateway's outbox; a changed answer rewrites the waiting push or is refused once the
gateway has taken it; delivered tickets show as such and can no longer be changed."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from knowledge.catalog.lookup import find_region
from knowledge.models import Account, AuditLog, Farmer, HandoffTicket, Push
from knowledge.outbox.handoff_answers import enqueue_handoff_answers
from knowledge.outbox.queue import (
    acknowledge_webchat_pushes,
    claim_telegram_pushes,
    mark_failed,
    mark_sent,
    offer_webchat_pushes,
)
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
    # Stored in UTC, shown in Beijing time and labelled.
    assert "已送达农户" in inbox and "送达 2026-11-21 18:30 北京时间" in inbox
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


def _push(knowledge, ticket_id: int) -> Push:
    with knowledge() as session:
        return session.scalars(select(Push).where(Push.handoff_ticket_id == ticket_id)).one()


async def test_an_answer_is_queued_for_the_gateway_and_delivered_through_it(client, knowledge) -> None:
    token = await sign_in(client, "admin")
    await client.post("/handoff/2/answer", data={"csrf_token": token, "answer": "丰台区每亩补贴120元。"})
    push = _push(knowledge, 2)
    assert (push.push_key, push.kind, push.status) == ("handoff:2", "handoff_answer", "pending")
    assert push.text.startswith("【信息员回复】您问的“丰台的补贴标准是多少”") and "丰台区每亩补贴120元。" in push.text
    assert "admin名（信息员）" in push.text
    with knowledge() as session:
        assert enqueue_handoff_answers(session) == 0  # the gateway finds the push already there: no second one
        [job] = claim_telegram_pushes(session, "gateway-test")  # what the gateway's scheduler does
        assert (job.chat_id, job.text) == ("2002", push.text)
        session.commit()
    assert "正在发送" in await (await client.get("/handoff")).text()
    with knowledge() as session:
        mark_sent(session, job.id)
        session.commit()
        assert session.get(HandoffTicket, 2).status == "delivered"
    inbox = await (await client.get("/handoff")).text()
    assert "已回答，等待发送（0）" in inbox and "已送达农户" in inbox


async def test_a_changed_answer_rewrites_the_waiting_push(client, knowledge) -> None:
    token = await sign_in(client, "gaocheng")
    await client.post("/handoff/1/answer", data={"csrf_token": token, "answer": "第一次的回答"})
    response = await client.post("/handoff/1/answer", data={"csrf_token": token, "answer": "改正后的回答"})
    assert "工单 #1 已回答" in await response.text()
    push = _push(knowledge, 1)
    assert "改正后的回答" in push.text and "第一次的回答" not in push.text
    with knowledge() as session:
        (offered_id, text), = offer_webchat_pushes(session, "web-5f3a")
        assert text == push.text  # the web chat farmer gets the new one
        acknowledge_webchat_pushes(session, "web-5f3a", [offered_id])
        session.commit()
        assert session.get(HandoffTicket, 1).status == "delivered"
        answers = session.scalars(select(AuditLog).where(AuditLog.action == "answer")).all()
    assert [json.loads(entry.after)["answer"] for entry in answers] == ["第一次的回答", "改正后的回答"]


async def test_an_answer_the_gateway_is_sending_cannot_be_changed(client, knowledge) -> None:
    token = await sign_in(client, "admin")
    await client.post("/handoff/2/answer", data={"csrf_token": token, "answer": "原来的回答"})
    with knowledge() as session:
        claim_telegram_pushes(session, "gateway-test")
        session.commit()
    page = await (await client.get("/handoff/2")).text()
    assert "正在发送" in page and "修改回答" not in page
    refused = await client.post("/handoff/2/answer", data={"csrf_token": token, "answer": "想改的回答"})
    assert refused.status == 409
    assert "已经在发送给农户，不能再修改" in await refused.text()
    with knowledge() as session:
        assert session.get(HandoffTicket, 2).answer == "原来的回答"
        assert len(session.scalars(select(AuditLog).where(AuditLog.action == "answer")).all()) == 1
    assert "原来的回答" in _push(knowledge, 2).text


async def test_a_failed_delivery_is_shown_to_the_officer(client, knowledge) -> None:
    token = await sign_in(client, "admin")
    await client.post("/handoff/2/answer", data={"csrf_token": token, "answer": "回答"})
    with knowledge() as session:
        [job] = claim_telegram_pushes(session, "gateway-test")
        mark_failed(session, job.id, "Forbidden: bot was blocked by the user", permanent=True)
        session.commit()
    assert "发送失败" in await (await client.get("/handoff")).text()
    page = await (await client.get("/handoff/2")).text()
    assert "发送失败" in page and "请用电话等其他方式联系农户" in page
    refused = await client.post("/handoff/2/answer", data={"csrf_token": token, "answer": "再试一次"})
    assert refused.status == 409 and "没能发送给农户" in await refused.text()


async def test_editing_an_answer_keeps_the_contact_number_the_officer_wrote(client, knowledge) -> None:
    token = await sign_in(client, "gaocheng")
    answer = "请打收购点电话 13800001111 联系。"
    await client.post("/handoff/1/answer", data={"csrf_token": token, "answer": answer})
    page = await (await client.get("/handoff/1")).text()
    draft = page.split('name="answer"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert draft == answer
    assert "138****5678" in page and "13812345678" not in page  # the farmer's own number stays masked
    await client.post("/handoff/1/answer", data={"csrf_token": token, "answer": draft})
    assert "13800001111" in _push(knowledge, 1).text


async def test_an_escalated_ticket_shows_where_it_came_from(client, knowledge) -> None:
    from knowledge.handoff.escalation import escalate_overdue

    opened = dt.datetime(2026, 11, 1, 9, 0)
    ticket_id = _add_ticket(knowledge, "没人回答的补贴问题", "藁城区", opened)
    with knowledge() as session:
        assert escalate_overdue(session, opened + dt.timedelta(hours=30), 24) >= 1
        session.commit()
        assert session.get(HandoffTicket, ticket_id).region.name == "石家庄市"
    await sign_in(client, "admin")
    page = await (await client.get("/handoff")).text()
    row = page[page.index("没人回答的补贴问题"):]
    assert "超时未答" in row[:1500] and "从藁城区转到这里" in row[:1500]
