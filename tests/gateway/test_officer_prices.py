"""The officer's /setprice command (bot.officer_prices) and the short button keys it is held under."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.button_keys import remember_once, remember_payload
from bot.officer_prices import confirm_price, hold_price, parse_setprice, prepare_price
from knowledge.callback_store import forget, recall
from knowledge.db import KnowledgeStore, open_store
from knowledge.models import Account, AuditLog, PriceRecord
from knowledge.people.accounts import create_account
from knowledge.prices.editing import save_price_audited
from knowledge.prices.officer_entry import OfficerPriceError, default_market_name
from knowledge.prices.validation import PriceInput, check_price
from scripts.demo_knowledge import TODAY
from tests.conftest import copy_database


def test_button_payloads_and_one_time_keys(store: KnowledgeStore):
    payload = '/inform{"product":"大白菜","region":"石家庄市藁城区","market":"石家庄桥西蔬菜批发市场"}'
    with store.session() as session:
        key = remember_payload(session, payload)
        assert remember_payload(session, payload) == key and len(key) == 16
        once = remember_once(session, "setprice", "{}")
    with store.session() as session:
        assert recall(session, key, "payload") == payload
        assert recall(session, key, "setprice") is None
        assert forget(session, once, "setprice") and not forget(session, once, "setprice")


@pytest.mark.parametrize(("words", "expected"), [
    ("玉米 1.15 元/斤", ("玉米", "1.15", None, "元/斤", "")),
    ("玉米 1.15元/斤 新发地", ("玉米", "1.15", None, "元/斤", "新发地")),
    ("小麦 １.２０-１.２５ 元/公斤 藁城 粮站", ("小麦", "1.20", "1.25", "元/公斤", "藁城 粮站")),
])
def test_setprice_words(words, expected):
    assert parse_setprice(words) == expected


@pytest.mark.parametrize("words", ["", "玉米", "玉米 便宜", "玉米 1.15"])
def test_setprice_words_refused_with_the_usage(words):
    with pytest.raises(OfficerPriceError):
        parse_setprice(words)


def test_officer_price_confirmed_is_saved_as_the_officer_and_audited(store: KnowledgeStore):
    today = TODAY
    with store.session() as session:
        account = create_account(session, "zhao", "long-enough-password", "officer", region_name="石家庄")
        account.telegram_user_id = "42"
    with store.session() as session:
        pending, question = prepare_price(session, "42", "玉米 1.18 元/斤", today)
        key = hold_price(session, pending)
        assert "请确认录入：玉米" in question
        with pytest.raises(OfficerPriceError, match="本人"):
            confirm_price(session, key, "43", today)
    with store.session() as session:
        assert confirm_price(session, key, "42", today).startswith("已录入：玉米 均价1.18元/斤")
    with store.session() as session:
        record = session.scalars(select(PriceRecord).where(PriceRecord.entered_by == "zhao")).one()
        assert record.entered_avg == Decimal("1.18") and record.source == "信息员报价（zhao）"
        assert record.market.region.name in ("石家庄市", "藁城区")
        actions = session.scalars(select(AuditLog.action).where(AuditLog.actor == "zhao",
                                                                AuditLog.entity == "price_record")).all()
        assert actions == ["create"]
        with pytest.raises(OfficerPriceError, match="处理过"):
            confirm_price(session, key, "42", today)


def _price_audit(store: KnowledgeStore) -> list:
    with store.session() as session:
        return [(row.actor, row.action, row.entity, row.entity_id, row.before, row.after)
                for row in session.scalars(select(AuditLog).where(AuditLog.entity.in_(("price_record", "market")))
                                           .order_by(AuditLog.id))]


def test_a_setprice_and_the_console_price_form_leave_the_same_audit_entries(seeded_template, tmp_path):
    audits = {}
    for way in ("setprice", "console"):
        store = open_store(copy_database(seeded_template, tmp_path / f"{way}.db"))
        with store.session() as session:
            account = create_account(session, "zhao", "long-enough-password", "officer", region_name="石家庄")
            account.telegram_user_id = "42"
        for price in ("1.18", "1.20"):  # a new record, then an edit of it
            with store.session() as session:
                if way == "setprice":
                    pending, _ = prepare_price(session, "42", f"玉米 {price} 元/斤", TODAY)
                    key = hold_price(session, pending)
                    confirm_price(session, key, "42", TODAY)
                else:
                    officer = session.scalars(select(Account).where(Account.username == "zhao")).one()
                    check = check_price(session, PriceInput(
                        product="玉米", market=default_market_name(session, officer), region=officer.region.name,
                        date=TODAY.isoformat(), unit="元/斤", avg_price=price, source="信息员报价（zhao）",
                    ), today=TODAY)
                    save_price_audited(session, check.price, "zhao")
        audits[way] = _price_audit(store)
        store.dispose()
    # The officer's region has no market yet: the first price creates its 集市.
    assert [(row[2], row[1]) for row in audits["setprice"]] == [
        ("market", "create"), ("price_record", "create"), ("price_record", "update")]
    assert audits["setprice"] == audits["console"]
