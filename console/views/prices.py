"""Prices: list, search, filter; add, edit and delete with the CLI import's validation, officers within their region."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Mapping, Optional, Tuple

import aiohttp_jinja2
from aiohttp import web

from console.context import console_context, page_number
from console.permissions import check_edit_region, region_scope
from console.security import current_user, flash, require
from console.views.forms import region_choices
from knowledge.catalog.units import KG_PER
from knowledge.db import Session, session_scope
from knowledge.models import Market, PriceRecord, Role
from knowledge.prices.editing import PriceConflictError, delete_price, save_price_audited, update_price
from knowledge.prices.listing import price_page, price_record_by_id
from knowledge.prices.plausibility import Outlier, PlausibilityCheck, record_accepted_outliers
from knowledge.prices.validation import CheckedPrice, PriceInput, check_price
from settings import load_settings

PAGE_SIZE = 50
FIELDS = ("product", "market", "region", "date", "unit", "min_price", "avg_price", "max_price", "source",
          "confidence", "note")


def _parse_day(text: str) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _price_page(db: Session, query: Mapping[str, str], page: int):
    region_id = query.get("region", "")
    return price_page(
        db, words=query.get("q", ""), region_id=int(region_id) if region_id.isdigit() else None,
        since=_parse_day(query.get("since", "")), until=_parse_day(query.get("until", "")),
        confidence=query.get("confidence") if query.get("confidence") in ("V", "V2", "U") else None,
        number=page, size=PAGE_SIZE,
    )


@require()
async def price_list(request: web.Request) -> web.Response:
    """Prices, newest first, with search and filters."""
    user = current_user(request)
    page = page_number(request.query)
    with session_scope(console_context(request).sessions) as db:
        records = _price_page(db, request.query, page)
        scope = region_scope(db, user)
        editable = {record.id for record in records.rows
                    if user.role in (Role.ADMIN, Role.OFFICER) and (scope is None or record.market.region_id in scope)}
        regions = region_choices(db)
    return aiohttp_jinja2.render_template("prices.html", request, {
        "records": records.rows, "total": records.total, "page": page, "pages": records.pages,
        "query": request.query, "editable": editable, "regions": regions,
    })


def _form_values(record: Optional[PriceRecord]) -> Dict[str, Any]:
    if record is None:
        return {name: "" for name in FIELDS} | {"confidence": "V", "unit": "元/斤"}
    return {
        "product": record.product.name, "market": record.market.name, "region": record.market.region.name,
        "date": record.report_date.isoformat(), "unit": record.entered_unit,
        "min_price": record.entered_min, "avg_price": record.entered_avg, "max_price": record.entered_max,
        "source": record.source, "confidence": record.confidence, "note": record.note or "",
    }


def _render_form(request: web.Request, record_id: Optional[int], values: Mapping[str, Any], errors: List[str],
                 status: int = 200, outlier: str = "") -> web.Response:
    return aiohttp_jinja2.render_template("price_form.html", request, {
        "record_id": record_id, "values": values, "errors": errors, "units": [f"元/{unit}" for unit in KG_PER],
        "outlier": outlier,
    }, status=status)


def _held(db: Session, price: CheckedPrice, form: Mapping[str, Any]) -> Tuple[Optional[Outlier], bool]:
    """The price's implausibility, if any, and whether it holds the save (the officer has not ticked 我已核对)."""
    outlier = PlausibilityCheck(db, load_settings().price_outlier_factor).check(price)
    return outlier, outlier is not None and form.get("accept_outlier") != "yes"


def _input(form: Mapping[str, Any]) -> PriceInput:
    return PriceInput(**{name: str(form.get(name, "")).strip() for name in FIELDS})


def _market_region_id(market: Market) -> Optional[int]:
    # A market the entry names for the first time is not saved yet: its region is, though.
    return market.region_id if market.region_id is not None else market.region.id


@require(Role.ADMIN, Role.OFFICER)
async def price_new(request: web.Request) -> web.Response:
    """The empty price form."""
    return _render_form(request, None, _form_values(None), [])


@require(Role.ADMIN, Role.OFFICER)
async def price_create(request: web.Request) -> web.Response:
    """Check and save a new price (a record with the same product, market, date and source is updated, as on import)."""
    user = current_user(request)
    form = await request.post()
    context = console_context(request)
    with session_scope(context.sessions) as db:
        check = check_price(db, _input(form), today=context.today())
        if check.price is None:
            return _render_form(request, None, form, check.errors, status=400)
        check_edit_region(db, user, _market_region_id(check.price.market), "这个市场")
        outlier, held = _held(db, check.price, form)
        if held:
            assert outlier is not None
            return _render_form(request, None, form, [], status=422, outlier=outlier.reason)
        record, created = save_price_audited(db, check.price, user.username)
        if outlier is not None:
            record_accepted_outliers(db, user.username, [outlier], via="console")
        what = f"{record.product.name} {record.market.name} {record.report_date}"
        message = f"已{'新增' if created else '更新'}价格：{what}"
    await flash(request, message)
    raise web.HTTPFound("/prices")


def _record(db: Session, request: web.Request) -> PriceRecord:
    record = price_record_by_id(db, int(request.match_info["record_id"]))
    if record is None:
        raise web.HTTPNotFound(text="没有这条价格记录")
    return record


@require(Role.ADMIN, Role.OFFICER)
async def price_edit(request: web.Request) -> web.Response:
    """The price form filled with the record as it was entered."""
    user = current_user(request)
    with session_scope(console_context(request).sessions) as db:
        record = _record(db, request)
        check_edit_region(db, user, record.market.region_id, "这条价格")
        values = _form_values(record)
        return _render_form(request, record.id, values, [])


@require(Role.ADMIN, Role.OFFICER)
async def price_update(request: web.Request) -> web.Response:
    """Check and save changes to one price record."""
    user = current_user(request)
    form = await request.post()
    context = console_context(request)
    with session_scope(context.sessions) as db:
        record = _record(db, request)
        check_edit_region(db, user, record.market.region_id, "这条价格")
        check = check_price(db, _input(form), today=context.today())
        if check.price is None:
            return _render_form(request, record.id, form, check.errors, status=400)
        check_edit_region(db, user, _market_region_id(check.price.market), "目标市场")
        outlier, held = _held(db, check.price, form)
        if held:
            assert outlier is not None
            return _render_form(request, record.id, form, [], status=422, outlier=outlier.reason)
        try:
            update_price(db, record, check.price, user.username)
            if outlier is not None:
                record_accepted_outliers(db, user.username, [outlier], via="console")
        except PriceConflictError as error:
            db.rollback()
            return _render_form(request, record.id, form, [str(error)], status=409)
        message = f"已保存价格 #{record.id}"
    await flash(request, message)
    raise web.HTTPFound("/prices")


@require(Role.ADMIN, Role.OFFICER)
async def price_delete(request: web.Request) -> web.Response:
    """Delete one price record (kept in the audit log)."""
    user = current_user(request)
    with session_scope(console_context(request).sessions) as db:
        record = _record(db, request)
        check_edit_region(db, user, record.market.region_id, "这条价格")
        message = f"已删除价格 #{record.id}：{record.product.name} {record.market.name} {record.report_date}"
        delete_price(db, record, user.username)
    await flash(request, message)
    raise web.HTTPFound("/prices")
