"""An officer's price from the phone ("/setprice 玉米 1.15 元/斤 [市场]"): read, checked by the same rules as
the CSV import (knowledge.prices.validation), held until the officer confirms, then saved with the officer as
author and audited.

Messages are plain Chinese: officers read them on Telegram.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change, snapshot
from knowledge.catalog.lookup import descendant_ids, find_market
from knowledge.chat_callbacks import forget, recall, remember_once
from knowledge.models import Account, Market, PriceRecord, Role
from knowledge.people.accounts import account_for_telegram_user
from knowledge.prices.queries import quote_from_record
from knowledge.prices.saving import VALUE_COLUMNS, save_price
from knowledge.prices.validation import CheckedPrice, PriceInput, check_price
from knowledge.prices.wording import describe_price

logger = logging.getLogger(__name__)

SETPRICE_KIND = "setprice"
OFFICER_ROLES = (Role.OFFICER, Role.ADMIN)
USAGE = ("用法：/setprice 品名 价格 单位 [市场]\n例如：/setprice 玉米 1.15 元/斤\n"
         "或：/setprice 玉米 1.10-1.20 元/斤 新发地")
# "1.15", "1.10-1.20", "1.15元/斤" (the unit may be written onto the number).
_PRICE = re.compile(r"^(?P<low>\d+(?:\.\d+)?)(?:[-–~至到](?P<high>\d+(?:\.\d+)?))?(?P<unit>元.*)?$")


class OfficerPriceError(ValueError):
    """The command cannot be carried out; the message is plain Chinese for the officer."""


@dataclass
class PendingPrice:
    """A checked /setprice waiting for the officer's confirmation (kept as JSON under a one-time key)."""

    account_id: int
    telegram_user_id: str
    product: str
    market: str
    region: Optional[str]
    unit: str
    min_price: Optional[str]
    avg_price: Optional[str]
    max_price: Optional[str]
    date: str

    def price_input(self, source: str) -> PriceInput:
        """The entry as the shared price rules read it."""
        return PriceInput(product=self.product, market=self.market, region=self.region, date=self.date,
                          unit=self.unit, source=source, min_price=self.min_price, avg_price=self.avg_price,
                          max_price=self.max_price, confidence="V")


def officer_for_telegram_user(session: Session, telegram_user_id: str) -> Account:
    """The linked officer or admin account; raises OfficerPriceError with a plain reply for anyone else."""
    account = account_for_telegram_user(session, str(telegram_user_id))
    if account is None or account.role not in OFFICER_ROLES:
        raise OfficerPriceError("只有信息员可以录入价格。信息员请先在管理后台取得绑定码，再发送 /link 绑定码。")
    return account


def source_for(account: Account) -> str:
    """The source line of an officer's price: who reported it."""
    return f"信息员报价（{account.display_name or account.username}）"


def parse_setprice(text: str) -> Tuple[str, str, Optional[str], Optional[str], str]:
    """(product, low, high, unit, market) from the command's words; raises OfficerPriceError with the usage."""
    words = unicodedata.normalize("NFKC", text or "").split()
    if len(words) < 2:
        raise OfficerPriceError(USAGE)
    product, price_word, rest = words[0], words[1], words[2:]
    match = _PRICE.match(price_word.replace("，", "."))
    if match is None:
        raise OfficerPriceError(f"价格“{price_word}”看不懂。\n{USAGE}")
    unit = match.group("unit")
    if unit is None and rest and (rest[0].startswith("元") or rest[0].startswith("/")):
        unit, rest = rest[0], rest[1:]
    if not unit:
        # A missing unit is refused rather than guessed: 元/斤 and 元/公斤 differ by a factor of two.
        raise OfficerPriceError(f"请写明单位（元/斤 或 元/公斤）。\n{USAGE}")
    return product, match.group("low"), match.group("high"), unit, " ".join(rest)


def _default_market(session: Session, account: Account) -> str:
    if account.region is None:
        raise OfficerPriceError(f"您的账号没有负责的地区，请写明市场。\n{USAGE}")
    market = session.scalars(
        select(Market).where(Market.region_id == account.region_id).order_by(Market.name).limit(1)
    ).first()
    return market.name if market is not None else f"{account.region.name}集市"


def _check_scope(session: Session, account: Account, market_name: str) -> None:
    if account.role == Role.ADMIN:
        return
    if account.region is None:
        raise OfficerPriceError("您的账号还没有负责的地区，请联系管理员设置后再录入价格。")
    known = find_market(session, market_name)
    if known is not None and known.region_id not in descendant_ids(session, account.region):
        raise OfficerPriceError(
            f"“{known.name}”不在您负责的{account.region.name}范围内，您只能录入本地区市场的价格。"
        )


