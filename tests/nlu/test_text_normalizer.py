"""The normaliser turns what farmers type into one consistent form, and keeps entity spans aligned."""
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.catalog.amounts import parse_money
from nlu.text_normalizer import normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("蘋果價格多少", "苹果价格多少"),
        ("補貼什麼時候到賬", "补贴什么时候到账"),
        ("２０２４年小麦", "2024年小麦"),
        ("玉米多少钱？", "玉米多少钱?"),
        ("交五百 十五年能领多少", "交500 15年能领多少"),
        ("一年六千块", "一年6000块"),
        ("两千块", "2000块"),
        ("满十五年", "满15年"),
        ("二零二四年的粮补", "2024年的粮补"),
        ("玉米多少钱一斤", "玉米多少钱一斤"),
        ("我想了解一下补贴", "我想了解一下补贴"),
        ("  河北   石家庄  玉米 ", "河北 石家庄 玉米"),
        ("玉米😀价格👍", "玉米价格"),
        ("医保\u200b交多少", "医保交多少"),
        # Farmers' numbers: one amount stays one number; counted things and "per" stay words.
        ("玉米涨到1块2提醒我", "玉米涨到1.2块提醒我"),
        ("苞米到一块三告诉我", "苞米到1.3块告诉我"),
        ("白菜超过五毛五", "白菜超过0.55元"),
        ("鸡蛋跌到两块五毛一斤", "鸡蛋跌到2.5块一斤"),
        ("十块钱一斤", "10块钱一斤"),
        ("粮补一亩多少钱", "粮补一亩多少钱"),
        ("种了两亩地", "种了两亩地"),
        ("两千一一年交十五年", "2100一年交15年"),
        ("一千二一年", "1200一年"),
        ("交五百十五年", "交500 15年"),
        ("个人账户有八千块", "个人账户有8000块"),
        ("一万块", "10000块"),
        ("新农合二四年交多少", "新农合2024年交多少"),
        ("合作医疗一八年", "合作医疗2018年"),
        ("交了二三年", "交了二三年"),
        ("三四年前", "三四年前"),
        # Product emoji become their names; a repeat is one name; other emoji go.
        ("🌽多少钱一斤", "玉米多少钱一斤"),
        ("🌽🌽 一斤多少钱", "玉米 一斤多少钱"),
        ("🐖啥价", "生猪啥价"),
        ("🐂肉多少钱", "牛肉多少钱"),
        ("🐔蛋多少钱", "鸡蛋多少钱"),
        ("🌶️多少钱", "辣椒多少钱"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


def test_entity_span_moves_with_numeral_conversion() -> None:
    raw = "俺想交五百块的档次"
    result = normalise(raw)
    start, end = result.span(raw.index("五百"), raw.index("五百") + 2)
    assert result.text[start:end] == "500"
    # A span after the converted numeral moves left by the characters the conversion saved.
    tail_start, tail_end = result.span(raw.index("档次"), raw.index("档次") + 2)
    assert result.text[tail_start:tail_end] == "档次"


def test_span_of_traditional_product_keeps_position() -> None:
    raw = "石家莊蘋果價格"
    result = normalise(raw)
    assert result.text[slice(*result.span(3, 5))] == "苹果"


def test_entity_span_of_a_farmers_price_covers_the_one_number() -> None:
    raw = "玉米涨到一块二提醒我"
    result = normalise(raw)
    start, end = result.span(raw.index("一块二"), raw.index("一块二") + 3)
    assert result.text[start:end] == "1.2块"
    tail_start, tail_end = result.span(raw.index("提醒"), raw.index("提醒") + 2)
    assert result.text[tail_start:tail_end] == "提醒"


def test_span_after_an_emoji_product_keeps_position() -> None:
    raw = "🌽石家庄多少钱"
    result = normalise(raw)
    assert result.text[slice(*result.span(0, 1))] == "玉米"
    assert result.text[slice(*result.span(1, 4))] == "石家庄"


_DIGITS = "零一二三四五六七八九"


@given(st.integers(min_value=1, max_value=99), st.integers(min_value=1, max_value=9),
       st.integers(min_value=0, max_value=9), st.sampled_from(["玉米涨到{}提醒我", "跌破{}告诉我", "{}一斤"]))
def test_an_annotated_amount_stays_one_entity_with_its_value(yuan: int, jiao: int, fen: int, frame: str) -> None:
    written = f"{yuan}块{jiao}" + (f"毛{_DIGITS[fen]}" if fen else "")
    raw = frame.format(written)
    result = normalise(raw)
    start, end = result.span(raw.index(written), raw.index(written) + len(written))
    entity = result.text[start:end]
    assert parse_money(entity) == Decimal(yuan) + Decimal(jiao) / 10 + Decimal(fen) / 100
    assert entity.count(".") == 1 and not any(char in entity for char in "毛角")
