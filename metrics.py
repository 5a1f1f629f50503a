"""The /metrics endpoint of the gateway and the console, one rule for both (front ends may not import each other).

Each app keeps its own registry (tests run many apps in one process); Prometheus reads it in its text format.
With METRICS_TOKEN set, a scrape must send it as a bearer token (Prometheus' `authorization:` setting).
"""
from __future__ import annotations

import asyncio
import hmac
from typing import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

# Seconds a farmer or an officer waits: from a cached answer to the gateway's deadline and past it.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 10.0, 30.0, 60.0, 120.0)


def scrape_allowed(authorization: str, token: str) -> bool:
    """Whether a scrape's Authorization header carries `token` (any scrape when no token is set)."""
    return not token or hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())


def metrics_handler(registry: CollectorRegistry, token: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler serving `registry`, refusing (401) a scrape without `token` when one is set."""

    async def metrics(request: web.Request) -> web.Response:
        if not scrape_allowed(request.headers.get("Authorization", ""), token):
            return web.Response(status=401, text="metrics need the bearer token (METRICS_TOKEN)\n")
        # In a worker thread: a registry may hold collectors that read the database when scraped.
        response = web.Response(body=await asyncio.to_thread(generate_latest, registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    return metrics
