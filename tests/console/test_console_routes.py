"""Every route for every role: who gets the page, who gets a 403 page in Chinese, who is sent to log in;
and every form refused without its CSRF token."""
from __future__ import annotations

import pytest

from tests.console.conftest import ACCOUNTS, sign_in

ROLES = ("admin", "officer", "reviewer")
USER_OF_ROLE = {"admin": "admin", "officer": "gaocheng", "reviewer": "reviewer"}
OK, FORBIDDEN = 200, 403

# path → expected status for (admin, officer, reviewer). Ticket 1 and the farmers tg-1001 and web-5f3a
# are in 藁城区 (the officer's region); ticket 2 and tg-2002 are in 丰台区.
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
}

# path → form data; for each, the roles that must be refused with a 403 (before anything is changed).
POST_ROUTES = {
    "/prices": ({"product": "玉米"}, ("reviewer",)),
    "/prices/1": ({"product": "玉米"}, ("officer", "reviewer")),
    "/prices/1/delete": ({}, ("officer", "reviewer")),
    "/articles": ({"title": "x"}, ("reviewer",)),
    "/articles/1": ({"title": "x"}, ("officer", "reviewer")),
    "/articles/1/delete": ({}, ("officer", "reviewer")),
    "/imports/preview": ({"kind": "prices"}, ("reviewer",)),
    "/imports/confirm": ({"token": "x"}, ("reviewer",)),
    "/imports/cancel": ({}, ("reviewer",)),
    "/accounts": ({"username": "x"}, ("officer", "reviewer")),
    "/accounts/2/active": ({}, ("officer", "reviewer")),
    "/accounts/2/unlock": ({}, ("officer", "reviewer")),
    "/accounts/2/telegram": ({}, ("officer", "reviewer")),
    "/account/telegram": ({}, ("reviewer",)),
    "/account/password": ({"current": "x"}, ()),
    "/conversations/tg-1001/review": ({"reviewed": "1"}, ("officer",)),
    "/conversations/tg-1001/messages/1": ({"intent": "ask_price"}, ("officer",)),
    "/handoff/1/answer": ({"answer": "好"}, ("reviewer",)),
    "/handoff/2/answer": ({"answer": "好"}, ("officer", "reviewer")),
}


@pytest.mark.parametrize("path", sorted(GET_ROUTES))
async def test_signed_out_visitors_are_sent_to_the_login(client, path) -> None:
    response = await client.get(path, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
async def test_every_page_for_every_role(client, role) -> None:
    await sign_in(client, USER_OF_ROLE[role])
    for path, expected in GET_ROUTES.items():
        response = await client.get(path, allow_redirects=False)
        want = expected[ROLES.index(role)]
        assert response.status == want, f"{role} GET {path}: {response.status}, wanted {want}"
        if want == FORBIDDEN:
            page = await response.text()
            assert "没有权限" in page and "<h1>没有权限</h1>" in page, path


@pytest.mark.parametrize("role", ROLES)
async def test_forms_refuse_roles_without_the_right(client, role) -> None:
    token = await sign_in(client, USER_OF_ROLE[role])
    for path, (data, refused) in POST_ROUTES.items():
        if role not in refused:
            continue
        response = await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)
        assert response.status == FORBIDDEN, f"{role} POST {path}: {response.status}"
        assert "没有权限" in await response.text()


@pytest.mark.parametrize("with_token", ["none", "wrong"])
async def test_every_form_is_refused_without_a_valid_csrf_token(client, with_token) -> None:
    await sign_in(client, "admin")
    extra = {"csrf_token": "forged-token"} if with_token == "wrong" else {}
    for path, (data, _refused) in {**POST_ROUTES, "/logout": ({}, ()), "/login": ({}, ())}.items():
        response = await client.post(path, data={**data, **extra}, allow_redirects=False)
        assert response.status == FORBIDDEN, f"POST {path} without a valid token: {response.status}"
        assert "表单已过期" in await response.text()
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
        assert response.status == 404, path
        assert "<h1>找不到</h1>" in await response.text()
