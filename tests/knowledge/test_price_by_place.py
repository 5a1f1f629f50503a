"""A price question naming any county of China: answered for it or the nearest wider region with data, saying
which places had none; a name several places share lists them (SQLite and PostgreSQL)."""
from __future__ import annotations

from typing import List, Optional, Tuple

from sqlalchemy import select

from knowledge.catalog.lookup import descendant_ids
from knowledge.models import Market, PriceRecord, Product, Region
from knowledge.prices.by_place import places_named, price_in_place
from knowledge.prices.queries import SEVERAL
from knowledge.prices.saving import save_price
from knowledge.prices.validation import PriceInput, check_price

# Markets at three levels, and a national figure: 巩义 falls back to 郑州市, 商丘 to 河南, 鹿泉 to 石家庄,
# 涿州 to 河北, 咸阳 and 潍坊 to 全国, and 藁城 answers for itself.
WHEAT_MARKETS = [
    ("郑州小麦收购点", "河南省郑州市", "1.20"),
    ("河北小麦集散地", "河北省", "1.25"),
    ("藁城区小麦收购点", "河北省石家庄市藁城区", "1.22"),
    ("全国农产品批发市场均价", None, "1.30"),
]
NAMED = ["巩义", "鹤山", "商丘", "咸阳", "大理", "潍坊", "朝阳", "鼓楼", "藁城", "寿光"]


def _add_wheat(session, today) -> None:
    for market, region, price in WHEAT_MARKETS:
        check = check_price(session, PriceInput(product="小麦", market=market, date=today.isoformat(), unit="元/斤",
                                                source="信息员上报", avg_price=price, region=region), today=today)
        assert check.errors == [], check.errors
        save_price(session, check.price, author="test")


def _sample(session) -> List[Tuple[str, Region]]:
    """40 counties spread over the whole data set, then the names of the issue (50 in all)."""
    counties = session.scalars(select(Region).where(Region.level == "county", Region.code.isnot(None))
                               .order_by(Region.code)).all()
    step = len(counties) // 40
    sample = [(county.short_name or county.name, county) for county in counties[::step][:40]]
    for words in NAMED:
        region = session.scalars(select(Region).where((Region.short_name == words) | (Region.name == words))
                                 .order_by(Region.id)).first()
        sample.append((words, region))
    assert len(sample) == 50
    return sample


def _expected_scope(session, region: Region, product_id: int) -> Optional[Region]:
    """Independently of the catalog: the region itself or the nearest wider one with a price (None: national)."""
    current: Optional[Region] = region
    while current is not None and current.parent_id is not None:
        markets = select(Market.id).where(Market.region_id.in_(descendant_ids(session, current)))
        if session.scalar(select(PriceRecord.id).where(PriceRecord.product_id == product_id,
                                                       PriceRecord.market_id.in_(markets)).limit(1)):
            return current
        current = current.parent
    return None


def test_fifty_counties_are_answered_for_themselves_or_the_nearest_wider_region_that_has_data(kb, today):
    with kb.scope() as session:
        _add_wheat(session, today)
    with kb.scope() as session:
        wheat = session.scalars(select(Product).where(Product.name == "小麦")).one()
        ambiguous = levels = 0
        seen_levels = set()
        for words, region in _sample(session):
            choices = places_named(session, words)
            assert choices, words
            if len(choices) > 1:
                # The bot asks which; each choice's label then names exactly that one place.
                ambiguous += 1
                labels = [choice.label for choice in choices]
                assert _label(region) in labels and len(set(labels)) == len(labels), words
                for label in labels:
                    assert [c.label for c in places_named(session, label)] == [label]
                continue
            [choice] = choices
            asked = session.scalars(select(Region).where(Region.id.in_(
                [r.id for r in session.scalars(select(Region).where(Region.name == choice.name))]))).all()
            target = next(r for r in asked if _label(r) == choice.label)
            answer = price_in_place(session, "小麦", words, today=today)
            assert answer is not None, words
            scope = _expected_scope(session, target, wheat.id)
            seen_levels.add(scope.level if scope is not None else "country")
            # One market, or an aggregate of several (issue 15's 多地参考): every market it stands on.
            quotes = answer.quotes or (answer.quote,)
            markets = [session.scalars(select(Market).where(Market.name == quote.market)).one() for quote in quotes]
            if scope is None:
                assert answer.answered_region is None, words
                assert answer.basis == SEVERAL or all(market.region.parent_id is None for market in markets)
            else:
                assert all(market.region_id in descendant_ids(session, scope) for market in markets), words
                assert answer.answered_region == (words if scope.id == target.id else scope.name), words
            if scope is None or scope.id != target.id:
                # The fallback names the place asked first, then each wider place without data.
                assert answer.fell_back and answer.requested_region.startswith(words), words
            levels += 1
        assert ambiguous >= 3  # 鹤山, 朝阳, 鼓楼 at least
        assert levels >= 40
        assert {"city", "country"} <= seen_levels


