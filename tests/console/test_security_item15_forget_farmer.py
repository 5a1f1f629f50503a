"""Security item 15: an admin carries out a farmer's request, made by phone, to delete their records: a form
taking the sender id or the phone number they gave, a confirmation page, CSRF, admins only, audited without
the personal data. The console writes only the knowledge DB; the farmer's Rasa conversation is queued for the
gateway's scheduler (the console only reads the tracker store)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge.conversations.tracker import TrackerReader
from knowledge.models import AuditLog, ConversationErasure, HandoffTicket
from knowledge.people.farmers import find_farmer
from knowledge.privacy.events import ERASED

PHONE = "13812345678"  # what web-5f3a wrote in the demo conversation and in ticket 1


async def test_item15_an_admin_forgets_a_farmer_who_asked_by_phone(client, login, knowledge, tracker_path) -> None:
    csrf = await login(client, "admin")
    form = await client.get("/privacy/forget")
    assert form.status == 200 and 'name="who"' in await form.text()
    preview = await client.post("/privacy/forget/preview", data={"who": "138 1234 5678", "csrf_token": csrf})
    page = await preview.text()
    assert preview.status == 200 and "web-5f3a" in page and "tg-1001" not in page
    assert 'action="/privacy/forget/confirm"' in page
    refused = await client.post("/privacy/forget/confirm", data={"sender_id": "web-5f3a"}, allow_redirects=False)
    assert refused.status == 403  # no CSRF token
    done = await client.post("/privacy/forget/confirm", data={"sender_id": "web-5f3a", "csrf_token": csrf},
                             allow_redirects=False)
    assert done.status == 302
    with knowledge() as session:
        assert find_farmer(session, "web-5f3a") is None
        assert session.get(HandoffTicket, 1).question == ERASED
        assert [row.sender_id for row in session.scalars(select(ConversationErasure))] == ["web-5f3a"]
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "forget")).one()
        assert entry.actor == "admin"
        logged = "\n".join(f"{row.actor} {row.before} {row.after}" for row in session.scalars(select(AuditLog)))
        assert PHONE not in logged and "web-5f3a" not in logged and "李大姐" not in logged
    reader = TrackerReader(f"sqlite:///{tracker_path}")
    try:
        assert reader.exists("web-5f3a")  # untouched by the console: the gateway's scheduler anonymises it
    finally:
        reader.close()


async def test_item15_a_number_nobody_gave_finds_nobody(client, login) -> None:
    csrf = await login(client, "admin")
    preview = await client.post("/privacy/forget/preview", data={"who": "13900000000", "csrf_token": csrf})
    assert preview.status == 200 and "没有找到" in await preview.text()
    bad = await client.post("/privacy/forget/preview", data={"who": "老王", "csrf_token": csrf})
    assert bad.status == 400


@pytest.mark.parametrize("username", ["gaocheng", "reviewer"])
async def test_item15_only_admins_may_forget_farmers(client, login, username) -> None:
    csrf = await login(client, username)
    assert (await client.get("/privacy/forget")).status == 403
    response = await client.post("/privacy/forget/confirm", data={"sender_id": "web-5f3a", "csrf_token": csrf})
    assert response.status == 403
