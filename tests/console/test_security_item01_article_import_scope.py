"""Security item 1: an officer's article import stays inside the officer's region.

An officer of 藁城区 must not be able to overwrite, move or unpublish a national article (or another
region's) by importing a row with the same topic and title, and must not add topic aliases, which
apply nationwide. The web form already checks the article it edits; the import must check the
article it would overwrite.
"""
from __future__ import annotations

from aiohttp import FormData
from sqlalchemy import select

from knowledge.models import Article, TopicAlias
from tests.console.conftest import sign_in

NATIONAL_TOPIC, NATIONAL_TITLE = "最低收购价", "2024年小麦最低收购价"
ARTICLE_HEADER = "分类,主题,标题,问法,答案,地区,来源,发布日期,可信度,状态\n"



def _upload(token: str, name: str, data: bytes) -> FormData:
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("kind", "articles")
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


def _national_article(knowledge) -> Article:
    with knowledge() as session:
        article = session.scalars(
            select(Article).where(Article.topic == NATIONAL_TOPIC, Article.title == NATIONAL_TITLE)
        ).one()
        session.expunge(article)
        return article


async def test_item01_officer_import_cannot_overwrite_a_national_article(client, knowledge) -> None:
    before = _national_article(knowledge)
    assert before.region_id is None and before.status == "published"
    token = await sign_in(client, "gaocheng")
    row = (f"政策,{NATIONAL_TOPIC},{NATIONAL_TITLE},小麦多少钱,藁城区自定的价格，以当地公示为准。,藁城区,"
           "藁城区农业农村局,2026-11-01,U,草稿\n")
    response = await client.post("/imports/preview", data=_upload(token, "a.csv", (ARTICLE_HEADER + row).encode()))
    page = await response.text()
    assert response.status == 422, page
    assert f"“{NATIONAL_TITLE}”" in page and "全国" in page and "不能修改" in page
    after = _national_article(knowledge)
    assert (after.region_id, after.status, after.answer) == (None, "published", before.answer)


async def test_item01_officer_yaml_import_cannot_add_nationwide_topic_aliases(client, knowledge) -> None:
    token = await sign_in(client, "gaocheng")
    data = ("topic_aliases:\n  最低收购价: [藁城保护价]\n"
            "articles:\n"
            "  - {category: 医保, topic: 城乡居民医保, title: 藁城区医保缴费地点,\n"
            "     answer: 到乡镇便民服务中心缴费，以当地公示为准。,\n"
            "     region: 藁城区, source: 藁城区医保局, confidence: U}\n"
            ).encode()
    response = await client.post("/imports/preview", data=_upload(token, "a.yml", data))
    page = await response.text()
    assert response.status == 422, page
    assert "别名" in page and "管理员" in page
    with knowledge() as session:
        assert session.scalar(select(TopicAlias.id).where(TopicAlias.alias == "藁城保护价")) is None


async def test_item01_knowledge_import_checks_the_overwritten_article(knowledge, tmp_path) -> None:
    """The import function itself (CLI and console share it) refuses, whatever the caller checked."""
    from knowledge.files.articles import import_articles

    path = tmp_path / "a.csv"
    path.write_text(ARTICLE_HEADER + f"政策,{NATIONAL_TOPIC},{NATIONAL_TITLE},,改写，以当地公示为准。,藁城区,局,"
                    "2026-11-01,U,草稿\n", encoding="utf-8")
    with knowledge() as session:
        from knowledge.catalog.lookup import find_region

        scope = {find_region(session, "藁城区").id}
        report = import_articles(session, path, "gaocheng", scope=scope)
        assert not report.ok
        assert any("不能修改" in message for problem in report.problems for message in problem.reasons)
        session.rollback()


async def test_item01_officer_may_still_import_and_update_articles_of_their_region(knowledge, tmp_path) -> None:
    from knowledge.catalog.lookup import find_region
    from knowledge.files.articles import import_articles

    path = tmp_path / "a.csv"
    for answer in ("到乡镇便民服务中心缴费，以当地公示为准。", "到村委会缴费，以当地公示为准。"):
        path.write_text(ARTICLE_HEADER + f"医保,城乡居民医保,藁城区医保缴费地点,,{answer},藁城区,藁城区医保局,"
                        "2026-11-01,U,已发布\n", encoding="utf-8")
        with knowledge() as session:
            scope = {region.id for region in [find_region(session, "藁城区")]}
            report = import_articles(session, path, "gaocheng", scope=scope)
            assert report.ok, report.problems
            session.commit()
    with knowledge() as session:
        article = session.scalars(select(Article).where(Article.title == "藁城区医保缴费地点")).one()
        assert article.answer.startswith("到村委会")
