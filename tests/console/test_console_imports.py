"""CSV and Excel upload: the preview lists every bad row before anything is written; the import is all or nothing."""
from __future__ import annotations

import io

import openpyxl
from aiohttp import FormData
from sqlalchemy import func, select

from knowledge.models import Article, AuditLog, Market, PriceRecord
from tests.console.conftest import csrf_of, sign_in

HEADER = "品名,市场,地区,最低价,平均价,最高价,单位,发布日期,来源\n"
GOOD_ROWS = ("玉米,藁城区玉米收购点,藁城区,1.10,1.15,1.20,元/斤,2026-11-20,藁城区农业农村局\n"
             "小麦,藁城区玉米收购点,藁城区,,1.25,,元/斤,2026-11-20,藁城区农业农村局\n")


def _upload(token: str, kind: str, name: str, data: bytes) -> FormData:
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("kind", kind)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    return form


def _staged_token(page: str) -> str:
    return page.split('name="token" value="')[1].split('"')[0]


def _count(knowledge, model) -> int:
    with knowledge() as session:
        return session.scalar(select(func.count(model.id)))


async def test_preview_lists_every_bad_row_and_writes_nothing(client, knowledge) -> None:
    token = await sign_in(client, "gaocheng")
    before = _count(knowledge, PriceRecord)
    data = (HEADER + GOOD_ROWS + "火星菜,藁城区玉米收购点,藁城区,,1,,元/斤,2026-11-20,局\n"
            "玉米,藁城区玉米收购点,藁城区,,abc,,元/斤,2026/13/01,局\n").encode("gbk")  # Chinese Excel's "CSV"
    response = await client.post("/imports/preview", data=_upload(token, "prices", "prices.csv", data))
    assert response.status == 422
    page = await response.text()
    assert "第4行：不认识的品名“火星菜”" in page
    assert "第5行：" in page and "平均价“abc”不是数字" in page and "看不懂" in page
    assert "没有写入任何数据" in page and "确认导入" not in page
    assert _count(knowledge, PriceRecord) == before
    with knowledge() as session:
        assert session.scalar(select(func.count(Market.id)).where(Market.name == "藁城区玉米收购点")) == 0


async def test_a_clean_file_is_previewed_then_imported_all_at_once(client, knowledge, tmp_path) -> None:
    token = await sign_in(client, "gaocheng")
    before = _count(knowledge, PriceRecord)
    response = await client.post("/imports/preview",
                                 data=_upload(token, "prices", "prices.csv", (HEADER + GOOD_ROWS).encode("utf-8-sig")))
    page = await response.text()
    assert response.status == 200 and "全部 2 行都通过了检查" in page
    assert _count(knowledge, PriceRecord) == before  # nothing yet
    staged = list((tmp_path / "uploads").iterdir())
    assert len(staged) == 1
    confirm = await client.post("/imports/confirm", data={"csrf_token": token, "token": _staged_token(page)})
    assert "导入成功：prices.csv 共 2 行，新增 2，更新 0，新建市场 1 个" in await confirm.text()
    assert _count(knowledge, PriceRecord) == before + 2
    assert list((tmp_path / "uploads").iterdir()) == []
    with knowledge() as session:
        actions = session.scalars(select(AuditLog.action).where(AuditLog.actor == "gaocheng")).all()
    assert "import" in actions
    # The same token cannot be confirmed twice.
    again = await client.post("/imports/confirm", data={"csrf_token": token, "token": "whatever-token-value-xx"})
    assert "没有待确认的导入" in await again.text()


async def test_officer_rows_outside_their_region_are_refused_in_the_preview(client) -> None:
    token = await sign_in(client, "gaocheng")
    data = (HEADER + "大白菜,北京新发地农产品批发市场,,0.5,0.55,0.6,元/斤,2026-11-20,新发地\n").encode()
    response = await client.post("/imports/preview", data=_upload(token, "prices", "xfd.csv", data))
    assert response.status == 422
    assert "第2行：市场“北京新发地农产品批发市场”不在您负责的“藁城区”范围内" in await response.text()


