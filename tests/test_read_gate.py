"""EXPORTCAST_READ_REQUIRES_TOKEN gates every read, and the dashboard signs in with a form
and a session cookie; plus the readiness, store-call and redaction defects of issue 20."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from contextlib import contextmanager

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from exportcast.service.api.auth import (
    SESSION_COOKIE,
    check_session,
    new_session,
    safe_next,
)
from exportcast.service.main import create_app
from exportcast.service.serving.polled import authorised
from exportcast.service.store.connect import open_store, redacted
from exportcast.service.store.sqlite import SQLiteStore
from tests.postgres_server import require_psycopg
from tests.service_helpers import AUTH, TOKEN, settings_for

HTML = {"Accept": "text/html,application/xhtml+xml"}
OPEN = {"/healthz", "/readyz", "/login", "/static/plotly/plotly.min.js"}
PARAMS = {"series_id": "kr-exports", "version": "1", "job_id": "1"}


@pytest.fixture
def gated(data_dir):
    settings = settings_for(data_dir, read_requires_token=True)
    with TestClient(create_app(settings, run_jobs=False), follow_redirects=False) as client:
        yield client


def get_paths(routes) -> list[str]:
    """Every GET path among `routes`, into included routers (FastAPI nests them)."""
    paths = []
    for route in routes:
        if getattr(route, "original_router", None) is not None:
            paths += get_paths(route.original_router.routes)
        elif isinstance(route, Route | APIRoute) and "GET" in (route.methods or ()):
            paths.append(route.path)
    return paths


def reads(app) -> list[str]:
    """Every GET the app routes but the open ones, its path parameters filled in."""
    fill = lambda m: PARAMS.get(m[1], "x")  # noqa: E731
    return [re.sub(r"{(\w+)}", fill, p) for p in get_paths(app.routes) if p not in OPEN]


def sign_in(client: TestClient, next_path: str = "/") -> str:
    r = client.post("/login", data={"token": TOKEN, "next": next_path})
    assert r.status_code == 303, r.text
    return r.cookies[SESSION_COOKIE]


def test_every_read_is_refused_without_the_token_and_served_with_it(gated):
    paths = reads(gated.app)
    assert {"/", "/dashboard/kr-exports", "/docs", "/openapi.json", "/metrics"} <= set(paths)
    for path in paths:
        r = gated.get(path)
        assert r.status_code == 401, path
        assert r.json()["detail"].startswith("missing bearer token"), path
    for path in paths:
        assert gated.get(path, headers=AUTH).status_code not in (401, 403), path
    gated.cookies.set(SESSION_COOKIE, sign_in(gated))
    for path in paths:
        assert gated.get(path).status_code not in (401, 403), path


def test_static_assets_stay_open(gated):
    assert gated.get("/static/dashboard/dashboard.js").status_code == 200
    assert gated.get("/static/plotly/plotly.min.js").status_code == 200
    assert gated.get("/static/docs/swagger-ui.css").status_code == 200


def test_readyz_without_the_token_says_only_up_or_down(gated):
    bare = gated.get("/readyz")
    assert bare.status_code == 200 and bare.json() == {"status": "ready"}
    full = gated.get("/readyz", headers=AUTH).json()
    assert full["series"] == {"kr-exports": 1}
    gated.cookies.set(SESSION_COOKIE, sign_in(gated))
    assert gated.get("/readyz").json()["series"] == {"kr-exports": 1}


def test_a_browser_is_sent_to_sign_in_and_back(gated):
    page = "/dashboard/kr-exports?poll=30"
    r = gated.get(page, headers=HTML)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/dashboard/kr-exports%3Fpoll%3D30"
    form = gated.get(r.headers["location"])
    assert form.status_code == 200 and 'value="/dashboard/kr-exports?poll=30"' in form.text
    assert 'method="post" action="/login"' in form.text

    wrong = gated.post("/login", data={"token": "nope", "next": page})
    assert wrong.status_code == 401 and SESSION_COOKIE not in wrong.cookies
    done = gated.post("/login", data={"token": TOKEN, "next": page})
    assert done.status_code == 303 and done.headers["location"] == page
    cookie = done.headers["set-cookie"]
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/", "Max-Age=43200"):
        assert attribute in cookie
    assert "Secure" not in cookie
    value = done.cookies[SESSION_COOKIE]
    assert TOKEN not in value
    gated.cookies.set(SESSION_COOKIE, value)
    assert gated.get(page, headers=HTML).status_code == 200
    # The page's own polls: same origin, so the browser sends the cookie.
    assert gated.get("/v1/series/kr-exports/forecast").status_code == 200

    out = gated.post("/logout")
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert 'exportcast_session=""' in out.headers["set-cookie"]
    assert "Max-Age=0" in out.headers["set-cookie"]


def test_api_clients_still_get_401_json_for_pages(gated):
    r = gated.get("/dashboard/kr-exports")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert gated.get("/docs", headers=HTML).status_code == 303


def test_an_unauthenticated_sign_in_body_is_held_to_a_form_s_size(gated):
    """/login is the one write that needs no token: its body is capped at the form's size
    before it is read, so unauthenticated uploads still cost no memory."""
    big = b"token=" + b"x" * 2_000_000
    r = gated.post(
        "/login", content=big, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413 and "8192 bytes" in r.json()["detail"]
    assert gated.put("/login", content=b"token=x").status_code == 401  # only POST is open


def test_a_session_cookie_never_authorises_a_write(gated):
    gated.cookies.set(SESSION_COOKIE, sign_in(gated))
    r = gated.post(
        "/v1/series/kr-exports/observations",
        json={"observations": [{"month": "2026-10", "value": 80500}]},
    )
    assert r.status_code == 401
    assert gated.delete("/v1/series/kr-exports").status_code == 401


def test_the_secure_flag_is_a_setting(data_dir):
    settings = settings_for(data_dir, read_requires_token=True, session_cookie_secure=True)
    with TestClient(create_app(settings, run_jobs=False), follow_redirects=False) as client:
        r = client.post("/login", data={"token": TOKEN, "next": "/"})
        assert "Secure" in r.headers["set-cookie"]


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\r\nSet-Cookie: a=b",
        "/login",
        "/logout?x=1",
    ],
)
def test_next_is_a_local_path_only(target):
    assert safe_next(target) == "/"


def test_next_keeps_a_local_path_and_its_query():
    assert safe_next("/dashboard/kr-exports?poll=30") == "/dashboard/kr-exports?poll=30"


def test_sign_in_never_redirects_off_site(gated):
    r = gated.post("/login", data={"token": TOKEN, "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_a_session_ends_with_its_expiry_or_the_token(tmp_path):
    settings = settings_for(tmp_path, session_hours=1)
    now = time.time()
    value = new_session(settings, now)
    assert check_session(settings, value, now + 10)
    assert not check_session(settings, value, now + 3601)
    assert not check_session(settings_for(tmp_path, api_token="another-token"), value, now)
    assert not check_session(settings, value[:-2] + "xx", now)
    assert not check_session(settings, value.replace(".", ".9", 1), now)  # a later expiry
    assert not check_session(settings_for(tmp_path, api_token=None), value, now)
    longer = new_session(settings_for(tmp_path, session_hours=100), now)
    assert not check_session(settings, longer, now)  # session_hours was lowered since


def test_the_polled_fast_path_takes_the_session_cookie(tmp_path):
    settings = settings_for(tmp_path, read_requires_token=True)
    value = new_session(settings)

    def scope(*headers: tuple[bytes, bytes]) -> dict:
        return {"headers": list(headers)}

    assert authorised(scope((b"cookie", f"a=b; {SESSION_COOKIE}={value}".encode())), settings)
    assert not authorised(scope((b"cookie", b"exportcast_session=v1.1.x.y")), settings)
    assert authorised(scope((b"authorization", f"Bearer {TOKEN}".encode())), settings)
    assert not authorised(scope(), settings)


def test_a_question_without_a_token_makes_nothing_at_the_front_door(gated):
    """A refused read is refused before any body is made for it (no work for an anonymous
    client), and the same question with the token is answered."""
    url = "/v1/series/kr-exports/forecast?years=9&levels=41"
    assert gated.get(url).status_code == 401
    assert gated.app.state.answers._bodies == {}
    assert gated.app.state.active._responses == {}
    answered = gated.get(url, headers=AUTH)
    assert answered.status_code == 200 and len(answered.json()["years"]) == 9


# -- smaller defects ----------------------------------------------------------------------


def test_the_forecast_route_reads_the_store_off_the_event_loop(tmp_path):
    """A series without a model yet: the route asks the store whether it exists."""
    on_loop: list[bool] = []
    with TestClient(create_app(settings_for(tmp_path), run_jobs=False)) as client:
        store = client.app.state.store
        real = store.get_series

        def get_series(series_id: str):
            try:
                asyncio.get_running_loop()
                on_loop.append(True)
            except RuntimeError:
                on_loop.append(False)
            return real(series_id)

        store.get_series = get_series
        assert client.get("/v1/series/kr-exports/forecast?years=2").status_code == 409
        assert client.get("/v1/series/kr-exports/forecast/monthly").status_code == 409
    assert on_loop == [False, False]


SECRET_URL = "postgresql://app:s3cret@db.internal/exportcast"


def test_readyz_names_no_database_error_and_logs_it_redacted(tmp_path, caplog):
    with TestClient(create_app(settings_for(tmp_path), run_jobs=False)) as client:
        store = client.app.state.store
        store.check = lambda: f"store unreachable: connection to {SECRET_URL} failed: FATAL"
        with caplog.at_level(logging.WARNING, logger="exportcast"):
            r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["reasons"] == ["store unavailable"]
        assert "app:***@db.internal" in caplog.text and "s3cret" not in caplog.text

        def broken() -> dict:
            raise RuntimeError(f"server closed the connection ({SECRET_URL})")

        store.check = lambda: None
        store.active_versions = broken
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["reasons"] == ["store unavailable"]
        store.check = lambda: "the store file /x/exportcast.db was removed while running"
        assert client.get("/readyz").json()["reasons"] == ["store unavailable (removed)"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://app:s3cret@db:5432/x", "postgresql://app:***@db:5432/x"),
        ("postgres://app:p@ss@db/x", "postgres://app:***@db/x"),
        ("postgresql://db/x?user=app&password=s3cret", "postgresql://db/x?user=app&password=***"),
        ("host=db password='s3 cret' user=app", "host=db password=*** user=app"),
        ('bad URI: "postgresql://app:s3cret@[db/x"', 'bad URI: "postgresql://app:***@[db/x"'),
        ("postgresql://app@db/x", "postgresql://app@db/x"),
        ("sqlite:///data/exportcast.db", "sqlite:///data/exportcast.db"),
    ],
)
def test_passwords_are_redacted(text, shown):
    assert redacted(text) == shown


def test_a_bad_database_url_is_refused_without_its_password():
    with pytest.raises(ValueError) as refused:
        open_store("mysql://app:s3cret@db/x")
    assert "s3cret" not in str(refused.value) and "app:***@db" in str(refused.value)
    require_psycopg()
    with pytest.raises(Exception) as unparsable:  # psycopg quotes the whole URL
        open_store("postgresql://app:s3cret@[db/x")
    assert "s3cret" not in str(unparsable.value)
    assert unparsable.value.__cause__ is None and unparsable.value.__suppress_context__


def test_a_lost_postgresql_connection_is_reported_without_the_password():
    psycopg = require_psycopg()
    from exportcast.service.store.postgres import PostgresStore

    store = PostgresStore.__new__(PostgresStore)  # no server: only the message is tested
    store._local = threading.local()
    lost = psycopg.OperationalError(f'connection to "{SECRET_URL}" failed: timeout')
    message = str(store._unavailable(lost))
    assert "s3cret" not in message and "app:***@db.internal" in message


def test_concurrent_readiness_checks_run_one_quick_check(tmp_path, monkeypatch):
    store = SQLiteStore(tmp_path / "exportcast.db")
    try:
        runs = 0
        real_read = store._read

        @contextmanager
        def slow_read():
            nonlocal runs
            with real_read() as cur:
                runs += 1
                time.sleep(0.3)
                yield cur

        monkeypatch.setattr(store, "_read", slow_read)
        start = threading.Barrier(8)
        results: list[str | None] = []

        def probe() -> None:
            start.wait()
            results.append(store._deep_check())

        threads = [threading.Thread(target=probe) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert runs == 1 and results == [None] * 8
        assert store._deep_check() is None and runs == 1  # the result is kept 30 s
    finally:
        store.close()
