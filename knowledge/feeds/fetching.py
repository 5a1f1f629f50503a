"""Fetching a feed's file without letting a feed reach what it must not: the installation's allow-list of URL
prefixes, and no loopback, private, link-local or other non-public address unless explicitly allowed.

The host is resolved and every address it resolves to is checked before the request, and again by the
connector's resolver at connect time, so a DNS answer that changes in between (DNS rebinding) is caught
too; the connection only ever goes to an address that was checked. Redirects are followed by hand, each
one checked like the first URL. A folder source is a folder under PRICE_FEED_ROOT, never outside it.
"""
from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from knowledge.files.tables import CSV_SUFFIXES, EXCEL_SUFFIXES
from settings import Settings

logger = logging.getLogger(__name__)

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
FILE_SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES
# A county's daily price sheet is far smaller; the console's upload limit is the same.
MAX_FEED_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 60
REDIRECTS = (301, 302, 303, 307, 308)


class FeedFetchError(Exception):
    """A feed's file could not be fetched: the reason in English (the log) and in Chinese (the console)."""

    def __init__(self, english: str, chinese: str) -> None:
        super().__init__(english)
        self.english = english
        self.chinese = chinese


@dataclass(frozen=True)
class FeedPolicy:
    """What the installation lets feeds reach: URL prefixes, otherwise-forbidden networks, the folder root."""

    allowed_urls: Tuple[str, ...] = ()
    allowed_networks: Tuple[Network, ...] = ()
    root: Path = Path("var/feeds")
    max_bytes: int = MAX_FEED_BYTES
    timeout_seconds: float = TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> "FeedPolicy":
        """The policy of PRICE_FEED_ALLOWED_URLS, PRICE_FEED_ALLOWED_NETWORKS and PRICE_FEED_ROOT."""
        return cls(settings.feed_allowed_urls, settings.feed_allowed_networks, settings.price_feed_root)


@dataclass
class FetchedFile:
    """A feed's file: its name (with a suffix the import reads), bytes and SHA-256."""

    name: str
    data: bytes
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.data).hexdigest()


def _default_port(url: URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def url_problem(text: str, policy: FeedPolicy) -> Optional[FeedFetchError]:
    """Why this URL is not one a feed may fetch (scheme, credentials, allow-list), or None."""
    try:
        url = URL(text)
    except ValueError:
        return FeedFetchError("not a URL", "地址格式不对")
    if url.scheme not in ("http", "https") or not url.host:
        return FeedFetchError("not an http(s) URL", "地址要以 http:// 或 https:// 开头")
    if url.user is not None or url.password is not None:
        return FeedFetchError("credentials in the URL", "地址里不能带用户名或密码")
    if ".." in url.path.split("/"):
        return FeedFetchError("'..' in the URL path", "地址里不能有“..”")
    for prefix_text in policy.allowed_urls:
        prefix = URL(prefix_text)
        if (prefix.scheme, (prefix.host or "").lower(), _default_port(prefix)) != (
                url.scheme, url.host.lower(), _default_port(url)):
            continue
        base = prefix.path if prefix.path.endswith("/") else prefix.path + "/"
        if url.path == prefix.path or url.path.startswith(base) or prefix.path in ("", "/"):
            return None
    shown = "、".join(policy.allowed_urls) or "（本系统没有设置任何允许的地址）"
    return FeedFetchError(f"{url.host} is not on PRICE_FEED_ALLOWED_URLS",
                          f"地址不在本系统允许的范围内：{shown}")


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> Optional[ipaddress.IPv4Address]:
    # IPv6 forms that reach an IPv4 address: mapped (::ffff:127.0.0.1), NAT64, 6to4 and Teredo.
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_allowed(address: Address, policy: FeedPolicy) -> bool:
    """True for a public unicast address, or one inside a network the installation allows explicitly."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not address_allowed(embedded, policy):
            return False
        address = embedded or address
    if any(address.version == network.version and address in network for network in policy.allowed_networks):
        return True
    return address.is_global and not address.is_multicast


def _refused(host: str, address: str) -> FeedFetchError:
    return FeedFetchError(
        f"{host} resolves to {address}, a loopback, private, link-local or otherwise non-public address not in "
        "PRICE_FEED_ALLOWED_NETWORKS",
        f"地址“{host}”指向内部网络地址 {address}，本系统不允许价格源访问内部地址",
    )


def check_addresses(host: str, addresses: Sequence[str], policy: FeedPolicy) -> None:
    """Raise FeedFetchError unless every address the host resolved to is allowed."""
    if not addresses:
        raise FeedFetchError(f"{host} resolves to no address", f"找不到“{host}”这个地址")
    for text in addresses:
        if not address_allowed(ipaddress.ip_address(text.split("%", 1)[0]), policy):
            raise _refused(host, text)


class GuardedResolver(AbstractResolver):
    """The connector's resolver: resolves as usual, then refuses the host unless every address is allowed."""

    def __init__(self, policy: FeedPolicy) -> None:
        self._policy = policy
        self._inner = ThreadedResolver()

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> List[Dict[str, Any]]:
        """Every address of `host`, when all of them are allowed."""
        infos = await self._inner.resolve(host, port, family)
        check_addresses(host, [info["host"] for info in infos], self._policy)
        return infos

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()


async def _check_host(url: URL, policy: FeedPolicy) -> None:
    host = url.host or ""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:  # aiohttp connects to an address literal without asking the resolver
        check_addresses(host, [str(literal)], policy)
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, _default_port(url), type=socket.SOCK_STREAM)
    except OSError as error:
        raise FeedFetchError(f"cannot resolve {host}: {error}", f"找不到“{host}”这个地址") from error
    check_addresses(host, [str(info[4][0]) for info in infos], policy)


