"""Every route for every role: who gets the page, who gets a 403 page in Chinese, who is sent to log in;
every form refused without its CSRF token; and a check that no route of the app is left out of these tables."""
from __future__ import annotations

from typing import Dict, Iterable, List, Set, Tuple

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiohttp.web_urldispatcher import AbstractRoute, MatchInfoError
from sqlalchemy import func, select

from console.app import create_app
from knowledge.models import AuditLog, PriceRecord
from tests.console.conftest import ACCOUNTS, csrf_of, sign_in

ROLES = ("admin", "officer", "reviewer")
USER_OF_ROLE = {"admin": "admin", "officer": "gaocheng", "reviewer": "reviewer"}
OK, FOUND, BAD, UNAUTHORIZED, FORBIDDEN, NOT_FOUND = 200, 302, 400, 401, 403, 404

# Pages anyone may open, signed in or not: path → status signed out, then for (admin, officer, reviewer).
PUBLIC_GET_ROUTES: Dict[str, Tuple[int, Tuple[int, int, int]]] = {
    "/healthz": (OK, (OK, OK, OK)),
    # Counts only, nothing personal; METRICS_TOKEN (tests/gateway/test_metrics.py) closes it to all but Prometheus.
    "/metrics": (OK, (OK, OK, OK)),
    "/login": (OK, (FOUND, FOUND, FOUND)),  # signed in: on to the dashboard
    "/static/console.css": (OK, (OK, OK, OK)),
}

# path → expected status for (admin, officer, reviewer). Ticket 1 and the farmers tg-1001 and web-5f3a
# are in 藁城区 (the officer's region); ticket 2 and tg-2002 are in 丰台区. Account 2 is the officer gaocheng.
GET_ROUTES = {
    "/": (OK, OK, OK),
    "/account/password": (OK, OK, OK),
    "/prices": (OK, OK, OK),
    "/prices/new": (OK, OK, FORBIDDEN),
    "/prices/1/edit": (OK, FORBIDDEN, FORBIDDEN),  # seed record 1 is a national average, not 藁城区
    "/articles": (OK, OK, OK),
    "/articles/1": (OK, OK, OK),
    "/articles/new": (OK, OK, FORBIDDEN),
    "/articles/1/edit": (OK, FORBIDDEN, FORBIDDEN),  # national articles are not an officer's to change
    "/imports": (OK, OK, FORBIDDEN),
    "/audit": (OK, OK, FORBIDDEN),
    "/needs-update": (OK, OK, FORBIDDEN),
    "/accounts": (OK, FORBIDDEN, FORBIDDEN),
    "/accounts/2/telegram": (OK, FORBIDDEN, FORBIDDEN),
    "/account/telegram": (OK, OK, FORBIDDEN),
    "/conversations": (OK, FORBIDDEN, OK),
    "/conversations/web-5f3a": (OK, OK, OK),  # the officer reads it: the farmer is in 藁城区
    "/conversations/tg-2002": (OK, FORBIDDEN, OK),
    "/training-data": (OK, FORBIDDEN, OK),
    "/training-data/nlu.yml": (OK, FORBIDDEN, OK),
    "/handoff": (OK, OK, FORBIDDEN),
    "/handoff/1": (OK, OK, FORBIDDEN),
    "/handoff/2": (OK, FORBIDDEN, FORBIDDEN),
    # Attachment 1 is ticket 2's voice message; without a bot token (as here) the console cannot fetch it.
    "/handoff/2/attachments/1": (NOT_FOUND, FORBIDDEN, FORBIDDEN),
    "/privacy/forget": (OK, FORBIDDEN, FORBIDDEN),
    "/feeds": (OK, FORBIDDEN, FORBIDDEN),
    "/feeds/999": (NOT_FOUND, FORBIDDEN, FORBIDDEN),
    "/imports/batches": (OK, OK, FORBIDDEN),
}

