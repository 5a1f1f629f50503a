"""A stand-in for Rasa's gateway channel at a steady pace, as its own process (bench/load_bench.py starts it).

    python -m bench._paced_rasa PORT SECONDS_PER_MESSAGE

One message at a time (Rasa's pipeline is CPU-bound), each answered "答：<message>"; GET /count says how many.
"""
from __future__ import annotations

import asyncio
import sys

from aiohttp import web


def make_app(seconds: float) -> web.Application:
    """The stand-in's app."""
    busy = asyncio.Lock()
    processed = [0]

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        async with busy:
            await asyncio.sleep(seconds)
            processed[0] += 1
        return web.json_response([{"recipient_id": body["sender"], "text": f"答：{body['message']}"}])

    async def count(_request: web.Request) -> web.Response:
        return web.json_response({"processed": processed[0]})

    app = web.Application()
    app.router.add_post("/webhooks/gateway/webhook", webhook)
    app.router.add_get("/count", count)
    return app


if __name__ == "__main__":
    web.run_app(make_app(float(sys.argv[2])), host="127.0.0.1", port=int(sys.argv[1]), print=None)
