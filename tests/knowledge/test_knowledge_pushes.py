"""The push outbox and the gateway's knowledge functions on SQLite and PostgreSQL: alerts noticed once,
claims won by one process only, retries, delivery of officers' answers, farmers and their regions,
short keys for buttons, and an officer's price from Telegram."""
from __future__ import annotations

import datetime as dt
import functools
import threading

import pytest
from sqlalchemy import event, select, update

from knowledge.catalog.lookup import find_region
from knowledge.models import AuditLog, Farmer, HandoffTicket, Product, Push, Subscription, utcnow
from knowledge.outbox.handoff_answers import enqueue_handoff_answers
from knowledge.outbox.price_alerts import enqueue_price_alerts
from knowledge.outbox.queue import (
    MAX_ATTEMPTS,
    acknowledge_webchat_pushes,
    claim_telegram_pushes,
    enqueue_push,
    mark_failed,
    mark_sent,
    offer_webchat_pushes,
)
from knowledge.people.farmers import remember_farmer, set_farmer_region_by_name
from knowledge.prices.saving import save_price
from knowledge.prices.validation import PriceInput, check_price
from wording import price_push_text

# The gateway's wording, with prices older than 7 days called old.
WRITE = functools.partial(price_push_text, stale_after_days=7)


def _farmer(session, sender: str = "tg-1", chat: str = "1") -> Farmer:
    return remember_farmer(session, sender, "telegram", chat, "老王")


def _write_corn(session, price: str, today: dt.date, source: str = "县农业农村局") -> None:
    check = check_price(session, PriceInput(product="玉米", market="藁城粮站", region="藁城区", date=today,
                                            unit="元/斤", source=source, avg_price=price), today=today)
    assert check.price is not None, check.errors
    save_price(session, check.price, author="test")


def test_an_alert_is_written_once_per_change_and_not_for_a_reimport(kb, today):
    start = utcnow()
    with kb.scope() as session:
        enqueue_price_alerts(session, today, WRITE, now=start)  # the cursor starts here
        farmer = _farmer(session)
        corn = session.scalars(select(Product).where(Product.name == "玉米")).one()
        # 藁城粮站 is a local market: news to a farmer who subscribed for 藁城, never a national price.
        session.add(Subscription(farmer=farmer, product=corn, rule="any_change", created_at=start,
                                 region=find_region(session, "藁城区")))
    with kb.scope() as session:
        _write_corn(session, "1.30", today)
    with kb.scope() as session:
        assert enqueue_price_alerts(session, today, WRITE) == 1
        assert enqueue_price_alerts(session, today, WRITE) == 0, "the same change is not noticed twice"
    with kb.scope() as session:
        _write_corn(session, "1.30", today)  # the same figures again: no news
    with kb.scope() as session:
        assert enqueue_price_alerts(session, today, WRITE) == 0
        _write_corn(session, "1.25", today)
    with kb.scope() as session:
        assert enqueue_price_alerts(session, today, WRITE) == 1
        texts = session.scalars(select(Push.text).order_by(Push.id)).all()
    assert "均价1.30元/斤" in texts[0] and "均价1.25元/斤" in texts[1]


def test_an_alert_says_the_old_and_the_new_price_and_the_date(kb, today):
    # Issue 15: an alert did not say what the price changed from.
    yesterday = today - dt.timedelta(days=1)
    start = utcnow()
    with kb.scope() as session:
        _write_corn(session, "1.30", yesterday)
        enqueue_price_alerts(session, today, WRITE, now=start)  # the cursor starts here
        corn = session.scalars(select(Product).where(Product.name == "玉米")).one()
        session.add(Subscription(farmer=_farmer(session), product=corn, rule="any_change", created_at=start,
                                 region=find_region(session, "藁城区")))
    with kb.scope() as session:
        _write_corn(session, "1.25", today)
    with kb.scope() as session:
        assert enqueue_price_alerts(session, today, WRITE) == 1
        text = session.scalars(select(Push.text)).one()
    assert f"均价1.25元/斤（{today.isoformat()}）" in text
    assert f"上次是{yesterday.isoformat()}的均价1.30元/斤，到{today.isoformat()}跌了0.05元。" in text


