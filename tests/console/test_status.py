"""The console's status page shows what the knowledge base really holds."""
from console.app import create_app
from settings import Settings


async def test_status_page_counts_seeded_rows(aiohttp_client, seeded_db_url) -> None:
    client = await aiohttp_client(create_app(Settings(knowledge_db_url=seeded_db_url)))
    response = await client.get("/")
    assert response.status == 200
    page = await response.text()
    assert "<dd>40</dd>" in page  # products in knowledge/seed/products.yml
    assert "<dd>89</dd>" in page  # price records in knowledge/seed/prices.yml
    assert "2025-10-28" in page  # the newest seeded price
    assert (await client.get("/healthz")).status == 200
