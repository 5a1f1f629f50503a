"""An officer's /setprice on Telegram ("/setprice 玉米 1.15 元/斤 [市场]"): the command's words read, the entry
checked by knowledge's price rules (knowledge.prices.officer_entry), held under a one-time button key until
the officer confirms, then saved with the officer as author and audited.

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

from bot.button_keys import remember_once
from knowledge.callback_store import forget, recall
from knowledge.db import Session
from knowledge.models import Account
from knowledge.prices.editing import save_price_audited
from knowledge.prices.officer_entry import (
    OfficerPriceError,
    check_market_scope,
    check_officer_price,
    default_market_name,
    officer_source,
    price_officer_for_telegram_user,
)
from knowledge.prices.plausibility import Outlier, PlausibilityCheck, record_accepted_outliers
from knowledge.prices.queries import quote_from_record
from knowledge.prices.validation import CheckedPrice, PriceInput
from settings import load_settings
from wording import describe_price

logger = logging.getLogger(__name__)

SETPRICE_KIND = "setprice"
USAGE = ("用法：/setprice 品名 价格 单位 [市场]\n例如：/setprice 玉米 1.15 元/斤\n"
         "或：/setprice 玉米 1.10-1.20 元/斤 新发地")
NOT_AN_OFFICER = "只有信息员可以录入价格。信息员请先在管理后台取得绑定码，再发送 /link 绑定码。"
# "1.15", "1.10-1.20", "1.15元/斤" (the unit may be written onto the number).
_PRICE = re.compile(r"^(?P<low>\d+(?:\.\d+)?)(?:[-–~至到](?P<high>\d+(?:\.\d+)?))?(?P<unit>元.*)?$")


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
    account = price_officer_for_telegram_user(session, telegram_user_id)
    if account is None:
        raise OfficerPriceError(NOT_AN_OFFICER)
    return account


def parse_setprice(text: str) -> Tuple[str, str, Optional[str], str, str]:
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


def prepare_price(session: Session, telegram_user_id: str, text: str, today: dt.date) -> Tuple[PendingPrice, str]:
    """Check an officer's /setprice; returns the pending entry and the question to confirm. Nothing is written."""
    account = officer_for_telegram_user(session, telegram_user_id)
    product, low, high, unit, market = parse_setprice(text)
    if not market:
        default_market = default_market_name(session, account)
        if default_market is None:
            raise OfficerPriceError(f"您的账号没有负责的地区，请写明市场。\n{USAGE}")
        market = default_market
    check_market_scope(session, account, market)
    pending = PendingPrice(
        account_id=account.id, telegram_user_id=str(telegram_user_id), product=product, market=market,
        region=account.region.name if account.region is not None else None, unit=unit,
        min_price=low if high else None, avg_price=None if high else low, max_price=high, date=today.isoformat(),
    )
    checked = check_officer_price(session, pending.price_input(officer_source(account)), today)
    quote_text = _describe(checked)
    question = (f"请确认录入：{checked.product.name}，{quote_text}，{checked.market.name}，"
                f"{checked.report_date.isoformat()}，来源：{checked.source}。")
    outlier = _implausible(session, checked)
    if outlier is not None:
        # Shown before the buttons: 确认 then means "I checked it", and is audited as such.
        question += f"\n⚠️ {outlier.reason}。没写错再点“确认”。"
    return pending, question


def _implausible(session: Session, price: CheckedPrice) -> Optional[Outlier]:
    return PlausibilityCheck(session, load_settings().price_outlier_factor).check(price)


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
    check_market_scope(session, account, pending.market)
    price = check_officer_price(session, pending.price_input(officer_source(account)), today)
    # The same save as the console's price form, so the audit log shows an edit the same way from both.
    outlier = _implausible(session, price)  # judged before this price joins the product's history
    record, _ = save_price_audited(session, price, author=account.username)
    if outlier is not None:
        record_accepted_outliers(session, account.username, [outlier], via="/setprice")
    logger.info("Price %s of product %s saved by %s from Telegram", record.id, price.product.name, account.username)
    quote = quote_from_record(record, price.unit, today)
    where = f"{price.market.name}，{price.report_date.isoformat()}"
    return f"已录入：{price.product.name} {describe_price(quote)}（{where}）。"


def cancel_price(session: Session, key: str, telegram_user_id: str) -> str:
    """Drop a held entry; returns the reply. The caller commits."""
    _pending(session, key, telegram_user_id)
    forget(session, key, SETPRICE_KIND)
    return "已取消，这条价格没有录入。"
