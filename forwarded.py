"""The client's address behind reverse proxies, one rule for the gateway's web chat and the console.

Shared by bot/ and console/ (front ends may not import each other), so both limit and back off by the
same address a farmer's or officer's browser really has.
"""
from __future__ import annotations

from typing import FrozenSet


def client_address(peer: str, forwarded_for: str, trusted_proxies: FrozenSet[str]) -> str:
    """The browser's address: the peer, or behind trusted proxies the nearest X-Forwarded-For entry they did not add.

    Entries further left are whatever the client chose to send, so they are never believed.
    """
    if peer not in trusted_proxies:
        return peer
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        if hop and hop not in trusted_proxies:
            return hop
    return peer
