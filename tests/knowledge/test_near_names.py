"""Products a farmer probably meant: homophones and one wrong character, over the seeded names and aliases."""
import pytest

from knowledge.catalog.near_names import near_products


@pytest.mark.parametrize(
    ("typed", "product"),
    [
        # Homophones of names and aliases in facts.md §1 and §4 (交 → 教-style typos).
        ("包米", "玉米"),
        ("玉咪", "玉米"),
        ("鸡旦", "鸡蛋"),
        ("洋玉", "土豆"),
        ("番加", "西红柿"),
        ("地刮", "红薯"),
        ("白才", "大白菜"),
        ("鲤渔", "鲤鱼"),
        ("带渔", "大带鱼"),
        ("毛朱", "生猪"),
        ("羊内", "羊肉"),
        ("麦仔", "小麦"),
        # One character wrong, not a homophone.
        ("王米", "玉米"),
        ("玉来", "玉米"),
        ("牛内", "牛肉"),
        ("韭莱", "韭菜"),
    ],
)
def test_a_near_name_suggests_its_product(kb, typed, product) -> None:
    with kb.scope() as session:
        assert near_products(session, typed)[0].product == product


@pytest.mark.parametrize(
    ("message", "typed", "product"),
    [("请问鸡旦现在啥价", "鸡旦", "鸡蛋"), ("牛内多少钱", "牛内", "牛肉"), ("猪内跌了吗", "猪内", "猪肉"),
     ("大算一斤卖多少", "大算", "大蒜")],
)
def test_a_near_name_inside_a_message_is_found_with_what_was_typed(kb, message, typed, product) -> None:
    with kb.scope() as session:
        [first, *_] = near_products(session, message, in_message=True)
        assert (first.typed, first.product) == (typed, product)


@pytest.mark.parametrize("message", ["不存在的菜多少钱", "今天的菜价", "这个鱼怎么样", "查价格", "菜多少钱一斤"])
def test_ordinary_words_in_a_message_are_not_typos(kb, message) -> None:
    with kb.scope() as session:
        assert near_products(session, message, in_message=True) == []


def test_homophones_rank_before_one_wrong_character(kb) -> None:
    with kb.scope() as session:
        assert near_products(session, "鲫渔")[0].product == "鲫鱼"


def test_a_product_is_suggested_once(kb) -> None:
    with kb.scope() as session:
        products = [near.product for near in near_products(session, "苞咪包米", in_message=True)]
        assert products.count("玉米") == 1


@pytest.mark.parametrize("words", ["玉米", "火星人多少钱", "", "abc 123", "今天天气怎么样", "不存在的菜"])
def test_known_names_and_unrelated_words_suggest_nothing(kb, words) -> None:
    with kb.scope() as session:
        assert near_products(session, words) == []
        assert near_products(session, words, in_message=True) == []
