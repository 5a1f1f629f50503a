"""The action server's Prometheus metrics: each action call by action and outcome, and its time.

Rasa answers a farmer with no reply when a custom action fails, and the gateway sees only that
(`xiangxin_rasa_errors_total{reason="empty"}`): it cannot tell an action that raised from an action server
that is down or from one Rasa could not reach. The action server can, so it counts its own calls and serves
them at /metrics (METRICS_TOKEN as on the gateway); a county's Prometheus scrapes each action server process.
One registry per process: Rasa SDK serves with one Sanic worker (SANIC_WORKERS, default 1).
"""
from __future__ import annotations

import asyncio
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from metrics import LATENCY_BUCKETS, scrape_allowed


class ActionMetrics:
    """Action calls of one action server process, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter(
            "xiangxin_actions", "Action calls by action and outcome: ok, rejected (a form's validation refused the "
            "slot, Rasa goes on), not_found (Rasa and the action server disagree on the domain), error (the action "
            "raised: Rasa answers the farmer with nothing and the gateway apologises)",
            ["action", "outcome"], registry=self.registry)
        self.seconds = Histogram("xiangxin_action_seconds", "Seconds an action call took, from arrival to its answer",
                                 ["action"], buckets=LATENCY_BUCKETS, registry=self.registry)

    @contextmanager
    def measure(self, action_call: Dict[str, Any]) -> Iterator[None]:
        """Count the call around the `with` block by how it ended (the exception, if any, passes on)."""
        # The label is the action's name from Rasa's call: names Rasa sends come from the domain, a short list.
        action = str(action_call.get("next_action") or "unknown")
        started = time.monotonic()
        outcome = "error"
        try:
            yield
            outcome = "ok"
        except ActionExecutionRejection:
            outcome = "rejected"
            raise
        except ActionNotFoundException:
            outcome = "not_found"
            raise
        finally:
            self.calls.labels(action, outcome).inc()
            self.seconds.labels(action).observe(time.monotonic() - started)


# This process's metrics: the executor counts into them and the /metrics route serves them.
ACTION_METRICS = ActionMetrics()


def metrics_route(registry: CollectorRegistry, token: str) -> Callable[[Any], Any]:
    """A Sanic handler serving `registry`, refusing (401) a scrape without `token` when one is set."""
    from sanic import response

    async def metrics(request: Any) -> Any:
        if not scrape_allowed(request.headers.get("Authorization", ""), token):
            return response.text("metrics need the bearer token (METRICS_TOKEN)\n", status=401)
        body = await asyncio.to_thread(generate_latest, registry)
        return response.raw(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics


def add_metrics_route(app: Any, token: str, metrics: Optional[ActionMetrics] = None) -> None:
    """Serve `metrics` (this process's by default) at GET /metrics of Rasa SDK's Sanic app."""
    app.add_route(metrics_route((metrics or ACTION_METRICS).registry, token), "/metrics", methods=["GET"],
                  name="metrics")
