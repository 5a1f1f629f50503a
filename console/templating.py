"""Jinja2 for the console: autoescape everywhere, and personal data masked in every rendered value.

Masking is the environment's `finalize` hook, so every `{{ … }}` in every template is masked
without anyone having to remember a filter. The `mask` filter does the same for values built in
Python; `unmasked` marks the rare value that must come out verbatim (the CSRF token, and
officers' own knowledge text in edit forms, which would otherwise be saved back masked).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict
from urllib.parse import quote, urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from console.security import USER_KEY, csrf_token, take_flashes
from knowledge.handoff.attachments import attachment_label
from knowledge.local_time import to_local, zone_label
from knowledge.masking import mask_personal_data
from knowledge.models import Role

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


class Unmasked(str):
    """Text that templates print as it is (still HTML-escaped), without masking."""


def unmasked(value: Any) -> Any:
    """Jinja filter: print this value without masking."""
    if value is None:
        return ""
    return Unmasked(value)


def mask(value: Any) -> Any:
    """Jinja filter and finalize hook: mask phone and 身份证 numbers in text (and in pre-built markup)."""
    if isinstance(value, Unmasked):
        return "".join((value,))  # a plain str again, so the next pass would mask it
    if isinstance(value, Markup):
        return Markup(mask_personal_data(str(value)))  # noqa: S704 - only digits change in already-safe markup
    if isinstance(value, str):
        return mask_personal_data(value)
    return value


def price_text(value: Any) -> str:
    """A stored price without trailing zeros (1.1500 → 1.15); empty for None."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def when(value: Any) -> str:
    """A timestamp (a naive-UTC datetime as stored, or Unix seconds) in the installation's time zone and labelled:
    "2025-02-08 22:03 北京时间"."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        value = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if isinstance(value, dt.datetime):
        return f"{to_local(value).strftime('%Y-%m-%d %H:%M')} {zone_label()}"
    return str(value)


def pretty_json(value: Any) -> str:
    """Audit JSON laid out one key per line; other text as it is."""
    if not value:
        return ""
    try:
        return json.dumps(json.loads(value), ensure_ascii=False, indent=1, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def page_url(query: Any, page: int, param: str = "page") -> str:
    """The current list's query string with another page number (in `param`, for a page with two lists)."""
    values = {key: value for key, value in dict(query).items() if key != param and value != ""}
    values[param] = str(page)
    return "?" + urlencode(values)


async def template_context(request: web.Request) -> Dict[str, Any]:
    """What every page needs: the signed-in account, the CSRF token and waiting notices (on GET only)."""
    return {
        "current_user": request.get(USER_KEY),
        "csrf_token": Unmasked(await csrf_token(request)),
        "request": request,
        # A POST that redirects must leave its notices for the page it redirects to.
        "flashes": await take_flashes(request) if request.method == "GET" else [],
    }


@web.middleware
async def template_context_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Put the shared template values where aiohttp_jinja2.render_template merges them in."""
    request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = await template_context(request)
    return await handler(request)


def setup_templates(app: web.Application) -> jinja2.Environment:
    """Install the console's Jinja2 environment on the app (add template_context_middleware after sign-in)."""
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "svg", "xml"], default_for_string=True, default=True),
        finalize=mask,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update({"mask": mask, "unmasked": unmasked, "price": price_text, "when": when,
                                "pretty_json": pretty_json, "attachment": attachment_label,
                                "urlpart": lambda value: quote(str(value), safe="")})
    environment.globals["page_url"] = page_url
    environment.globals["Role"] = Role
    return environment
