"""Every action runs on a worker thread, off the action server's event loop.

Rasa SDK awaits each action's `run()` on the one event loop of the action server, and our actions query the
knowledge DB synchronously (SQLAlchemy): while one farmer's price question waits for SQLite or PostgreSQL,
no other request is even read, and a slow query stalls every conversation and the /health check. Rather
than change every action body, the executor runs each whole action call (tracker parsing, `run()`, event
validation) on a pool of ACTIONS_CONCURRENCY threads, each with its own event loop kept for the life of the
thread (an `async def run` still awaits whatever it likes there). The knowledge DB pool has as many
connections (actions/knowledge_access.py), so no thread waits for a connection.

`python -m actions` installs it (`install()`) before Rasa SDK builds its app; the integration tests start
the action server the same way.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa_sdk import endpoint
from rasa_sdk.executor import ActionExecutor

from actions.metrics import ACTION_METRICS, ActionMetrics, add_metrics_route
from settings import load_settings

logger = logging.getLogger(__name__)

_thread_state = threading.local()


def _run_on_thread_loop(work: Callable[[], Awaitable[Any]]) -> Any:
    """Run `work()` to completion on this worker thread's own event loop (made on the thread's first call)."""
    loop: Optional[asyncio.AbstractEventLoop] = getattr(_thread_state, "loop", None)
    if loop is None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        _thread_state.loop = loop
    return loop.run_until_complete(work())


class ThreadedActionExecutor(ActionExecutor):
    """Rasa SDK's executor, each action call run on a worker thread so the server's loop keeps serving."""

    def __init__(self, threads: Optional[int] = None, metrics: Optional[ActionMetrics] = None) -> None:
        super().__init__()
        self._threads = threads or load_settings().actions_concurrency
        self._metrics = metrics or ACTION_METRICS
        # Made on the first call, in the serving process (Sanic may fork workers after the app is built).
        self._pool: Optional[ThreadPoolExecutor] = None

    def _worker_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="action")
        return self._pool

    async def run(self, action_call: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """ActionExecutor.run, awaited on a worker thread, counted in the action server's metrics."""
        loop = asyncio.get_running_loop()
        on_loop = super().run
        with self._metrics.measure(action_call):
            return await loop.run_in_executor(self._worker_pool(), _run_on_thread_loop, lambda: on_loop(action_call))


def install() -> None:
    """Make Rasa SDK's app (rasa_sdk.endpoint.create_app) build its executor from ThreadedActionExecutor, and
    serve the action server's metrics (actions/metrics.py) at /metrics."""
    # create_app() builds `ActionExecutor()` by this module-level name and offers no other way to pass one.
    endpoint.ActionExecutor = ThreadedActionExecutor
    create_app = endpoint.create_app
    if not getattr(create_app, "serves_metrics", False):
        token = load_settings().metrics_token

        # run() builds its app by this module-level name too; the route is added to the app it returns.
        def create_app_with_metrics(*args: Any, **kwargs: Any) -> Any:
            app = create_app(*args, **kwargs)
            add_metrics_route(app, token)
            return app

        create_app_with_metrics.serves_metrics = True  # type: ignore[attr-defined]
        endpoint.create_app = create_app_with_metrics
    logger.debug("Actions run on %d worker threads", load_settings().actions_concurrency)
