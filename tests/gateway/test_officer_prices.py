"""The officer's /setprice command (bot.officer_prices) and the short button keys it is held under."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.button_keys import remember_once, remember_payload
from bot.officer_prices import confirm_price, hold_price, parse_setprice, prepare_price
from knowledge.callback_store import forget, recall
from knowledge.db import KnowledgeStore
from knowledge.models import AuditLog, PriceRecord
from knowledge.people.accounts import create_account
from knowledge.prices.officer_entry import OfficerPriceError
from tests.conftest import TODAY


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
