"""Rasa's TensorFlow models loaded without a training step (rasa_extensions/fast_model_load.py) against Rasa's load.

The module replaces a method of Rasa: these tests fail when Rasa's method changes, and (with the trained model,
in the integration suite) when the two loads do not parse messages identically.
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import Event
from rasa.utils.tensorflow.models import RasaModel

from rasa_extensions import fast_model_load
from rasa_extensions.fast_action_validation import source_sha256
from settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "xiangxin.tar.gz"
# What farmers type (tests/golden is never read here): intents of every kind, products, topics, numbers.
TEXTS = ["你好", "玉米多少钱一斤", "猪肉最近涨了还是跌了", "种粮补贴怎么领", "城乡居民养老保险一个月能领多少钱",
         "大白菜价格", "谢谢", "再见", "苞谷咋卖", "我交了十五年养老保险能领多少", "转人工", "订阅玉米价格",
         "新农合怎么报销", "天气怎么样", "小麦最低收购价", "郑州的鸡蛋呢", "一斤多少钱", "不是这个"]


def test_rasa_code_replaced_is_the_code_this_module_was_written_for() -> None:
    # Update the hash only after reading Rasa's new RasaModel.load and re-running the integration test below.
    assert source_sha256(fast_model_load.ORIGINAL_LOAD) == fast_model_load.PATCHED_SOURCE_SHA256


def test_loading_the_gateway_channel_installs_it() -> None:
    import rasa_extensions.gateway_channel  # noqa: F401

    assert RasaModel.load.__func__ is fast_model_load._load  # type: ignore[attr-defined]


def _parses(agent: Agent) -> List[Dict[str, Any]]:
    async def parse_all() -> List[Dict[str, Any]]:
        return [await agent.parse_message(text) for text in TEXTS]

    return [{"intent": parsed["intent"], "ranking": parsed.get("intent_ranking"),
             "entities": parsed["entities"]} for parsed in asyncio.run(parse_all())]


@pytest.mark.integration
def test_the_model_parses_exactly_as_when_rasa_loads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test trains it first).")
    monkeypatch.setattr(RasaModel, "load", classmethod(fast_model_load.ORIGINAL_LOAD))
    rasa_s = _parses(Agent.load(str(MODEL)))
    monkeypatch.setattr(RasaModel, "load", classmethod(fast_model_load._load))
    ours = _parses(Agent.load(str(MODEL)))
    assert ours == rasa_s
    assert {parsed["intent"]["name"] for parsed in ours} >= {"greet", "ask_price", "ask_policy", "ask_pension"}


def test_the_command_line_launcher_installs_the_fixes(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.actions.action import RemoteAction

    from rasa_extensions import cli, fast_action_validation, fast_event_types

    monkeypatch.setattr(RasaModel, "load", classmethod(fast_model_load.ORIGINAL_LOAD))
    monkeypatch.setattr(RemoteAction, "_validate_action_result", fast_action_validation.ORIGINAL_VALIDATE_ACTION_RESULT)
    cli.install_fixes()
    assert RasaModel.load.__func__ is fast_model_load._load  # type: ignore[attr-defined]
    assert RemoteAction._validate_action_result is fast_action_validation._validate_action_result
    assert Event.resolve_by_type is fast_event_types.resolve_by_type
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.utils.endpoints import EndpointConfig

    from rasa_extensions import fast_graph_runner, shared_http_session

    assert DaskGraphRunner.run is fast_graph_runner.run
    assert EndpointConfig.session is shared_http_session.session
