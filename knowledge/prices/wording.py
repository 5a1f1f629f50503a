"""How a price is written for farmers, shared by the price answers (actions) and the price alerts (pushes)."""
from __future__ import annotations

from knowledge.catalog.units import format_price
from knowledge.prices.queries import PriceQuote


def describe_price(quote: PriceQuote) -> str:
    """"1.00–1.05元/斤" or "均价0.58元/斤（0.55–0.60）", as the source gave the figures."""
    low, average, high = quote.min_price, quote.avg_price, quote.max_price
    if average is not None:
        text = f"均价{format_price(average)}{quote.unit}"
        if low is not None and high is not None:
            text += f"（{format_price(low)}–{format_price(high)}）"
        return text
    if low is not None and high is not None:
        return f"{format_price(low)}–{format_price(high)}{quote.unit}"
    return f"{format_price(low if low is not None else high)}{quote.unit}"