def _label(region: Region) -> str:
    names = []
    while region is not None and region.parent_id is not None:
        names.append(region.name)
        region = region.parent
    return "".join(reversed(names))


def test_the_fallback_says_which_places_had_no_data_and_which_answers(kb, today):
    with kb.scope() as session:
        _add_wheat(session, today)
    with kb.scope() as session:
        gongyi = price_in_place(session, "小麦", "巩义", today=today)
        assert (gongyi.requested_region, gongyi.answered_region) == ("巩义", "郑州市")
        assert gongyi.quote.market == "郑州小麦收购点"
        shangqiu = price_in_place(session, "小麦", "商丘", today=today)
        assert (shangqiu.requested_region, shangqiu.answered_region) == ("商丘", "河南省")
        xianyang = price_in_place(session, "小麦", "咸阳", today=today)
        assert (xianyang.requested_region, xianyang.answered_region) == ("咸阳和陕西", None)
        weifang = price_in_place(session, "小麦", "潍坊", today=today)
        assert (weifang.requested_region, weifang.answered_region) == ("潍坊和山东", None)
        luquan = price_in_place(session, "小麦", "鹿泉", today=today)
        assert (luquan.requested_region, luquan.answered_region) == ("鹿泉", "石家庄市")
        zhuozhou = price_in_place(session, "小麦", "涿州", today=today)
        assert (zhuozhou.requested_region, zhuozhou.answered_region) == ("涿州和保定", "河北省")
        gaocheng = price_in_place(session, "小麦", "藁城", today=today)
        assert not gaocheng.fell_back and gaocheng.answered_region == "藁城"
        assert gaocheng.quote.market == "藁城区小麦收购点"
        # The farmer picks one 鹤山 by its label.
        heshan = price_in_place(session, "小麦", "广东省江门市鹤山市", today=today)
        assert heshan.requested_region == "广东省江门市鹤山市、江门和广东"
        assert [c.label for c in places_named(session, "鹤山")] == ["河南省鹤壁市鹤山区", "广东省江门市鹤山市"]


def test_an_alert_for_one_of_several_places_of_a_name_is_answered_for_that_place(kb, today):
    from knowledge.models import Farmer, Subscription
    from knowledge.outbox.price_alerts import _subscribers

    with kb.scope() as session:
        _add_wheat(session, today)
        nanjing_gulou = next(r for r in session.scalars(select(Region).where(Region.name == "鼓楼区"))
                             if r.parent.name == "南京市")
        gaocheng = session.scalars(select(Region).where(Region.name == "藁城区")).one()
        wheat = session.scalars(select(Product).where(Product.name == "小麦")).one()
        farmer = Farmer(sender_id="tg-5", channel="telegram", chat_id="5")
        session.add_all([farmer, Subscription(farmer=farmer, product_id=wheat.id, region_id=nanjing_gulou.id),
                         Subscription(farmer=farmer, product_id=wheat.id, region_id=gaocheng.id)])
    with kb.scope() as session:
        assert [s.region for s in _subscribers(session)] == ["江苏省南京市鼓楼区", "藁城区"]
        answer = price_in_place(session, "小麦", "江苏省南京市鼓楼区", today=today)
        assert answer.requested_region == "江苏省南京市鼓楼区、南京和江苏"
