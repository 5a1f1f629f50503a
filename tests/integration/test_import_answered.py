"""An officer's price file, imported with the CLI, is what the bot answers with on the next question."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete

from bot.app import create_app
from knowledge.cli import main as knowledge_cli
from knowledge.db import make_engine
from knowledge.models import Market, PriceRecord
from settings import Settings
from tests.integration.conftest import ask

pytestmark = pytest.mark.integration
SOURCE, MARKET = "藁城区信息员", "藁城集市"


@pytest.fixture
def knowledge_db_url(rasa_stack):
    """The stack's knowledge DB, put back as seeded afterwards: other tests share it."""
    yield rasa_stack["knowledge_db_url"]
    engine = make_engine(rasa_stack["knowledge_db_url"])
    with engine.begin() as connection:
        connection.execute(delete(PriceRecord).where(PriceRecord.source == SOURCE))
        connection.execute(delete(Market).where(Market.name == MARKET))
    engine.dispose()


async def test_imported_prices_are_answered_at_once_and_bad_files_change_nothing(
    aiohttp_client, rasa_stack, knowledge_db_url, tmp_path, capsys
) -> None:
    client = await aiohttp_client(create_app(Settings(rasa_url=rasa_stack["rasa_url"], rasa_timeout_seconds=30)))
    await client.get("/")
    # The action server compares with the real today, so the file is dated yesterday.
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    header = "品名,市场,地区,最低价,平均价,最高价,单位,发布日期,来源\n"

    bad = tmp_path / "bad.csv"
    bad.write_text(header + f"苞米,藁城集市,藁城,1.30,1.25,1.20,元/斤,{yesterday},藁城区信息员\n", encoding="utf-8")
    assert knowledge_cli(["--db", knowledge_db_url, "import-prices", str(bad)]) != 0
    assert "第2行" in capsys.readouterr().err
    before = await ask(client, "藁城玉米多少钱一斤")
    assert "1.25" not in before

    good = tmp_path / "good.csv"
    good.write_text(header + f"苞米,藁城集市,藁城,1.20,1.25,1.30,元/斤,{yesterday},藁城区信息员\n", encoding="utf-8")
    assert knowledge_cli(["--db", knowledge_db_url, "import-prices", str(good)]) == 0
    answer = await ask(client, "藁城玉米多少钱一斤")
    assert "均价1.25元/斤（1.20–1.30）" in answer, answer
    assert yesterday in answer and "藁城区信息员" in answer
    assert "最新数据为" not in answer  # a day-old price is not stale
    # One local market is named as such (issue 15), never as 藁城's or the country's price.
    assert "藁城集市的价格，仅供参考" in answer and "全国" not in answer