def prepare_price(session: Session, telegram_user_id: str, text: str, today: dt.date) -> Tuple[PendingPrice, str]:
    """Check an officer's /setprice; returns the pending entry and the question to confirm. Nothing is written."""
    account = officer_for_telegram_user(session, telegram_user_id)
    product, low, high, unit, market = parse_setprice(text)
    market = market or _default_market(session, account)
    _check_scope(session, account, market)
    pending = PendingPrice(
        account_id=account.id, telegram_user_id=str(telegram_user_id), product=product, market=market,
        region=account.region.name if account.region is not None else None, unit=unit,
        min_price=low if high else None, avg_price=None if high else low, max_price=high, date=today.isoformat(),
    )
    checked = _checked(session, pending, account, today)
    quote_text = _describe(checked)
    return pending, (f"请确认录入：{checked.product.name}，{quote_text}，{checked.market.name}，"
                     f"{checked.report_date.isoformat()}，来源：{checked.source}。")


def _checked(session: Session, pending: PendingPrice, account: Account, today: dt.date) -> CheckedPrice:
    check = check_price(session, pending.price_input(source_for(account)), today=today)
    if check.price is None:
        raise OfficerPriceError("价格没有录入：" + "；".join(check.errors))
    return check.price


def _describe(price: CheckedPrice) -> str:
    low, average, high = price.min_price, price.avg_price, price.max_price
    if average is not None:
        return f"{average}{price.unit}"
    return f"{low}–{high}{price.unit}"


def hold_price(session: Session, pending: PendingPrice) -> str:
    """Keep the pending entry under a one-time key for the confirm/cancel buttons; the caller commits."""
    return remember_once(session, SETPRICE_KIND, json.dumps(asdict(pending), ensure_ascii=False))


def _pending(session: Session, key: str, telegram_user_id: str) -> PendingPrice:
    payload = recall(session, key, SETPRICE_KIND)
    if payload is None:
        raise OfficerPriceError("这条录入已经处理过或已过期，请重新发送 /setprice。")
    pending = PendingPrice(**json.loads(payload))
    if pending.telegram_user_id != str(telegram_user_id):
        raise OfficerPriceError("只有发起录入的信息员本人可以确认。")
    return pending


def confirm_price(session: Session, key: str, telegram_user_id: str, today: dt.date) -> str:
    """Save a held entry (checked again, with the officer as author, audited); returns the reply. Caller commits."""
    pending = _pending(session, key, telegram_user_id)
    account = officer_for_telegram_user(session, telegram_user_id)
    if account.id != pending.account_id:
        raise OfficerPriceError("绑定的账号已经变了，请重新发送 /setprice。")
    if not forget(session, key, SETPRICE_KIND):
        raise OfficerPriceError("这条录入已经处理过了。")
    _check_scope(session, account, pending.market)
    price = _checked(session, pending, account, today)
    existing = session.scalars(
        select(PriceRecord).join(Market).where(
            PriceRecord.product_id == price.product.id, Market.name == price.market.name,
            PriceRecord.report_date == price.report_date, PriceRecord.source == price.source,
        )
    ).first()
    before = snapshot(existing, VALUE_COLUMNS) if existing is not None else None
    new_market = price.market.id is None
    record, created = save_price(session, price, author=account.username)
    if new_market:
        record_change(session, account.username, "create", "market", price.market.id, None,
                      {"name": price.market.name, "via": "telegram /setprice"})
    record_change(session, account.username, "create" if created else "update", "price_record", record.id, before,
                  {**snapshot(record, VALUE_COLUMNS), "product": price.product.name, "market": price.market.name,
                   "report_date": price.report_date, "source": price.source, "via": "telegram /setprice"})
    logger.info("Price %s of product %s saved by %s from Telegram", record.id, price.product.name, account.username)
    quote = quote_from_record(record, price.unit, today)
    where = f"{price.market.name}，{price.report_date.isoformat()}"
    return f"已录入：{price.product.name} {describe_price(quote)}（{where}）。"


def cancel_price(session: Session, key: str, telegram_user_id: str) -> str:
    """Drop a held entry; returns the reply. The caller commits."""
    _pending(session, key, telegram_user_id)
    forget(session, key, SETPRICE_KIND)
    return "已取消，这条价格没有录入。"