def test_a_farmer_without_a_region_is_alerted_with_the_aggregate_never_one_market_as_national(kb, today):
    # Issue 15: farmers with no region got one 藁城 market's price in their alerts.
    start = utcnow()
    with kb.scope() as session:
        enqueue_price_alerts(session, today, WRITE, now=start)
        potato = session.scalars(select(Product).where(Product.name == "土豆")).one()
        session.add(Subscription(farmer=_farmer(session), product=potato, rule="any_change", created_at=start))
    with kb.scope() as session:
        for market, region, price in (("藁城粮站", "藁城区", "0.80"), ("郑州万邦市场", "郑州", "1.00")):
            check = check_price(session, PriceInput(product="土豆", market=market, region=region, date=today,
                                                    unit="元/斤", source="县农业农村局", avg_price=price), today=today)
            save_price(session, check.price, author="test")
    with kb.scope() as session:
        assert enqueue_price_alerts(session, today, WRITE) == 1
        text = session.scalars(select(Push.text)).one()
    assert text.startswith("【价格提醒】土豆：均价0.90元/斤（0.80–1.00），多地参考（2省2个市场，")
    assert "全国" not in text.replace("不是全国数据", "")


def test_a_subscription_made_after_the_price_is_not_alerted_for_it(kb, today):
    with kb.scope() as session:
        enqueue_price_alerts(session, today, WRITE)
        _write_corn(session, "1.40", today)
    with kb.scope() as session:
        farmer = _farmer(session)
        corn = session.scalars(select(Product).where(Product.name == "玉米")).one()
        session.add(Subscription(farmer=farmer, product=corn, rule="any_change", region=find_region(session, "藁城区"),
                                 created_at=utcnow() + dt.timedelta(seconds=1)))
    with kb.scope() as session:
        assert enqueue_price_alerts(session, today, WRITE) == 0


def test_only_one_of_two_processes_claims_a_push(kb):
    with kb.scope() as session:
        farmer = _farmer(session)
        assert enqueue_push(session, "handoff:x", "handoff_answer", farmer.id, "答复")
        assert not enqueue_push(session, "handoff:x", "handoff_answer", farmer.id, "答复"), "the key is unique"
    claims = {}
    barrier = threading.Barrier(2)

    def claim(worker: str) -> None:
        session = kb.session()
        try:
            barrier.wait()
            claims[worker] = claim_telegram_pushes(session, worker)
            session.commit()
        finally:
            session.close()

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(jobs) for jobs in claims.values()) == [0, 1]


