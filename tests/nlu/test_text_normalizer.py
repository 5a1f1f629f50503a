"""The normaliser turns what farmers type into one consistent form, and keeps entity spans aligned."""
import pytest

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