# path → (form data, expected status for (admin, officer, reviewer)). Roles with the right get past the
# check to the handler's own answer (400 for an incomplete form, 302 after a change); the others a 403
# before anything is read. Run in this order, so the deletions and the logout come last.
POST_ROUTES: Dict[str, Tuple[dict, Tuple[int, int, int]]] = {
    "/login": ({}, (UNAUTHORIZED, UNAUTHORIZED, UNAUTHORIZED)),
    "/account/password": ({"current": "x"}, (BAD, BAD, BAD)),
    "/prices": ({"product": "玉米"}, (BAD, BAD, FORBIDDEN)),
    "/prices/1": ({"product": "玉米"}, (BAD, FORBIDDEN, FORBIDDEN)),
    "/articles": ({"title": "x"}, (BAD, BAD, FORBIDDEN)),
    "/articles/1": ({"title": "x"}, (BAD, FORBIDDEN, FORBIDDEN)),
    "/imports/preview": ({"kind": "prices"}, (BAD, BAD, FORBIDDEN)),
    "/imports/confirm": ({"token": "x"}, (FOUND, FOUND, FORBIDDEN)),
    "/imports/cancel": ({}, (FOUND, FOUND, FORBIDDEN)),
    "/accounts": ({"username": "x"}, (BAD, FORBIDDEN, FORBIDDEN)),
    "/accounts/2/unlock": ({}, (FOUND, FORBIDDEN, FORBIDDEN)),
    "/accounts/2/telegram": ({}, (OK, FORBIDDEN, FORBIDDEN)),
    "/account/telegram": ({}, (OK, OK, FORBIDDEN)),
    "/conversations/tg-1001/review": ({"reviewed": "1"}, (FOUND, FORBIDDEN, FOUND)),
    "/conversations/tg-1001/messages/4": ({"intent": "ask_price", "annotated": "[玉米](product)多少钱一斤"},
                                          (FOUND, FORBIDDEN, FOUND)),
    "/handoff/1/answer": ({"answer": "好"}, (FOUND, FOUND, FORBIDDEN)),
    "/handoff/2/answer": ({"answer": "好"}, (FOUND, FORBIDDEN, FORBIDDEN)),
    "/privacy/forget/preview": ({"who": "x"}, (BAD, FORBIDDEN, FORBIDDEN)),
    "/privacy/forget/confirm": ({}, (BAD, FORBIDDEN, FORBIDDEN)),
    "/feeds": ({"name": "x"}, (BAD, FORBIDDEN, FORBIDDEN)),
    "/feeds/999": ({"name": "x"}, (NOT_FOUND, FORBIDDEN, FORBIDDEN)),
    "/feeds/999/run": ({}, (NOT_FOUND, FORBIDDEN, FORBIDDEN)),
    "/imports/batches/999/undo": ({}, (NOT_FOUND, NOT_FOUND, FORBIDDEN)),
    "/prices/1/delete": ({}, (FOUND, FORBIDDEN, FORBIDDEN)),
    "/articles/1/delete": ({}, (FOUND, FORBIDDEN, FORBIDDEN)),
    "/accounts/2/active": ({}, (FOUND, FORBIDDEN, FORBIDDEN)),  # deactivates the officer: after the officer's run
    "/logout": ({}, (FOUND, FOUND, FOUND)),
}
PUBLIC_POSTS = ("/login", "/logout")


async def uncovered_routes(app: web.Application, tested: Iterable[Tuple[str, str]]) -> List[str]:
    """The app's routes (HEAD aside) that none of the tested (method, path) pairs reaches."""
    reached: Set[AbstractRoute] = set()
    for method, path in tested:
        match = await app.router.resolve(make_mocked_request(method, path, app=app))
        assert not isinstance(match, MatchInfoError), f"{method} {path} matches no route of the console"
        reached.add(match.route)
    return sorted(f"{route.method} {route.resource.canonical}" for route in app.router.routes()
                  if route.method != "HEAD" and route not in reached)


def audit_entries(knowledge) -> int:
    """How many changes the audit log holds: a refused request must not add one."""
    with knowledge() as session:
        return session.scalar(select(func.count(AuditLog.id)))


TESTED = [("GET", path) for path in (*PUBLIC_GET_ROUTES, *GET_ROUTES)] + [("POST", path) for path in POST_ROUTES]


async def test_every_route_of_the_app_is_in_the_role_tables(console_settings) -> None:
    missing = await uncovered_routes(create_app(console_settings), TESTED)
    assert missing == [], f"routes without a role test: add them to the tables of {__name__}"


