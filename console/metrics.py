"""The console's Prometheus metrics: its own requests, and what the knowledge DB says about the whole deployment
(pushes and kept messages by status, how old each product's newest price is), read when Prometheus scrapes."""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Callable, Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from knowledge.db import SessionFactory, session_scope
from knowledge.outbox.deferred import deferred_counts, oldest_unfinished_seconds
from knowledge.outbox.queue import push_counts
from knowledge.prices.queries import newest_report_dates
from metrics import LATENCY_BUCKETS

logger = logging.getLogger(__name__)


class KnowledgeCollector(Collector):
    """Gauges read from the knowledge DB at each scrape: the same for every process, so the console serves them."""

    def __init__(self, factory_of: Callable[[], SessionFactory], today: Callable[[], dt.date]) -> None:
        self._factory_of = factory_of
        self._today = today

    def collect(self) -> Iterable[GaugeMetricFamily]:
        """Pushes and kept messages by status, the oldest kept message's wait, each product's newest price's age."""
        pushes = GaugeMetricFamily("xiangxin_pushes_by_status", "Pushes in the outbox by kind and status",
                                   labels=["kind", "status"])
        kept = GaugeMetricFamily("xiangxin_deferred_by_status", "Farmers' messages kept to answer later, by status",
                                 labels=["status"])
        oldest = GaugeMetricFamily("xiangxin_deferred_oldest_seconds", "Seconds the oldest kept message not yet "
                                   "answered has waited (0: none waits)")
        ages = GaugeMetricFamily("xiangxin_price_age_days", "Days since the newest price of each product",
                                 labels=["product"])
        try:
            with session_scope(self._factory_of()) as session:
                for (kind, status), count in push_counts(session).items():
                    pushes.add_metric([kind, status], count)
                for status, count in deferred_counts(session).items():
                    kept.add_metric([status], count)
                oldest.add_metric([], oldest_unfinished_seconds(session))
                today = self._today()
                for product, newest in newest_report_dates(session).items():
                    ages.add_metric([product], (today - newest).days)
        except Exception:  # a scrape must answer even with the database down: the gauges are then absent
            logger.exception("Could not read the knowledge DB for /metrics")
            return []
        return [pushes, kept, oldest, ages]


class ConsoleMetrics:
    """The console's metrics, in a registry of its own."""

    def __init__(self, factory_of: Callable[[], SessionFactory], today: Callable[[], dt.date]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("xiangxin_console_requests", "Console requests by route and status",
                                ["route", "status"], registry=self.registry)
        self.seconds = Histogram("xiangxin_console_request_seconds", "Seconds the console took per request",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(KnowledgeCollector(factory_of, today))

    def middleware(self) -> Callable:
        """Count every request and its time, by route name (never by path: paths hold ids)."""

        @web.middleware
        async def measure(request: web.Request, handler) -> web.StreamResponse:
            started = time.monotonic()
            status = 500
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as error:
                status = error.status
                raise
            finally:
                route = request.match_info.route.name or "unnamed"
                self.requests.labels(route, str(status)).inc()
                self.seconds.labels(route).observe(time.monotonic() - started)

        return measure
