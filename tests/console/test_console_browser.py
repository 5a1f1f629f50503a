"""In a real headless Chromium on a phone-sized screen: log in, edit a price, review a conversation, export
training data. Under CI a missing browser fails the test; on a developer machine it is skipped."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select

from console.app import create_app
from knowledge.models import ConversationReview, Market, PriceRecord, Product
from scripts.chromium import PHONE_VIEWPORT, launch
from scripts.demo_knowledge import TODAY
from scripts.demo_people import PASSWORD
from settings import PROJECT_ROOT


async def test_log_in_edit_a_price_review_a_conversation_and_export(
    chromium, serve, console_settings, knowledge
) -> None:
    from playwright.async_api import async_playwright

    app = create_app(console_settings, nlu_dir=PROJECT_ROOT / "data" / "nlu", today=lambda: TODAY)
    base = await serve(app)
    with knowledge() as session:
        record_id = session.scalars(
            select(PriceRecord.id).join(Product).join(Market)
            .where(Product.name == "大白菜", Market.name == "北京新发地农产品批发市场")).first()

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            context = await browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", accept_downloads=True)
            page = await context.new_page()

            # Signed out, the console sends us to the login form.
            await page.goto(f"{base}/prices")
            assert page.url.startswith(f"{base}/login")
            await page.fill("input[name=username]", "admin")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button:has-text('登录')")
            await page.wait_for_url(f"{base}/prices")

            # Edit a price.
            await page.goto(f"{base}/prices?q=大白菜")
            await page.click(f"a[href='/prices/{record_id}/edit']")
            await page.fill("input[name=avg_price]", "0.62")
            await page.fill("input[name=max_price]", "0.7")
            await page.click("button:has-text('保存')")
            await page.wait_for_url(f"{base}/prices")
            assert f"已保存价格 #{record_id}" in await page.inner_text(".flash")

            # Review a conversation: mark it, tag it, correct a message.
            await page.goto(f"{base}/conversations?channel=telegram")
            await page.click("a[href='/conversations/tg-2002']")
            await page.check("input[name=reviewed]")
            await page.fill("input[name=tags]", "补贴, 方言")
            await page.click("button:has-text('保存审核')")
            assert "审核状态已保存" in await page.inner_text(".flash")
            await page.click("summary:has-text('更正意图和实体')")
            await page.fill("input[name=annotated]", "俺家[粮补](policy_topic)咋还没到")
            await page.click("button:has-text('保存更正')")
            assert "更正已保存" in await page.inner_text(".flash")

            # Export the training data.
            await page.goto(f"{base}/training-data")
            async with page.expect_download() as download_info:
                await page.click("a:has-text('下载')")
            download = await download_info.value
            exported = yaml.safe_load(Path(await download.path()).read_text(encoding="utf-8"))
            await context.close()
        finally:
            await browser.close()

    assert {"intent": "ask_policy", "examples": "- 俺家[粮补](policy_topic)咋还没到\n"} in exported["nlu"]
    with knowledge() as session:
        record = session.get(PriceRecord, record_id)
        assert record.entered_avg == Decimal("0.62") and record.updated_by == "admin"
        review = session.scalars(
            select(ConversationReview).where(ConversationReview.conversation_id == "tg-2002")).one()
        assert review.reviewed and review.tags == "方言,补贴"