def _file_name(url: URL, content_type: str) -> str:
    name = url.name or "feed"
    if Path(name).suffix.lower() in FILE_SUFFIXES:
        return name
    return f"{name}.xlsx" if "spreadsheetml" in content_type else f"{name}.csv"


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes:
    chunks: List[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise FeedFetchError(f"file larger than {limit} bytes",
                                 f"文件太大（超过 {limit // 1024 // 1024} MB）")
        chunks.append(chunk)
    return b"".join(chunks)


async def fetch_url(text: str, policy: FeedPolicy) -> FetchedFile:
    """Fetch the feed's URL (following up to five checked redirects); FeedFetchError with the reason if not."""
    url = URL(text)
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy), use_dns_cache=False, force_close=True)
    timeout = aiohttp.ClientTimeout(total=policy.timeout_seconds)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False) as session:
        for _ in range(MAX_REDIRECTS + 1):
            problem = url_problem(str(url), policy)
            if problem is not None:
                raise problem
            await _check_host(url, policy)
            try:
                async with session.get(url, allow_redirects=False) as response:
                    if response.status in REDIRECTS and "Location" in response.headers:
                        url = url.join(URL(response.headers["Location"]))
                        continue
                    if response.status != 200:
                        raise FeedFetchError(f"HTTP {response.status} from {url.host}",
                                             f"价格源服务器返回错误 HTTP {response.status}")
                    data = await _read_limited(response, policy.max_bytes)
                    return FetchedFile(_file_name(url, response.headers.get("Content-Type", "")), data)
            except FeedFetchError:
                raise
            except aiohttp.ClientConnectorError as error:
                if isinstance(error.os_error, FeedFetchError):
                    raise error.os_error from error
                raise FeedFetchError(f"cannot connect to {url.host}: {error.os_error}",
                                     f"连不上价格源服务器“{url.host}”") from error
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                raise FeedFetchError(f"fetching from {url.host} failed: {type(error).__name__} {error}",
                                     f"从“{url.host}”下载失败") from error
        raise FeedFetchError(f"more than {MAX_REDIRECTS} redirects", f"跳转次数太多（超过 {MAX_REDIRECTS} 次）")


def folder_problem(source: str, policy: FeedPolicy) -> Optional[str]:
    """Why `source` is not a folder a feed may read (plain Chinese), or None."""
    if not source or Path(source).is_absolute() or ".." in Path(source).parts:
        return f"文件夹要写成 {policy.root} 下面的相对路径，如 county-prices"
    root = policy.root.resolve()
    folder = (root / source).resolve()
    if folder != root and root not in folder.parents:
        return f"文件夹不在 {policy.root} 下面"
    return None


def folder_files(source: str, policy: FeedPolicy) -> List[Path]:
    """The price files in the feed's folder under the root, by name; FeedFetchError when it cannot be read."""
    problem = folder_problem(source, policy)
    if problem is not None:
        raise FeedFetchError(f"folder {source!r} is not under PRICE_FEED_ROOT", problem)
    root = policy.root.resolve()
    folder = (root / source).resolve()
    if not folder.is_dir():
        raise FeedFetchError(f"folder {folder} does not exist", f"文件夹 {policy.root / source} 不存在")
    files = []
    for path in sorted(folder.iterdir()):
        resolved = path.resolve()
        # A link out of the root is no way around it.
        if path.suffix.lower() in FILE_SUFFIXES and resolved.is_file() and root in resolved.parents:
            files.append(path)
    return files


def read_folder_file(path: Path, policy: FeedPolicy) -> FetchedFile:
    """One file of a folder feed, within the size limit."""
    if path.stat().st_size > policy.max_bytes:
        raise FeedFetchError(f"{path.name} is larger than {policy.max_bytes} bytes",
                             f"文件 {path.name} 太大（超过 {policy.max_bytes // 1024 // 1024} MB）")
    return FetchedFile(path.name, path.read_bytes())
