"""Rasa's graphs run without dask (rasa_extensions/fast_graph_runner.py) against DaskGraphRunner's own run."""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List, Tuple

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner

from rasa_extensions import fast_graph_runner
from rasa_extensions.fast_action_validation import source_sha256
from settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "xiangxin.tar.gz"


def test_rasa_code_replaced_is_the_code_this_module_was_written_for() -> None:
    # Update the hash only after reading Rasa's new DaskGraphRunner.run and re-running these tests.
    assert source_sha256(fast_graph_runner.ORIGINAL_RUN) == fast_graph_runner.PATCHED_SOURCE_SHA256


class _Unused(GraphComponent):  # SchemaNode wants a component class; the nodes below are plain callables
    pass


def _runner(calls: List[str]) -> DaskGraphRunner:
    """A runner over a diamond-shaped graph with an input and a node no target needs; nodes record their calls."""
    needs = {"tokens": {"messages": "__message__"}, "words": {"tokens": "tokens"}, "chars": {"tokens": "tokens"},
             "classify": {"words": "words", "chars": "chars", "config": "__config__"}, "unused": {}}

    def node(name: str) -> Callable[..., Tuple[str, Any]]:
        def call(*inputs: Tuple[str, Any]) -> Tuple[str, Any]:
            calls.append(name)
            if name == "unused":
                raise AssertionError("a node no target needs ran")
            return name, {"node": name, "inputs": [list(pair) if isinstance(pair, tuple) else pair for pair in inputs]}
        return call

    schema = GraphSchema({name: SchemaNode(needs=node_needs, uses=_Unused, constructor_name="create", fn="run",
                                           config={}, is_target=name == "classify")
                          for name, node_needs in needs.items()})
    runner = DaskGraphRunner.__new__(DaskGraphRunner)
    runner._graph_schema = schema
    runner._instantiated_nodes = {name: node(name) for name in needs}  # type: ignore[misc]
    runner._execution_context = None  # type: ignore[assignment]  # only logged
    return runner


def test_same_outputs_as_dask_each_node_once_after_what_it_needs() -> None:
    calls: List[str] = []
    runner = _runner(calls)
    inputs = {"__message__": ["你好"], "__config__": {"x": 1}}
    expected = fast_graph_runner.ORIGINAL_RUN(runner, inputs=dict(inputs), targets=["classify", "words"])
    dask_calls = list(calls)
    calls.clear()
    assert fast_graph_runner.run(runner, inputs=dict(inputs), targets=["classify", "words"]) == expected
    assert sorted(calls) == sorted(dask_calls) == ["chars", "classify", "tokens", "words"]
    assert calls.index("tokens") < calls.index("words") < calls.index("classify")
    assert calls.index("chars") < calls.index("classify")
    # Run again: the plan is kept, the answer the same.
    assert fast_graph_runner.run(runner, inputs=dict(inputs), targets=["classify", "words"]) == expected


def test_default_targets_and_errors_are_rasa_s() -> None:
    runner = _runner([])
    inputs = {"__message__": ["hi"], "__config__": {}}
    expected = fast_graph_runner.ORIGINAL_RUN(runner, inputs=dict(inputs))
    assert fast_graph_runner.run(runner, inputs=dict(inputs)) == expected
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        fast_graph_runner.run(runner, inputs={"__message__": "tokens"}, targets=["words"])

    def broken(*_: Any) -> Tuple[str, Any]:
        raise RuntimeError("boom")

    runner._instantiated_nodes["words"] = broken  # type: ignore[assignment]
    for run in (fast_graph_runner.ORIGINAL_RUN, fast_graph_runner.run):
        with pytest.raises(GraphRunError, match="Error running runner"):
            run(runner, inputs=dict(inputs), targets=["words"])


# What farmers type (tests/golden is never read here), and conversations for the policies.
TEXTS = ["你好", "玉米多少钱一斤", "猪肉最近涨了还是跌了", "种粮补贴怎么领", "城乡居民养老保险一个月能领多少钱",
         "谢谢", "苞谷咋卖", "转人工", "订阅玉米价格", "天气怎么样", "郑州的鸡蛋呢", "不是这个", "asdfgh"]


@pytest.mark.integration
def test_the_trained_model_parses_and_predicts_exactly_as_with_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test trains it first).")
    from rasa.core.agent import Agent
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    agent = Agent.load(str(MODEL))

    def outcomes() -> List[Dict[str, Any]]:
        async def parse_all() -> List[Dict[str, Any]]:
            return [await agent.parse_message(text) for text in TEXTS]

        found = []
        for parsed in asyncio.run(parse_all()):
            tracker = DialogueStateTracker.from_events("farmer", [
                ActionExecuted("action_session_start"), ActionExecuted("action_listen"),
                UserUttered(parsed["text"], parsed["intent"], parsed["entities"])], slots=agent.domain.slots)
            prediction = agent.processor._predict_next_with_tracker(tracker)  # type: ignore[union-attr]
            found.append({"intent": parsed["intent"], "ranking": parsed.get("intent_ranking"),
                          "entities": parsed["entities"], "policy": prediction.policy_name,
                          "probabilities": prediction.probabilities, "events": prediction.events})
        return found

    monkeypatch.setattr(DaskGraphRunner, "run", fast_graph_runner.ORIGINAL_RUN)
    with_dask = outcomes()
    monkeypatch.setattr(DaskGraphRunner, "run", fast_graph_runner.run)
    assert outcomes() == with_dask
    assert {found["intent"]["name"] for found in with_dask} >= {"greet", "ask_price", "ask_policy", "ask_pension"}
