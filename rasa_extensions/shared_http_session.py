"""Rasa's calls to the action server over one kept-alive HTTP session instead of a new one per call.

Why: `EndpointConfig.request` (rasa/utils/endpoints.py, Rasa 3.6.21) opens `async with self.session()`, a new
aiohttp ClientSession with its own connector, for every call: each custom action and each form validation of
every message builds a session, resolves the address, opens a TCP connection (the action server accepts one),
and closes all of it again. Under bench/e2e_bench.py's conversations that was ~7% of the Rasa server's CPU
(py-spy, issue 16), and the action server paid for a new connection per call too.

What changes: `EndpointConfig.session()` returns the endpoint's one session for the running event loop (made on
first use, with the same headers, basic auth and timeout Rasa's own gives it) wrapped so that Rasa's
`async with … as session` does not close it. `request` itself is Rasa's, unchanged: the same URL, parameters,
token, headers, SSL context, the same ClientResponseError on a status of 400 or more, the same JSON or None.
Idle connections are dropped after KEEPALIVE_SECONDS, below the 5 s after which the action server (Sanic's
default) and nginx (75 s) close theirs, so a request is never sent on a connection the server is closing. A new
event loop (tests run several) gets a new session.

tests/rasa_extensions/test_shared_http_session.py fails when Rasa's `session` or `request` changes (hashes of
their source), and checks against a real HTTP server that calls reuse one connection, errors still raise, and
headers and token still arrive. Upstream: RasaHQ/rasa, rasa/utils/endpoints.py `EndpointConfig.session` and
`request` at tag 3.6.21; no upstream fix we know of. Installed with the other serving fixes
(rasa_extensions/cli.py `install_serving_fixes`).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

import aiohttp
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

logger = logging.getLogger(__name__)

# sha256 of inspect.getsource of Rasa 3.6.21's methods (see fast_action_validation.source_sha256): `session` is
# replaced, and `request` is relied on to use it only as `async with self.session() as session`.
PATCHED_SOURCE_SHA256 = {
    "session": "e55aa13d9d4fb4bc440ac33b870a97ee162b76dda7ccb6bf68433567475fdffb",
    "request": "ccdb778aed8208e23cde3c3f47eac7fbbbb735dac8f7ef7254d54451c64ad608",
}

ORIGINAL_SESSION = EndpointConfig.session

# Below the keep-alive of what Rasa calls: Sanic (the action server) closes an idle connection after 5 s.
KEEPALIVE_SECONDS = 3.0


class _KeptSession:
    """`async with` gives the shared session and leaves it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


def _new_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    auth: Optional[aiohttp.BasicAuth] = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    return aiohttp.ClientSession(
        headers=endpoint.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
    )


def session(self: EndpointConfig) -> Any:
    """EndpointConfig.session: this endpoint's session for the running loop, kept open across calls."""
    loop = asyncio.get_running_loop()
    kept: Optional[aiohttp.ClientSession] = getattr(self, "_xiangxin_session", None)
    if kept is None or kept.closed or getattr(self, "_xiangxin_session_loop", None) is not loop:
        kept = _new_session(self)
        self._xiangxin_session = kept
        self._xiangxin_session_loop = loop
    return _KeptSession(kept)


def install() -> None:
    """Replace EndpointConfig.session in this process (idempotent)."""
    EndpointConfig.session = session
    logger.debug("Calls to endpoints share one kept-alive HTTP session per event loop")
