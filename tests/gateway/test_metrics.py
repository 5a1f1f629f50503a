"""/metrics of the gateway and the console, as a county's Prometheus scrapes them."""
from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from bot.app import create_app
from console.app import create_app as create_console
from settings import Settings


def _samples(text: str) -> dict:
    """(name, sorted label items) → value of every sample in a scrape."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def test_gateway_counts_answered_and_deferred_messages_and_rasa_errors(aiohttp_client, fake_rasa, kb_url,
                                                                             unused_tcp_port) -> None:
    up = await aiohttp_client(create_app(Settings(rasa_url=fake_rasa.url, knowledge_db_url=kb_url,
                                                  push_interval_seconds=0)))
    await up.get("/")
    assert (await up.post("/api/messages", json={"message": "玉米多少钱"})).status == 200
    assert (await up.post("/api/messages", json={"message": ""})).status == 200
    scrape = await up.get("/metrics")
    assert scrape.status == 200 and scrape.content_type == "text/plain"
    samples = _samples(await scrape.text())
    assert samples[("xiangxin_messages_total", (("channel", "webchat"), ("outcome", "answered")))] == 1
    assert samples[("xiangxin_messages_total", (("channel", "webchat"), ("outcome", "refused")))] == 1
    assert samples[("xiangxin_reply_seconds_count", (("channel", "webchat"), ("outcome", "answered")))] == 1
    assert samples[("xiangxin_rasa_seconds_count", ())] == 1
    assert samples[("xiangxin_rasa_queue_depth", ())] == 0
    assert samples[("xiangxin_rasa_concurrency", ())] == Settings().rasa_concurrency

    down = await aiohttp_client(create_app(Settings(rasa_url=f"http://127.0.0.1:{unused_tcp_port}",
                                                    knowledge_db_url=kb_url, push_interval_seconds=0)))
    await down.get("/")
    await down.post("/api/messages", json={"message": "玉米多少钱"})
    samples = _samples(await (await down.get("/metrics")).text())
    assert samples[("xiangxin_messages_total", (("channel", "webchat"), ("outcome", "deferred")))] == 1
    assert samples[("xiangxin_rasa_errors_total", (("reason", "unreachable"),))] == 1


async def test_metrics_token_keeps_other_scrapers_out(aiohttp_client, fake_rasa, kb_url) -> None:
    client = await aiohttp_client(create_app(Settings(rasa_url=fake_rasa.url, knowledge_db_url=kb_url,
                                                      push_interval_seconds=0, metrics_token="s3cret-scrape")))
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})).status == 200


async def test_console_serves_price_ages_pushes_and_its_own_requests(aiohttp_client, kb_url, tmp_path) -> None:
    settings = Settings(knowledge_db_url=kb_url, tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
                        console_secret_key="k" * 32, upload_dir=tmp_path / "uploads")
    client = await aiohttp_client(create_console(settings))
    assert (await client.get("/healthz")).status == 200
    text = await (await client.get("/metrics")).text()
    samples = _samples(text)
    assert samples[("xiangxin_console_requests_total", (("route", "health"), ("status", "200")))] == 1
    ages = {labels[0][1]: value for (name, labels), value in samples.items() if name == "xiangxin_price_age_days"}
    assert "玉米" in ages and ages["玉米"] >= 0
    assert re.search(r"^# TYPE xiangxin_pushes_by_status gauge$", text, re.MULTILINE)


async def test_console_says_how_long_the_oldest_kept_message_has_waited(aiohttp_client, kb_url, tmp_path) -> None:
    import datetime as dt

    from knowledge.db import open_store
    from knowledge.models import utcnow
    from knowledge.outbox.deferred import answer_deferred, keep_message

    settings = Settings(knowledge_db_url=kb_url, tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
                        console_secret_key="k" * 32, upload_dir=tmp_path / "uploads")
    client = await aiohttp_client(create_console(settings))
    assert _samples(await (await client.get("/metrics")).text())[("xiangxin_deferred_oldest_seconds", ())] == 0
    store = open_store(kb_url)
    try:
        now = utcnow()
        old = store.run_blocking(lambda session: keep_message(session, "web-a", "玉米多少钱", {"channel": "webchat"},
                                                              now=now - dt.timedelta(minutes=15)))
        store.run_blocking(lambda session: keep_message(session, "web-b", "小麦多少钱", {"channel": "webchat"},
                                                        now=now - dt.timedelta(minutes=1)))
        oldest = _samples(await (await client.get("/metrics")).text())[("xiangxin_deferred_oldest_seconds", ())]
        assert 900 <= oldest < 1000
        # Answered, the old one no longer counts: the gauge follows the oldest still waiting.
        store.run_blocking(lambda session: answer_deferred(session, old, "答"))
        oldest = _samples(await (await client.get("/metrics")).text())[("xiangxin_deferred_oldest_seconds", ())]
        assert 60 <= oldest < 160
    finally:
        store.dispose()


def test_alert_rules_name_only_metrics_that_are_served() -> None:
    import yaml

    from actions.metrics import ActionMetrics
    from bot.metrics import GatewayMetrics
    from settings import PROJECT_ROOT

    rules = yaml.safe_load((PROJECT_ROOT / "docs" / "monitoring" / "xiangxin.rules.yml").read_text(encoding="utf-8"))
    expressions = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    named = {name for expr in expressions for name in re.findall(r"\b(xiangxin_[a-z_]+)", expr)}
    served = {sample_name for registry in (GatewayMetrics().registry, ActionMetrics().registry)
              for family in registry.collect() for sample_name in (family.name, f"{family.name}_total")}
    # The console's gauges read the database at scrape time; their names are fixed in KnowledgeCollector.
    served |= {"xiangxin_pushes_by_status", "xiangxin_deferred_by_status", "xiangxin_deferred_oldest_seconds",
               "xiangxin_price_age_days"}
    assert named and named <= served, named - served
