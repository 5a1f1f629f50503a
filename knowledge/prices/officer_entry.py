"""Prices officers enter themselves (from the phone): who may, for which markets, and the check.

Checked by the same rules as the CSV import (knowledge.prices.validation) and saved, like the
console's price form, by knowledge.prices.editing.save_price_audited. Messages are plain Chinese:
officers read them.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.catalog.lookup import descendant_ids, find_market
from knowledge.models import Account, Market, Role
from knowledge.people.accounts import account_for_telegram_user
from knowledge.prices.validation import CheckedPrice, PriceInput, check_price

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
