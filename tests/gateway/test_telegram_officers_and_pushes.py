"""Officers' /link and /setprice, farmers' region from /start or a location, and pushes, through the real PTB
Application against the fake Bot API (a fake Rasa: none of this needs language understanding)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from bot.push_scheduler import PushScheduler
from bot.webchat import CHAT_COOKIE, IDENTITY_KEY
from knowledge.catalog.lookup import find_region
from knowledge.db import KnowledgeStore
from knowledge.files.prices import import_prices
from knowledge.local_time import local_zone
from knowledge.models import AuditLog, Farmer, HandoffTicket, PriceRecord, Product, Push, Subscription, utcnow
from knowledge.people.accounts import create_account, issue_telegram_link_code
from knowledge.people.farmers import find_farmer
from tests.gateway import fake_telegram as tg

OFFICER_TG = 6660001
FARMER_TG = 6670000


def _officer_code(store: KnowledgeStore, username: str, region: str) -> str:
    def work(session) -> str:
        account = create_account(session, username, "correct horse battery", "officer", region, display_name="张信息员")
        return issue_telegram_link_code(session, account, actor="admin")

    return store.run_blocking(work)


def _buttons(call) -> list:
    return [button["callback_data"] for row in call.params["reply_markup"]["inline_keyboard"] for button in row]


async def test_officer_links_then_sets_a_price_with_confirm(start_gateway, fake_rasa, fake_telegram, store) -> None:
    code = _officer_code(store, "zhang_gc", "藁城区")
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(OFFICER_TG, f"/link {code}"))
    await fake_telegram.wait_for("sendMessage")
    assert fake_telegram.sent_texts()[-1].startswith("绑定成功：张信息员")

    await fake_telegram.enqueue(tg.text(OFFICER_TG, "/setprice 玉米 1.15 元/斤 藁城粮站"))
    question = (await fake_telegram.wait_for("sendMessage", 2))[-1]
    assert "请确认录入：玉米" in question.params["text"] and "藁城粮站" in question.params["text"]
    confirm, cancel = _buttons(question)
    assert confirm.startswith("sp:ok:") and cancel.startswith("sp:no:")
    with store._factory() as session:
        assert session.scalars(select(PriceRecord).where(PriceRecord.entered_by == "zhang_gc")).first() is None

    await fake_telegram.enqueue(tg.button_press(OFFICER_TG, confirm))
    edited = await fake_telegram.wait_for("editMessageText")
    assert edited[0].params["text"].startswith("已录入：玉米 均价1.15元/斤（藁城粮站")
    assert fake_telegram.calls_to("answerCallbackQuery")
    with store._factory() as session:
        record = session.scalars(select(PriceRecord).where(PriceRecord.entered_by == "zhang_gc")).one()
        assert record.entered_avg == Decimal("1.15") and record.entered_unit == "元/斤"
        assert record.avg_price == Decimal("2.3")  # stored in the canonical 元/公斤
        assert record.market.region.name == "藁城区"
        audit = session.scalars(select(AuditLog).where(AuditLog.entity == "price_record",
                                                       AuditLog.entity_id == record.id)).one()
        # Audited as the console's price form audits it (tests/gateway/test_officer_prices.py compares the two).
        assert audit.actor == "zhang_gc" and audit.action == "create" and '"market": "藁城粮站"' in audit.after

    # A second press of the same button writes nothing more.
    await fake_telegram.enqueue(tg.button_press(OFFICER_TG, confirm))
    await fake_telegram.wait_for("editMessageText", 2)
    assert "已经处理过" in fake_telegram.calls_to("editMessageText")[-1].params["text"]


async def test_officer_price_is_checked_like_the_import_and_limited_to_their_region(
    start_gateway, fake_rasa, fake_telegram, store
) -> None:
    code = _officer_code(store, "li_gc", "藁城区")
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(OFFICER_TG + 1, f"/link {code}"))
    await fake_telegram.enqueue(tg.text(OFFICER_TG + 1, "/setprice 仙桃 1.15 元/斤"))
    await fake_telegram.enqueue(tg.text(OFFICER_TG + 1, "/setprice 玉米 1.15 元/两"))
    await fake_telegram.enqueue(tg.text(OFFICER_TG + 1, "/setprice 大白菜 0.6 元/斤 新发地"))
    await fake_telegram.enqueue(tg.text(OFFICER_TG + 1, "/setprice 玉米 1.15"))
    await fake_telegram.wait_for("sendMessage", 5)
    texts = fake_telegram.sent_texts()
    assert "不认识的品名“仙桃”" in texts[1]
    assert "不认识的单位" in texts[2]
    assert "不在您负责的藁城区范围内" in texts[3]
    assert "请写明单位" in texts[4]
    assert fake_telegram.calls_to("sendMessage")[1].params.get("reply_markup") is None


async def test_officer_can_cancel(start_gateway, fake_rasa, fake_telegram, store) -> None:
    code = _officer_code(store, "wang_gc", "藁城区")
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(OFFICER_TG + 2, f"/link {code}"))
    await fake_telegram.enqueue(tg.text(OFFICER_TG + 2, "/setprice 小麦 1.20-1.25 元/斤"))
    question = (await fake_telegram.wait_for("sendMessage", 2))[-1]
    await fake_telegram.enqueue(tg.button_press(OFFICER_TG + 2, _buttons(question)[1]))
    edited = await fake_telegram.wait_for("editMessageText")
    assert edited[0].params["text"] == "已取消，这条价格没有录入。"
    with store._factory() as session:
        assert session.scalars(select(PriceRecord).where(PriceRecord.entered_by == "wang_gc")).first() is None


async def test_farmer_cannot_set_prices(start_gateway, fake_rasa, fake_telegram, store) -> None:
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(FARMER_TG, "/setprice 玉米 9.99 元/斤"))
    sent = await fake_telegram.wait_for("sendMessage")
    assert sent[0].params["text"].startswith("只有信息员可以录入价格")
    assert sent[0].params.get("reply_markup") is None
    await fake_telegram.enqueue(tg.text(FARMER_TG, "/link 12345678"))
    await fake_telegram.wait_for("sendMessage", 2)
    assert "绑定码不对或已过期" in fake_telegram.sent_texts()[-1]
    assert fake_rasa.received == []


async def test_start_asks_for_the_region_once_and_stores_the_answer(start_gateway, fake_rasa, fake_telegram,
                                                                    store) -> None:
    farmer = FARMER_TG + 10
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(farmer, "/start"))
    await fake_telegram.wait_for("sendMessage", 2)
    question = fake_telegram.calls_to("sendMessage")[1]
    assert "哪个县" in question.params["text"]
    assert question.params["reply_markup"]["keyboard"][0][0]["request_location"] is True
    await fake_telegram.enqueue(tg.text(farmer, "藁城"))
    await fake_telegram.wait_for("sendMessage", 3)
    assert fake_telegram.sent_texts()[-1].startswith("好的，已记下您在藁城区")
    # The next question carries the stored region to Rasa.
    await fake_telegram.enqueue(tg.text(farmer, "玉米多少钱"))
    await fake_telegram.wait_for("sendMessage", 4)
    assert fake_rasa.received[-1]["metadata"]["region"] == "藁城区"
    # /start again does not ask again.
    await fake_telegram.enqueue(tg.text(farmer, "/start"))
    await fake_telegram.wait_for("sendMessage", 6)
    assert "您所在的地区：藁城区" in fake_telegram.sent_texts()[-1]


async def test_a_question_instead_of_a_place_goes_to_rasa(start_gateway, fake_rasa, fake_telegram, store) -> None:
    farmer = FARMER_TG + 12
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(farmer, "/start"))
    await fake_telegram.wait_for("sendMessage", 2)
    await fake_telegram.enqueue(tg.text(farmer, "玉米多少钱"))
    await fake_telegram.wait_for("sendMessage", 3)
    assert fake_rasa.received[-1]["message"] == "玉米多少钱"
    assert fake_telegram.sent_texts()[-1] == "玉米：1.00–1.05元/斤"


async def test_shared_location_is_confirmed_before_it_sets_the_region(start_gateway, fake_rasa, fake_telegram,
                                                                      store) -> None:
    farmer = FARMER_TG + 11
    await start_gateway(fake_rasa.url)
    # A point in 藁城: its county is asked back, nothing is stored yet.
    await fake_telegram.enqueue(tg.message(farmer, location={"latitude": 38.03, "longitude": 114.85}))
    [question] = await fake_telegram.wait_for("sendMessage")
    assert "河北省石家庄市藁城区" in question.params["text"] and "是这里吗" in question.params["text"]
    [[button]] = question.params["reply_markup"]["inline_keyboard"]
    with store._factory() as session:
        assert find_farmer(session, f"tg-{farmer}") is None or find_farmer(session, f"tg-{farmer}").region is None
    await fake_telegram.enqueue(tg.button_press(farmer, button["callback_data"]))
    await fake_telegram.wait_for("sendMessage", 2)
    assert "已记下您在藁城区" in fake_telegram.sent_texts()[-1]
    with store._factory() as session:
        assert find_farmer(session, f"tg-{farmer}").region.name == "藁城区"
    # Far out at sea: no region is guessed.
    await fake_telegram.enqueue(tg.message(farmer, location={"latitude": 0.0, "longitude": 160.0}))
    await fake_telegram.wait_for("sendMessage", 3)
    assert "没有我们收录的地区" in fake_telegram.sent_texts()[-1]


async def test_an_implausible_setprice_is_warned_before_confirm_and_audited_when_confirmed(
    start_gateway, fake_rasa, fake_telegram, store
) -> None:
    # Issue 15: a typo (118 for 11.8) went straight to farmers. Expected: the warning before 确认.
    code = _officer_code(store, "zhao_gc", "藁城区")
    officer = OFFICER_TG + 7
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(officer, f"/link {code}"))
    await fake_telegram.wait_for("sendMessage")
    await fake_telegram.enqueue(tg.text(officer, "/setprice 生猪 118 元/斤 藁城生猪收购点"))
    question = (await fake_telegram.wait_for("sendMessage", 2))[-1]
    assert "⚠️ 生猪 118.00元/斤 比近期中位数 5.72元/斤 高20.6倍（超过3倍），请核对是否写错。没写错再点“确认”。" in (
        question.params["text"])
    confirm, _ = _buttons(question)
    await fake_telegram.enqueue(tg.button_press(officer, confirm))
    edited = await fake_telegram.wait_for("editMessageText")
    assert edited[0].params["text"].startswith("已录入：生猪")
    with store._factory() as session:
        accepted = session.scalars(select(AuditLog).where(AuditLog.action == "accept_outlier")).all()
    assert [(entry.actor, '"via": "/setprice"' in entry.after) for entry in accepted] == [("zhao_gc", True)]


async def test_start_with_a_shared_name_asks_which_place(start_gateway, fake_rasa, fake_telegram, store) -> None:
    farmer = FARMER_TG + 12
    await start_gateway(fake_rasa.url)
    await fake_telegram.enqueue(tg.text(farmer, "/start 鼓楼"))
    calls = await fake_telegram.wait_for("sendMessage", 2)
    which = calls[-1].params
    assert "好几个" in which["text"]
    labels = {row[0]["text"]: row[0]["callback_data"] for row in which["reply_markup"]["inline_keyboard"]}
    assert "江苏省南京市鼓楼区" in labels and len(labels) == 4
    await fake_telegram.enqueue(tg.button_press(farmer, labels["江苏省南京市鼓楼区"]))
    await fake_telegram.wait_for("sendMessage", 3)
    with store._factory() as session:
        region = find_farmer(session, f"tg-{farmer}").region
        assert (region.name, region.parent.name) == ("鼓楼区", "南京市")
    # A question naming a place never changes it (actions/farmers.py no longer sets the region).
    assert fake_rasa.received == []


def _subscribe(store: KnowledgeStore, sender: str, chat_id: int, rule: str = "any_change", **values) -> int:
    def work(session) -> int:
        farmer = Farmer(sender_id=sender, channel="telegram" if sender.startswith("tg-") else "webchat",
                        chat_id=str(chat_id) if sender.startswith("tg-") else None)
        corn = session.scalars(select(Product).where(Product.name == "玉米")).one()
        # For 藁城, where _import_corn's market is: a local market's price is news there, never national news.
        subscription = Subscription(farmer=farmer, product=corn, rule=rule, region=find_region(session, "藁城区"),
                                    **values)
        session.add(subscription)
        session.flush()
        return subscription.id

    return store.run_blocking(work)


def _import_corn(store: KnowledgeStore, tmp_path: Path, price: str, day: dt.date) -> None:
    path = tmp_path / f"corn-{price}.csv"
    path.write_text(f"品名,市场,地区,平均价,单位,发布日期,来源\n玉米,藁城粮站,藁城区,{price},元/斤,{day},县农业农村局\n",
                    encoding="utf-8")
    report = store.run_blocking(lambda session: import_prices(session, path, actor="importer", today=day))
    assert report.ok, report.problems


async def test_subscription_push_after_a_price_import_once_even_with_two_schedulers(
    start_gateway, fake_rasa, fake_telegram, store, tmp_path
) -> None:
    farmer = FARMER_TG + 20
    gateway = await start_gateway(fake_rasa.url)
    await gateway.scheduler.run_once()  # the cursor starts now; nothing is due
    _subscribe(store, f"tg-{farmer}", farmer)
    assert await gateway.scheduler.run_once() == 0
    today = dt.date.today()
    _import_corn(store, tmp_path, "1.32", today)

    # A second gateway process noticing the same import at the same time.
    other = PushScheduler(store, 30, local_zone("Asia/Shanghai"), 7, bot=gateway.scheduler.bot)
    sent = await gateway.scheduler.run_once() + await other.run_once()
    assert sent == 1
    texts = fake_telegram.sent_texts(farmer)
    assert len(texts) == 1
    assert texts[0].startswith(
        f"【价格提醒】玉米（藁城区）：均价1.32元/斤（{today.isoformat()}）。藁城粮站的价格，仅供参考。")
    assert "来源：县农业农村局" in texts[0] and today.isoformat() in texts[0]

    # A restart (a fresh scheduler) and the same file imported again: nothing is repeated.
    _import_corn(store, tmp_path, "1.32", today)
    restarted = PushScheduler(store, 30, local_zone("Asia/Shanghai"), 7, bot=gateway.scheduler.bot)
    assert await restarted.run_once() == 0
    # A real change is news again.
    _import_corn(store, tmp_path, "1.35", today)
    assert await restarted.run_once() == 1
    assert "均价1.35元/斤" in fake_telegram.sent_texts(farmer)[-1]
    with store._factory() as session:
        statuses = session.scalars(select(Push.status).join(Farmer).where(Farmer.sender_id == f"tg-{farmer}")).all()
    assert statuses == ["sent", "sent"]


async def test_threshold_alert_only_beyond_the_threshold(start_gateway, fake_rasa, fake_telegram, store,
                                                         tmp_path) -> None:
    farmer = FARMER_TG + 21
    gateway = await start_gateway(fake_rasa.url)
    await gateway.scheduler.run_once()
    _subscribe(store, f"tg-{farmer}", farmer, rule="below", threshold=Decimal("1.10"))
    today = dt.date.today()
    _import_corn(store, tmp_path, "1.40", today)
    await gateway.scheduler.run_once()
    assert fake_telegram.sent_texts(farmer) == []
    _import_corn(store, tmp_path, "1.05", today)
    await gateway.scheduler.run_once()
    assert "已低于您设的1.10元/斤" in fake_telegram.sent_texts(farmer)[0]


async def test_push_postponed_by_flood_control_is_sent_later(start_gateway, fake_rasa, fake_telegram, store,
                                                             tmp_path) -> None:
    farmer = FARMER_TG + 22
    gateway = await start_gateway(fake_rasa.url)
    await gateway.scheduler.run_once()
    _subscribe(store, f"tg-{farmer}", farmer)
    _import_corn(store, tmp_path, "1.51", dt.date.today())
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5)
    assert await gateway.scheduler.run_once() == 0
    with store._factory() as session:
        push = session.scalars(select(Push).join(Farmer).where(Farmer.sender_id == f"tg-{farmer}")).one()
        assert push.status == "pending" and push.attempts == 1 and push.next_attempt_at > utcnow()
    later = PushScheduler(store, 30, local_zone("Asia/Shanghai"), 7, bot=gateway.scheduler.bot,
                          clock=lambda: utcnow() + dt.timedelta(seconds=10))
    assert await later.run_once() == 1
    refused, delivered = fake_telegram.sent_texts(farmer)  # the fake records the call it answered with 429
    assert refused == delivered and "均价1.51元/斤" in delivered
    assert await later.run_once() == 0


async def test_push_to_a_chat_that_blocked_the_bot_is_given_up(start_gateway, fake_rasa, fake_telegram, store,
                                                               tmp_path) -> None:
    blocked = FARMER_TG + 23
    gateway = await start_gateway(fake_rasa.url)
    await gateway.scheduler.run_once()
    _subscribe(store, f"tg-{blocked}", blocked)
    _import_corn(store, tmp_path, "1.52", dt.date.today())
    fake_telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await gateway.scheduler.run_once()
    with store._factory() as session:
        push = session.scalars(select(Push).join(Farmer).where(Farmer.sender_id == f"tg-{blocked}")).one()
        assert push.status == "failed" and "Forbidden" in push.last_error


async def test_daily_digest_at_the_farmers_hour_once_a_day(start_gateway, fake_rasa, fake_telegram, store) -> None:
    farmer = FARMER_TG + 30
    gateway = await start_gateway(fake_rasa.url)
    _subscribe(store, f"tg-{farmer}", farmer, rule="daily", daily_hour=8)
    tomorrow = (utcnow() + dt.timedelta(hours=8)).date() + dt.timedelta(days=1)

    def at(local_hour: int):
        # 北京时间 local_hour o'clock tomorrow, as the naive UTC the scheduler's clock gives.
        return lambda: dt.datetime.combine(tomorrow, dt.time(local_hour)) - dt.timedelta(hours=8)

    def scheduler(local_hour: int) -> PushScheduler:
        return PushScheduler(store, 30, local_zone("Asia/Shanghai"), 7, bot=gateway.scheduler.bot, clock=at(local_hour))

    assert await scheduler(7).run_once() == 0
    assert await scheduler(8).run_once() == 1
    assert await scheduler(9).run_once() == 0
    digest = fake_telegram.sent_texts(farmer)
    assert len(digest) == 1
    assert digest[0].startswith("【每日价格】藁城区、石家庄和河北暂时没有玉米的价格，下面是全国的数据。玉米（全国）")


async def test_officer_answer_reaches_telegram_and_web_chat_farmers(start_gateway, fake_rasa, fake_telegram,
                                                                    store) -> None:
    farmer = FARMER_TG + 40
    gateway = await start_gateway(fake_rasa.url)
    page = await gateway.client.get("/")
    web_sender = gateway.app[IDENTITY_KEY].sender_for(page.cookies[CHAT_COOKIE].value)

    def tickets(session) -> tuple:
        ids = []
        for sender, channel, chat in ((f"tg-{farmer}", "telegram", str(farmer)), (web_sender, "webchat", None)):
            person = Farmer(sender_id=sender, channel=channel, chat_id=chat)
            ticket = HandoffTicket(farmer=person, question="玉米叶子发黄怎么办", conversation_id=sender,
                                   status="answered", answer="可能缺氮，建议追施尿素，每亩10公斤。",
                                   answered_at=utcnow())
            session.add(ticket)
            session.flush()
            ids.append(ticket.id)
        return tuple(ids)

    telegram_ticket, web_ticket = store.run_blocking(tickets)
    assert await gateway.scheduler.run_once() == 1
    text = fake_telegram.sent_texts(farmer)[0]
    assert text.startswith("【信息员回复】您问的“玉米叶子发黄怎么办”") and "追施尿素" in text

    # Sent here by another site's link, the browser gets nothing and the answer stays for the chat page.
    cross_site = await gateway.client.get("/api/messages/pending", headers={"Sec-Fetch-Site": "cross-site"})
    assert (await cross_site.json())["messages"] == []
    first = await (await gateway.client.get("/api/messages/pending")).json()
    assert len(first["messages"]) == 1 and "追施尿素" in first["messages"][0]["text"]
    await gateway.client.post("/api/messages/delivered", json={"ids": [first["messages"][0]["id"]]})
    again = await (await gateway.client.get("/api/messages/pending")).json()
    assert again["messages"] == []
    with store._factory() as session:
        for ticket_id in (telegram_ticket, web_ticket):
            ticket = session.get(HandoffTicket, ticket_id)
            assert ticket.status == "delivered" and ticket.delivered_at is not None
    assert await gateway.scheduler.run_once() == 0