def _rewrite_when_claimed(kb, key: str, text: str) -> None:
    """Rewrite the pending push from another connection just before the gateway's claim UPDATE runs."""
    def before_claim(_connection, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("UPDATE PUSH SET STATUS") and not fired:
            fired.append(True)
            with kb.scope() as other:  # the conditional rewrite of knowledge.outbox.queue.rewrite_pending_push
                other.execute(update(Push).where(Push.push_key == key, Push.status == "pending").values(text=text)
                              .execution_options(synchronize_session=False))

    fired: list = []
    event.listen(kb.engine, "before_cursor_execute", before_claim)


@pytest.mark.parametrize("channel", ["telegram", "webchat"])
def test_a_push_rewritten_as_it_is_claimed_is_sent_with_the_new_text(kb, channel):
    with kb.scope() as session:
        farmer = _farmer(session) if channel == "telegram" else remember_farmer(session, "web-1", "webchat")
        enqueue_push(session, "handoff:7", "handoff_answer", farmer.id, "旧的回答")
    _rewrite_when_claimed(kb, "handoff:7", "新的回答")
    with kb.scope() as session:
        if channel == "telegram":
            texts = [job.text for job in claim_telegram_pushes(session, "gateway")]
        else:
            texts = [text for _id, text in offer_webchat_pushes(session, "web-1")]
    assert texts == ["新的回答"], "the gateway sends the text of the row it claimed"


def test_failures_back_off_then_give_up_and_expired_claims_are_retried(kb):
    now = utcnow()
    with kb.scope() as session:
        farmer = _farmer(session)
        enqueue_push(session, "p1", "price_alert", farmer.id, "提醒", now=now)
        job = claim_telegram_pushes(session, "a", now=now)[0]
        assert mark_failed(session, job.id, "NetworkError", now=now) == "pending"
        assert claim_telegram_pushes(session, "a", now=now) == [], "not before the backoff"
        later = now + dt.timedelta(hours=2)
        for _ in range(MAX_ATTEMPTS - 2):
            assert claim_telegram_pushes(session, "a", now=later)
            mark_failed(session, job.id, "NetworkError", now=later)
            later += dt.timedelta(hours=2)
        assert claim_telegram_pushes(session, "a", now=later)
        assert mark_failed(session, job.id, "NetworkError", now=later) == "failed"
        enqueue_push(session, "p2", "price_alert", farmer.id, "提醒2", now=now)
        assert claim_telegram_pushes(session, "crashed", now=now)
        assert claim_telegram_pushes(session, "b", now=now + dt.timedelta(minutes=1)) == []
        assert [j.text for j in claim_telegram_pushes(session, "b", now=now + dt.timedelta(minutes=6))] == ["提醒2"]


def test_answered_tickets_are_delivered_once_and_marked_delivered(kb):
    with kb.scope() as session:
        telegram = _farmer(session)
        web = remember_farmer(session, "web-abc", "webchat")
        for farmer in (telegram, web):
            session.add(HandoffTicket(farmer=farmer, question="化肥补贴怎么领", conversation_id=farmer.sender_id,
                                      status="answered", answer="到村委会登记。"))
        session.add(HandoffTicket(farmer=web, question="还没回答", conversation_id="web-abc"))
    with kb.scope() as session:
        assert enqueue_handoff_answers(session) == 2
        assert enqueue_handoff_answers(session) == 0
        job = claim_telegram_pushes(session, "a")[0]
        mark_sent(session, job.id)
        (offered_id, text), = offer_webchat_pushes(session, "web-abc")
        assert text.endswith("到村委会登记。")
        assert acknowledge_webchat_pushes(session, "tg-1", [offered_id]) == 0, "only the farmer's own page"
        assert acknowledge_webchat_pushes(session, "web-abc", [offered_id]) == 1
        assert offer_webchat_pushes(session, "web-abc") == []
    with kb.scope() as session:
        statuses = sorted(session.scalars(select(HandoffTicket.status)).all())
    assert statuses == ["delivered", "delivered", "open"]


def test_farmer_is_remembered_and_a_group_does_not_move_their_chat(kb):
    with kb.scope() as session:
        farmer = remember_farmer(session, "tg-9", "telegram", "9", "老李")
        remember_farmer(session, "tg-9", "telegram", "-100", "老李", private_chat=False)
        assert farmer.chat_id == "9"
        assert remember_farmer(session, "tg-10", "telegram", "-100", "老张", private_chat=False).chat_id is None
        # A group chat stored for a farmer by an earlier version is never pushed to.
        earlier = Farmer(sender_id="tg-11", channel="telegram", chat_id="-100")
        session.add(earlier)
        session.flush()
        enqueue_push(session, "handoff:99", "handoff_answer", earlier.id, "您的回复")
        assert claim_telegram_pushes(session, "gateway") == []
        assert set_farmer_region_by_name(session, farmer, "藁城").name == "藁城区"
        assert set_farmer_region_by_name(session, farmer, "火星") is None
        audit = session.scalars(select(AuditLog.after).where(AuditLog.entity == "farmer")).one()
        assert audit == '{"region": "藁城区"}'


# A shared location's county: tests/knowledge/test_home_region.py.


def test_a_web_chat_poll_with_nothing_to_show_only_reads(kb):
    # The page polls every 4 s while a late answer is due: with nothing for the farmer the poll is one SELECT, no
    # UPDATE (with 200 farmers over capacity the polls were most of a gateway's CPU, load_bench).
    statements = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    with kb.scope() as session:
        remember_farmer(session, "web-quiet", "webchat")
    event.listen(kb.engine, "before_cursor_execute", note)
    try:
        with kb.scope() as session:
            assert offer_webchat_pushes(session, "web-quiet") == []
    finally:
        event.remove(kb.engine, "before_cursor_execute", note)
    assert statements == ["SELECT"]
