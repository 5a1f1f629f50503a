"""Farmers' price alerts: subscribing, listing the active ones and cancelling them."""
from __future__ import annotations

from decimal import Decimal
from typing import List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge.models import Farmer, Product, Region, Subscription


def active_subscriptions(session: Session, farmer_id: int) -> List[Subscription]:
    """The farmer's active price alerts, oldest first."""
    return list(session.scalars(
        select(Subscription)
        .where(Subscription.farmer_id == farmer_id, Subscription.active.is_(True))
        .order_by(Subscription.id)
    ))


def subscribe(
    session: Session,
    farmer: Farmer,
    product: Product,
    region: Optional[Region],
    rule: str,
    threshold: Optional[Decimal] = None,
    daily_hour: Optional[int] = None,
) -> Tuple[Subscription, bool]:
    """The farmer's alert for this product, place and rule: the active one that exists, else a new one.

    Returns the subscription and whether it was created. The caller commits.
    """
    region_id = region.id if region is not None else None
    for existing in active_subscriptions(session, farmer.id):
        if existing.product_id == product.id and (existing.region_id or None) == region_id and existing.rule == rule:
            return existing, False
    subscription = Subscription(farmer=farmer, product=product, region=region, rule=rule, threshold=threshold,
                                daily_hour=daily_hour)
    session.add(subscription)
    session.flush()
    return subscription, True


def cancel_subscriptions(session: Session, farmer_id: int, product: Optional[Product] = None) -> int:
    """End the farmer's active alerts for `product`, or all of them; returns how many. The caller commits."""
    cancelled = [item for item in active_subscriptions(session, farmer_id)
                 if product is None or item.product_id == product.id]
    for item in cancelled:
        item.active = False
    return len(cancelled)