async def test_excel_articles_upload(client, knowledge) -> None:
    token = await sign_in(client, "admin")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["分类", "主题", "标题", "问法", "答案", "地区", "来源", "发布日期", "可信度", "状态"])
    sheet.append(["医保", "城乡居民医保", "藁城区2027年医保缴费时间", "医保啥时候交",
                  "每年9月到12月缴费，以当地公示为准。", "藁城区", "藁城区医保局", "2026-09-01", "U", "已发布"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = await client.post("/imports/preview", data=_upload(token, "articles", "医保.xlsx", buffer.getvalue()))
    page = await response.text()
    assert response.status == 200 and "藁城区2027年医保缴费时间" in page
    cancel = await client.post("/imports/cancel", data={"csrf_token": csrf_of(page)})
    assert "已取消导入" in await cancel.text()
    response = await client.post("/imports/preview", data=_upload(token, "articles", "医保.xlsx", buffer.getvalue()))
    page = await response.text()
    await client.post("/imports/confirm", data={"csrf_token": token, "token": _staged_token(page)})
    with knowledge() as session:
        assert session.scalars(select(Article).where(Article.title == "藁城区2027年医保缴费时间")).one().region_id


async def test_unreadable_uploads_are_refused_plainly(client) -> None:
    token = await sign_in(client, "admin")
    old_excel = await client.post("/imports/preview", data=_upload(token, "prices", "old.xls", b"\xd0\xcf\x11\xe0"))
    assert old_excel.status == 400 and "不支持旧版 .xls" in await old_excel.text()
    empty = await client.post("/imports/preview", data=_upload(token, "prices", "empty.csv", b""))
    assert "文件是空的" in await empty.text()
    header_only = "品名,价格\n玉米,1\n".encode()
    no_header = await client.post("/imports/preview", data=_upload(token, "prices", "h.csv", header_only))
    assert "缺少必需的列“市场”" in await no_header.text()


async def test_upload_without_csrf_token_is_refused(client, knowledge) -> None:
    await sign_in(client, "admin")
    form = FormData()
    form.add_field("kind", "prices")
    form.add_field("file", (HEADER + GOOD_ROWS).encode(), filename="p.csv")
    response = await client.post("/imports/preview", data=form)
    assert response.status == 403


async def test_confirm_checks_again_and_writes_nothing_when_a_row_no_longer_passes(client, knowledge) -> None:
    from knowledge.catalog.lookup import find_region
    from knowledge.models import Account

    token = await sign_in(client, "gaocheng")
    before = _count(knowledge, PriceRecord)
    page = await (await client.post("/imports/preview", data=_upload(
        token, "prices", "prices.csv", (HEADER + GOOD_ROWS).encode()))).text()
    with knowledge() as session:  # meanwhile the officer is moved to another county
        officer = session.scalars(select(Account).where(Account.username == "gaocheng")).one()
        officer.region = find_region(session, "丰台区")
        session.commit()
    response = await client.post("/imports/confirm", data={"csrf_token": token, "token": _staged_token(page)})
    assert response.status == 422
    assert "不在您负责的“丰台区”范围内" in await response.text()
    assert _count(knowledge, PriceRecord) == before


async def test_an_implausible_price_is_flagged_in_the_preview_and_imported_only_when_confirmed(
    client, knowledge
) -> None:
    # Issue 15: 生猪 at 118 元/斤, ten times the market, was imported without a word.
    token = await sign_in(client, "gaocheng")
    data = (HEADER + "生猪,藁城区生猪收购点,藁城区,,5.90,,元/斤,2026-11-20,藁城区农业农村局\n"
            "生猪,藁城区生猪收购点,藁城区,,118,,元/斤,2026-11-21,藁城区农业农村局\n").encode("utf-8")
    response = await client.post("/imports/preview", data=_upload(token, "prices", "hogs.csv", data))
    page = await response.text()
    assert "有 1 行价格和近期行情差得太远" in page
    assert "第3行：生猪 118.00元/斤 比近期中位数 5.72元/斤 高20.6倍" in page and "第2行：" not in page
    assert 'name="accept_outliers"' in page
    staged = _staged_token(page)
    before = _count(knowledge, PriceRecord)

    # Confirming without ticking the box writes nothing and keeps the file for the confirmation.
    response = await client.post("/imports/confirm", data={"csrf_token": csrf_of(page), "token": staged},
                                 allow_redirects=False)
    page = await response.text()
    assert response.status == 422 and "这些价格需要您勾选确认后才能导入" in page
    assert _count(knowledge, PriceRecord) == before

    response = await client.post("/imports/confirm", data={"csrf_token": csrf_of(page), "token": staged,
                                                           "accept_outliers": "yes"}, allow_redirects=False)
    assert response.status == 302
    assert _count(knowledge, PriceRecord) == before + 2
    with knowledge() as session:
        accepted = session.scalars(select(AuditLog).where(AuditLog.action == "accept_outlier")).all()
    assert [(entry.actor, '"avg": "118"' in entry.after) for entry in accepted] == [("gaocheng", True)]
