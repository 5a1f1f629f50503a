"""Emoji farmers type for products ("🌽多少钱", "🐂肉啥价"), read as the words they stand for.

Each emoji names a product when it stands alone, and an animal or plant when a word follows that
makes the product ("🐂肉" is 牛肉, "🐖" alone is 生猪). Names not in the knowledge base ("胡萝卜") are
kept, so the farmer gets an honest "没找到" or a "您是不是想问" instead of a question about nothing.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

# emoji → (the word before 肉/蛋/…, the product when alone)
EMOJI_WORDS: Dict[str, Tuple[str, str]] = {
    "🌽": ("玉米", "玉米"),
    "🌾": ("稻谷", "稻谷"),
    "🥚": ("鸡蛋", "鸡蛋"),
    "🐖": ("猪", "生猪"),
    "🐷": ("猪", "生猪"),
    "🐽": ("猪", "生猪"),
    "🐗": ("猪", "生猪"),
    "🐂": ("牛", "牛肉"),
    "🐄": ("牛", "牛肉"),
    "🐃": ("牛", "牛肉"),
    "🐮": ("牛", "牛肉"),
    "🐑": ("羊", "羊肉"),
    "🐏": ("羊", "羊肉"),
    "🐐": ("羊", "羊肉"),
    "🐔": ("鸡", "白条鸡"),
    "🐓": ("鸡", "白条鸡"),
    "🍗": ("鸡", "鸡肉"),
    "🐟": ("鱼", "鱼"),
    "🐠": ("鱼", "鱼"),
    "🍎": ("苹果", "苹果"),
    "🍏": ("苹果", "苹果"),
    "🥔": ("土豆", "土豆"),
    "🍠": ("红薯", "红薯"),
    "🧄": ("大蒜", "大蒜"),
    "🥬": ("白菜", "大白菜"),
    "🥦": ("西兰花", "绿菜花"),
    "🍅": ("西红柿", "西红柿"),
    "🥜": ("花生", "花生"),
    "🫘": ("豆", "大豆"),
    "🥕": ("胡萝卜", "胡萝卜"),
    "🥒": ("黄瓜", "黄瓜"),
    "🍆": ("茄子", "茄子"),
    "🧅": ("洋葱", "洋葱"),
    "🌶": ("辣椒", "辣椒"),
    "🍐": ("梨", "梨"),
    "🍊": ("橘子", "橘子"),
    "🍌": ("香蕉", "香蕉"),
    "🍇": ("葡萄", "葡萄"),
    "🍉": ("西瓜", "西瓜"),
    "🍑": ("桃", "桃"),
    "🍓": ("草莓", "草莓"),
    "🦐": ("虾", "虾"),
    "🦆": ("鸭", "鸭"),
}
# Characters after an animal emoji that make the product with its word ("🐂肉", "🐔蛋", "🐟苗").
_COMPOUND_WITH = "肉蛋苗仔崽"


def emoji_word(emoji: str, next_char: Optional[str]) -> Optional[str]:
    """The word `emoji` stands for before `next_char` ("🐂", "肉" → 牛; "🐖", None → 生猪); None if not a product."""
    words = EMOJI_WORDS.get(emoji)
    if words is None:
        return None
    in_compound, alone = words
    return in_compound if next_char is not None and next_char in _COMPOUND_WITH else alone
