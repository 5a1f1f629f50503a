"""The action server's /metrics (actions/metrics.py): each action call counted by how it ended, which the gateway
cannot tell (Rasa answers it with no reply whatever went wrong), behind METRICS_TOKEN like the gateway's."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rasa_sdk import Action, Tracker, endpoint
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionNotFoundException

from actions import worker_threads
from actions.metrics import ActionMetrics, metrics_route
from actions.worker_threads import ThreadedActionExecutor
from tests.actions.conftest import make_tracker
from tests.actions.test_worker_threads import _call


class BrokenAction(Action):
    def name(self) -> str:
        return "action_broken"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List:
        raise RuntimeError("the knowledge DB went away")


def _samples(metrics: ActionMetrics) -> Dict[tuple, float]:
    from prometheus_client import generate_latest

    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(generate_latest(metrics.registry).decode())
            for sample in family.samples}


async def test_each_call_is_counted_by_action_and_outcome() -> None:
    metrics = ActionMetrics()
    executor = ThreadedActionExecutor(threads=2, metrics=metrics)
    executor.register_package("actions")
    executor.register_action(BrokenAction)
    tracker = make_tracker(slots={"product": "玉米"})
    assert await executor.run(_call("action_answer_price", tracker)) is not None
    with pytest.raises(RuntimeError):
        await executor.run(_call("action_broken", tracker))
    with pytest.raises(ActionNotFoundException):
        await executor.run(_call("action_nobody_wrote", tracker))
    samples = _samples(metrics)
    assert samples[("xiangxin_actions_total", (("action", "action_answer_price"), ("outcome", "ok")))] == 1
    assert samples[("xiangxin_actions_total", (("action", "action_broken"), ("outcome", "error")))] == 1
    assert samples[("xiangxin_actions_total", (("action", "action_nobody_wrote"), ("outcome", "not_found")))] == 1
    assert samples[("xiangxin_action_seconds_count", (("action", "action_answer_price"),))] == 1


async def test_metrics_route_needs_the_token_when_one_is_set() -> None:
    metrics = ActionMetrics()
    metrics.calls.labels("action_answer_price", "ok").inc()
    open_route, guarded = metrics_route(metrics.registry, ""), metrics_route(metrics.registry, "s3cret-scrape")

    def request(authorization: str = "") -> Any:
        return SimpleNamespace(headers={"Authorization": authorization} if authorization else {})

    scraped = await open_route(request())
    assert scraped.status == 200 and b'xiangxin_actions_total{action="action_answer_price",outcome="ok"} 1.0' in \
        scraped.body
    assert (await guarded(request())).status == 401
    assert (await guarded(request("Bearer wrong"))).status == 401
    assert (await guarded(request("Bearer s3cret-scrape"))).status == 200


def test_install_serves_metrics_on_rasa_sdk_s_app(monkeypatch) -> None:
    monkeypatch.setattr(endpoint, "ActionExecutor", endpoint.ActionExecutor)  # both undone after the test
    monkeypatch.setattr(endpoint, "create_app", endpoint.create_app)
    worker_threads.install()
    worker_threads.install()  # a second install adds no second route
    app = endpoint.create_app("actions")
    # Sanic keeps paths without their leading slash.
    assert [route.path for route in app.router.routes if route.path == "metrics"] == ["metrics"]
