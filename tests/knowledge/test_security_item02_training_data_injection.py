"""Security item 2: names officers write cannot inject training data or break training.

Topic names, topic aliases, product and market names flow into the generated NLU YAML and the jieba
dictionary. A name with a line break (or other control characters) is refused where it is entered,
and the generator writes YAML through a YAML emitter and drops any word that is not one dictionary
token, so even a bad row already in the database cannot add an intent or break `rasa train`.
"""
from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.articles.entry import ArticleInput, check_article
from knowledge.catalog.dictionary import Vocabulary, render_files

INJECTION = "最低收购价\n- intent: greet\n  examples: |\n    - 你好"



def _article(topic: str, title: str = "标题") -> ArticleInput:
    return ArticleInput(category="政策", topic=topic, title=title, answer="答案", source="农业农村部")


@pytest.mark.parametrize("topic", [INJECTION, "最低\r收购价", "最低\x00收购价", "最低\u2028收购价", "最低 收购价"])
def test_item02_topic_with_line_breaks_or_control_characters_is_refused(seeded_session, topic) -> None:
    check = check_article(seeded_session, _article(topic), today=dt.date(2026, 11, 22))
    assert check.article is None
    assert any("主题" in error for error in check.errors)


def test_item02_title_with_line_breaks_is_refused(seeded_session) -> None:
    check = check_article(seeded_session, _article("最低收购价", "标题\n- intent: greet"), today=dt.date(2026, 11, 22))
    assert check.article is None and any("标题" in error for error in check.errors)


def _parsed(files) -> dict:
    return {path.name: content for path, content in files.items()}


def test_item02_generated_files_hold_only_lookups_and_synonyms_even_from_bad_rows() -> None:
    vocabulary = Vocabulary(
        products={"玉米": ["苞米", "棒子\n- intent: greet"]},
        regions=["石家庄市", "藁城 区"],
        markets=["新发地\n- intent: deny"],
        topics={INJECTION: ["保护价"], "耕地地力保护补贴": ["粮补\n  - regex: x"]},
    )
    files = _parsed(render_files(vocabulary))
    for name, content in files.items():
        if not name.endswith(".yml"):
            continue
        for item in yaml.safe_load(content)["nlu"] or []:
            assert set(item) <= {"lookup", "synonym", "examples"}, item
            for line in item["examples"].splitlines():
                word = line.removeprefix("- ")
                assert line.startswith("- ") and word and not any(ch.isspace() for ch in word), line
    jieba = files["userdict.txt"]
    for line in jieba.splitlines():
        word, frequency, tag = line.split(" ")
        assert word and frequency.isdigit() and tag == "nz"
    assert "苞米" in jieba and "greet" not in jieba and "deny" not in jieba


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5))
def test_item02_any_names_give_files_rasa_can_read(names) -> None:
    vocabulary = Vocabulary(products={names[0]: names[1:]}, regions=names, markets=names, topics={names[0]: names[1:]})
    for path, content in render_files(vocabulary).items():
        if path.suffix == ".yml":
            data = yaml.safe_load(content)
            assert set(data) == {"version", "nlu"}
            assert all(set(item) <= {"lookup", "synonym", "examples"} for item in data["nlu"] or [])
        else:
            assert all(len(line.split(" ")) == 3 for line in content.splitlines())


def test_item02_imported_topic_alias_with_a_line_break_is_refused(seeded_session, tmp_path) -> None:
    from knowledge.files.articles import import_articles

    path = tmp_path / "a.yml"
    path.write_text('topic_aliases:\n  最低收购价: ["保护价2\\n- intent: greet"]\narticles: []\n', encoding="utf-8")
    report = import_articles(seeded_session, path, "admin", today=dt.date(2026, 11, 22))
    assert not report.ok and "别名“保护价2\\n- intent: greet”不能换行" in str(report.problems[0])
    seeded_session.rollback()


def test_item02_new_market_name_with_a_line_break_is_refused(seeded_session) -> None:
    from knowledge.prices.validation import PriceInput, check_price

    entry = PriceInput(product="玉米", market="新市场\n- intent: greet", date="2026-11-20", unit="元/斤",
                       source="局", avg_price="1.1", region="藁城区")
    check = check_price(seeded_session, entry, today=dt.date(2026, 11, 22))
    assert check.price is None and "市场名不能换行，也不能含控制字符" in check.errors
