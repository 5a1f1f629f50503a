"""Prices officers enter themselves (from the phone): who may, for which markets, and the saved, audited record.

Checked by the same rules as the CSV import (knowledge.prices.validation). Messages are plain
Chinese: officers read them.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.audit import record_change, snapshot
from knowledge.catalog.lookup import descendant_ids, find_market
from knowledge.models import Account, Market, PriceRecord, Role
from knowledge.people.accounts import account_for_telegram_user
from knowledge.prices.saving import VALUE_COLUMNS, save_price
from knowledge.prices.validation import CheckedPrice, PriceInput, check_price

logger = logging.getLogger(__name__)

PRICE_ENTRY_ROLES = (Role.OFFICER, Role.ADMIN)


class OfficerPriceError(ValueError):
    """The officer's price cannot be taken; the message is plain Chinese for the officer."""


def price_officer_for_telegram_user(session: Session, telegram_user_id: str) -> Optional[Account]:
    """The linked active account of this Telegram user, if it may enter prices (an officer or an admin)."""
    account = account_for_telegram_user(session, str(telegram_user_id))
    return account if account is not None and account.role in PRICE_ENTRY_ROLES else None


def officer_source(account: Account) -> str:
    """The source line of an officer's price: who reported it."""
    return f"信息员报价（{account.display_name or account.username}）"


def default_market_name(session: Session, account: Account) -> Optional[str]:
    """The market an officer's price is for when they name none: the first in their region, else its 集市.

    None when the account has no region.
    """
    if account.region is None:
        return None
    market = session.scalars(
        select(Market).where(Market.region_id == account.region_id).order_by(Market.name).limit(1)
    ).first()
    return market.name if market is not None else f"{account.region.name}集市"


def check_market_scope(session: Session, account: Account, market_name: str) -> None:
    """Refuse (OfficerPriceError) a known market outside an officer's region; admins may enter any market."""
    if account.role == Role.ADMIN:
        return
    if account.region is None:
        raise OfficerPriceError("您的账号还没有负责的地区，请联系管理员设置后再录入价格。")
    known = find_market(session, market_name)
    if known is not None and known.region_id not in descendant_ids(session, account.region):
        raise OfficerPriceError(
            f"“{known.name}”不在您负责的{account.region.name}范围内，您只能录入本地区市场的价格。"
        )


def check_officer_price(session: Session, entry: PriceInput, today: dt.date) -> CheckedPrice:
    """The entry checked by the shared price rules; OfficerPriceError lists every problem."""
    check = check_price(session, entry, today=today)
    if check.price is None:
        raise OfficerPriceError("价格没有录入：" + "；".join(check.errors))
    return check.price


def save_officer_price(session: Session, price: CheckedPrice, account: Account) -> PriceRecord:
    """Save a checked price with the officer as author, audited. The caller commits."""
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
    logger.info("Price %s of product %s saved by %s", record.id, price.product.name, account.username)
    return record
