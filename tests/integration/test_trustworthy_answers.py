"""Issue 15's examples through the web chat, real Rasa and real action servers: what the farmer is told is true.

Each expectation was written from the issue before the fix (what was seen is quoted):
- 藁城's officer enters corn 1.08–1.15 at a new local market. A farmer asking about 黑龙江 was told
  "黑龙江暂时没有玉米的价格，下面是全国的数据。玉米：1.08–1.15元/斤（藁城区玉米收购点…）": 藁城's price must
  never be called national, and "哪里的玉米便宜" must not rank 藁城 alone under a "全国参考".
- "大白菜多少钱" said "下面是全国的数据" over one Beijing market: one market is named as local.
- In a later year, "新农合一年交多少钱" gave the 2024 notice without a word: it must say whose year it is.
- "帮我买张去北京的火车票" and "郑州小麦多少钱" set the farmer's home region: a place asked about never does.
- "巩义小麦多少钱一斤": 巩义 was not understood as a place at all; it must be named in the answer.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select

from bot.app import create_app
from knowledge.cli import main as knowledge_cli
from knowledge.db import make_engine
from knowledge.models import Farmer, Market, PriceRecord
from settings import Settings
from tests.integration.conftest import ask

pytestmark = pytest.mark.integration
SOURCE, MARKET = "藁城区信息员", "藁城区玉米收购点"


@pytest.fixture
def knowledge_db_url(rasa_stack):
    """The stack's knowledge DB with 藁城's local corn price, put back as seeded afterwards."""
    yield rasa_stack["knowledge_db_url"]
    engine = make_engine(rasa_stack["knowledge_db_url"])
    with engine.begin() as connection:
        connection.execute(delete(PriceRecord).where(PriceRecord.source == SOURCE))
        connection.execute(delete(Market).where(Market.name == MARKET))
    engine.dispose()


@pytest.fixture
async def web_chat(aiohttp_client, rasa_stack):
    client = await aiohttp_client(create_app(Settings(rasa_url=rasa_stack["rasa_url"], rasa_timeout_seconds=30)))
    await client.get("/")
    return client


async def test_a_village_price_is_never_the_national_one(web_chat, knowledge_db_url, tmp_path) -> None:
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    prices = tmp_path / "gaocheng.csv"
    prices.write_text("品名,市场,地区,最低价,平均价,最高价,单位,发布日期,来源\n"
                      f"玉米,{MARKET},藁城,1.08,1.12,1.15,元/斤,{yesterday},{SOURCE}\n", encoding="utf-8")
    assert knowledge_cli(["--db", knowledge_db_url, "import-prices", str(prices)]) == 0

    elsewhere = await ask(web_chat, "黑龙江玉米多少钱一斤")
    assert "藁城" not in elsewhere, elsewhere
    cheapest = await ask(web_chat, "哪里的玉米便宜")
    assert "全国参考：1.12" not in cheapest and "全国参考：1.08" not in cheapest, cheapest
    local = await ask(web_chat, "藁城玉米多少钱一斤")
    assert f"{MARKET}的价格，仅供参考" in local and "全国" not in local, local


async def test_one_market_is_named_as_local(web_chat) -> None:
    cabbage = await ask(web_chat, "大白菜多少钱")
    assert "下面是全国的数据" not in cabbage and "仅供参考" in cabbage, cabbage


async def test_an_earlier_years_figure_says_so(web_chat) -> None:
    if dt.date.today().year <= 2025:
        pytest.skip("the 2024 notice is not yet an earlier year's")
    answer = await ask(web_chat, "新农合一年交多少钱")
    assert "2024" in answer and "以当地公示为准" in answer, answer


async def test_a_place_asked_about_never_becomes_the_farmers_home(web_chat, rasa_stack) -> None:
    await ask(web_chat, "帮我买张去北京的火车票")
    await ask(web_chat, "郑州小麦多少钱")
    engine = make_engine(rasa_stack["knowledge_db_url"])
    with engine.connect() as connection:
        homes = connection.execute(select(Farmer.sender_id, Farmer.region_id).where(Farmer.region_id.isnot(None)))
        assert list(homes) == []
    engine.dispose()


async def test_a_county_of_china_is_understood_as_a_place(web_chat) -> None:
    answer = await ask(web_chat, "巩义小麦多少钱一斤")
    assert "巩义" in answer and "小麦" in answer, answer


async def test_comparisons_and_trends_answer_the_places_asked(web_chat) -> None:
    # "郑州和石家庄哪里的白菜便宜" showed Beijing's 新发地 as both the highest and the lowest.
    compared = await ask(web_chat, "郑州和石家庄哪里的白菜便宜")
    assert "新发地" not in compared, compared
    # "石家庄生猪最近涨了没" listed province prices and never said up or down. It answers the trend, for
    # 石家庄 or the wider level it names; the seed's national pig series has one day, which it says.
    trend = await ask(web_chat, "石家庄生猪最近涨了没")
    assert "各市场最新价格" not in trend and "石家庄" in trend, trend
    assert any(word in trend for word in ("涨了", "跌了", "持平", "看不出涨跌")), trend


async def test_the_newest_years_policy_answers(web_chat) -> None:
    # "稻谷最低收购价" gave the 2024 prices in November 2026 although 2025's are in the knowledge base.
    answer = await ask(web_chat, "稻谷最低收购价")
    assert "2025" in answer, answer
