"""Splitting long replies, fitting buttons into 64 bytes, and the retry rules for Bot API calls."""
from __future__ import annotations

from typing import List

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.replies import Button
from bot.telegram_render import fits_callback, inline_keyboard, split_text
from bot.telegram_send import send_with_retry


@pytest.mark.parametrize("limit", [10, 25, 4096])
def test_split_keeps_every_character_in_order_within_the_limit(limit: int) -> None:
    text = "\n".join(["短行", "一" * (limit + 5), "", "第三行" * 3, "尾"])
    parts = split_text(text, limit)
    assert all(len(part) <= limit for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_split_cuts_on_line_ends_when_lines_fit() -> None:
    lines = [f"{index:03d}" + "价" * 6 for index in range(10)]
    parts = split_text("\n".join(lines), 30)
    assert all(line in lines for part in parts for line in part.split("\n"))
    assert "\n".join(parts) == "\n".join(lines)


async def test_keyboard_keeps_short_payloads_and_stores_long_ones() -> None:
    stored: List[str] = []

    async def store(payload: str) -> str:
        stored.append(payload)
        return "abc"

    long_payload = "/inform" + '{"product":"大白菜"}' * 4
    markup = await inline_keyboard([Button("玉米", '/inform{"product":"玉米"}'), Button("长", long_payload),
                                    Button("伪装", "sp:ok:123")], store)
    datas = [button.callback_data for row in markup.inline_keyboard for button in row]
    assert datas == ['/inform{"product":"玉米"}', "k:abc", "k:abc"]
    assert stored == [long_payload, "sp:ok:123"], "a payload must not pass for an officer's button"
    assert all(fits_callback(data) for data in datas)
    assert await inline_keyboard([], store) is None


async def test_retry_waits_what_telegram_asks_then_gives_up_on_errors_that_cannot_heal() -> None:
    waits: List[float] = []
    outcomes = [RetryAfter(3), NetworkError("502"), "ok"]

    async def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    assert await send_with_retry("test", call, sleep=sleep) == "ok"
    assert waits == [3.0, 1.0]

    calls = []

    async def refused():
        calls.append(1)
        raise BadRequest("chat not found")

    assert await send_with_retry("test", refused, sleep=sleep) is None
    assert len(calls) == 1
