"""Admins manage accounts; officers (or an admin for them) get a one-time Telegram link code."""
from __future__ import annotations

import re

from sqlalchemy import select

from knowledge.models import Account, AuditLog
from knowledge.people.accounts import redeem_telegram_link_code
from tests.console.conftest import PASSWORD, sign_in


async def test_admin_creates_an_officer_with_the_cli_rules(client, knowledge) -> None:
    token = await sign_in(client, "admin")
    missing_region = await client.post("/accounts", data={"csrf_token": token, "username": "zhang", "role": "officer",
                                                          "password": "long-enough-1"})
    assert missing_region.status == 400 and "必须指定负责的地区" in await missing_region.text()
    created = await client.post("/accounts", data={"csrf_token": token, "username": "zhang", "role": "officer",
                                                   "region": "藁城区", "display_name": "张信息员",
                                                   "password": "long-enough-1"})
    assert "账号已创建：zhang" in await created.text()
    with knowledge() as session:
        account = session.scalars(select(Account).where(Account.username == "zhang")).one()
        assert account.password_hash.startswith("$argon2id$") and account.region.name == "藁城区"
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "account", AuditLog.actor == "admin")).one()
        assert "long-enough-1" not in (audit.after or "") and "argon2" not in (audit.after or "")


async def test_admin_deactivates_and_reactivates_but_not_themselves(client, knowledge) -> None:
    token = await sign_in(client, "admin")
    with knowledge() as session:
        ids = dict(session.execute(select(Account.username, Account.id)).all())
    await client.post(f"/accounts/{ids['reviewer']}/active", data={"csrf_token": token})
    with knowledge() as session:
        assert session.get(Account, ids["reviewer"]).active is False
    await client.post(f"/accounts/{ids['reviewer']}/active", data={"csrf_token": token, "active": "1"})
    with knowledge() as session:
        assert session.get(Account, ids["reviewer"]).active is True
    myself = await client.post(f"/accounts/{ids['admin']}/active", data={"csrf_token": token})
    assert myself.status == 400 and "不能停用自己的账号" in await myself.text()


async def test_officer_links_their_telegram_with_a_one_time_code(client, knowledge) -> None:
    token = await sign_in(client, "gaocheng")
    page = await (await client.get("/account/telegram")).text()
    assert "未绑定" in page and "生成绑定码" in page
    page = await (await client.post("/account/telegram", data={"csrf_token": token})).text()
    code = re.search(r"/link (\d{8})", page).group(1)
    assert "15 分钟内" in page
    with knowledge() as session:
        account = redeem_telegram_link_code(session, code, "777000")
        assert account is not None and account.username == "gaocheng"
        session.commit()
        assert session.scalars(select(AuditLog).where(AuditLog.action == "link_code")).one().actor == "gaocheng"
    page = await (await client.get("/account/telegram")).text()
    assert "已绑定" in page


async def test_admin_generates_the_code_for_an_officer(client, knowledge) -> None:
    token = await sign_in(client, "admin")
    with knowledge() as session:
        officer_id = session.scalars(select(Account.id).where(Account.username == "fengtai")).one()
    page = await (await client.post(f"/accounts/{officer_id}/telegram", data={"csrf_token": token})).text()
    code = re.search(r"/link (\d{8})", page).group(1)
    with knowledge() as session:
        assert redeem_telegram_link_code(session, code, "888000").username == "fengtai"
        session.commit()
    listing = await (await client.get("/accounts")).text()
    assert "已绑定" in listing


async def test_passwords_never_reach_the_log(client, caplog) -> None:
    caplog.set_level("DEBUG")
    await sign_in(client, "admin")
    assert PASSWORD not in caplog.text
