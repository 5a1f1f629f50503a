"""The dashboard still shows what the knowledge base really holds."""
from tests.console.conftest import sign_in


async def test_dashboard_counts_seeded_rows(client) -> None:
    await sign_in(client, "reviewer")
    response = await client.get("/")
    assert response.status == 200
    page = await response.text()
    assert "<dd>40</dd>" in page  # products in knowledge/seed/products.yml
    assert "<dd>89</dd>" in page  # price records in knowledge/seed/prices.yml
    assert "2025-10-28" in page  # the newest seeded price
    assert (await client.get("/healthz")).status == 200