async def test_a_route_added_without_a_role_test_is_caught(console_settings) -> None:
    app = create_app(console_settings)

    async def report(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/reports/{report_id:\\d+}", report, name="report")
    assert await uncovered_routes(app, TESTED) == ["GET /reports/{report_id}"]


@pytest.mark.parametrize("path", sorted(GET_ROUTES))
async def test_signed_out_visitors_are_sent_to_the_login(client, path) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == FOUND
    assert response.headers["Location"].startswith("/login")


async def test_public_pages_for_everyone(client) -> None:
    for path, (signed_out, _by_role) in PUBLIC_GET_ROUTES.items():
        assert (await client.get(path, allow_redirects=False)).status == signed_out, path
    for role in ROLES:
        await sign_in(client, USER_OF_ROLE[role])
        for path, (_signed_out, by_role) in PUBLIC_GET_ROUTES.items():
            response = await client.get(path, allow_redirects=False)
            assert response.status == by_role[ROLES.index(role)], f"{role} GET {path}: {response.status}"
        client.session.cookie_jar.clear()


async def test_signed_out_forms_are_sent_to_the_login_and_change_nothing(client, knowledge) -> None:
    audited = audit_entries(knowledge)
    token = csrf_of(await (await client.get("/login")).text())  # a real token: only the sign-in is missing
    for path, (data, _expected) in POST_ROUTES.items():
        if path in PUBLIC_POSTS:
            continue
        response = await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)
        assert response.status == FOUND and response.headers["Location"] == "/login", f"POST {path}"
    assert audit_entries(knowledge) == audited
    with knowledge() as session:
        assert session.get(PriceRecord, 1) is not None


@pytest.mark.parametrize("role", ROLES)
async def test_every_page_for_every_role(client, role) -> None:
    await sign_in(client, USER_OF_ROLE[role])
    for path, expected in GET_ROUTES.items():
        response = await client.get(path, allow_redirects=False)
        want = expected[ROLES.index(role)]
        assert response.status == want, f"{role} GET {path}: {response.status}, wanted {want}"
        if want == FORBIDDEN:
            page = await response.text()
            assert "<h1>没有权限</h1>" in page, path


@pytest.mark.parametrize("role", ROLES)
async def test_every_form_for_every_role(client, knowledge, role) -> None:
    token = await sign_in(client, USER_OF_ROLE[role])
    for path, (data, expected) in POST_ROUTES.items():
        want = expected[ROLES.index(role)]
        audited = audit_entries(knowledge)
        response = await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)
        assert response.status == want, f"{role} POST {path}: {response.status}, wanted {want}"
        if want == FORBIDDEN:
            assert "<h1>没有权限</h1>" in await response.text(), path
            assert audit_entries(knowledge) == audited, f"{role} POST {path} changed something"


@pytest.mark.parametrize("with_token", ["none", "wrong"])
async def test_every_form_is_refused_without_a_valid_csrf_token(client, knowledge, with_token) -> None:
    await sign_in(client, "admin")
    audited = audit_entries(knowledge)
    extra = {"csrf_token": "forged-token"} if with_token == "wrong" else {}
    for path, (data, _expected) in POST_ROUTES.items():
        response = await client.post(path, data={**data, **extra}, allow_redirects=False)
        assert response.status == FORBIDDEN, f"POST {path} without a valid token: {response.status}"
        assert "表单已过期" in await response.text()
    assert audit_entries(knowledge) == audited
    # Still signed in: the refused logout did nothing.
    assert (await client.get("/accounts", allow_redirects=False)).status == OK


async def test_every_account_in_the_fixture_can_sign_in(client) -> None:
    for username in ACCOUNTS:
        await sign_in(client, username)
        client.session.cookie_jar.clear()


async def test_unknown_pages_get_a_chinese_404(client) -> None:
    await sign_in(client, "reviewer")
    for path in ("/no-such-page", "/articles/99999", "/conversations/tg-nobody"):
        response = await client.get(path)
        assert response.status == NOT_FOUND, path
        assert "<h1>找不到</h1>" in await response.text()
