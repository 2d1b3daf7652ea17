"""Every route, GET and POST, logged in, with bad and garbage input: never a 500."""

from __future__ import annotations

import re

import pytest

from ivs_accessory.web.app import ROUTES

# Every field name a form of the page has (the row fields for rows 0 and 1).
FIELDS = [
    "server", "username", "password", "clear_password", "timeout_s", "verify_tls",
    "ca_file", "room", "recording_name", "marker_name", "marker_colour",
    "mode", "pin_length", "entry_timeout_ms", "repeat_window_ms", "hold_ms",
    "busy_action", "match_reading", "max_failures", "base_s", "max_s",
    "timezone", "ntp_servers", "address", "gateway", "dns",
    "current", "new", "confirm", "words", "next", "username",
    *(f"{f}_{row}" for row in (0, 1) for f in (
        "sname", "skind", "sdevice", "sport", "sbaud", "sframing", "sgrab", "sleds",
        "sremove", "bkey", "bgesture", "baction",
    )),
]  # fmt: skip
GARBAGE = [
    "",
    " ",
    "x" * 100_000,  # huge
    "-1",
    "1e309",
    "nan",
    "[1, 2]",  # another type
    "\ud800\udfff",  # goes out as bytes that are not UTF-8
    "\x00\n[web]\nport = 1",
    "<script>alert(1)</script>",
]
MULTIPART = b"--x\r\nContent-Disposition: form-data; name=room\r\n\r\n9\r\n--x--"
RAW_BODIES = [
    (b"\xff\xfe\x80=\xc3&a=%ff%fe%80", "application/x-www-form-urlencoded"),
    (b'{"server": [1]}', "application/json"),
    (MULTIPART, "multipart/form-data; boundary=x"),
    (b"\x00" * 1000, "text/plain"),
]
QUERIES = ["", "?after=x&next=%ff%fe", "?after=" + "9" * 400, "?next=//evil&x=\x00"]


def routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route, with a sample value for path parameters."""
    found = []
    for route in app.routes:
        path = re.sub(r"<name:[^>]+>", "style.css", route.rule)
        found.append((route.method, path))
    return sorted(set(found))


def check(answer, what: str) -> None:
    assert answer.status < 500, f"{what}: {answer.status}\n{answer.text[:1500]}"
    assert "Traceback" not in answer.text, what
    if answer.body and "html" in (answer.header("Content-Type") or ""):
        assert answer.text.startswith("<!doctype html>"), what


def test_the_walk_covers_every_route(app):
    paths = {path for _, path in routes(app)}
    assert {"/", "/valt", "/valt/test", "/inputs", "/safe-mode/restore"} <= paths
    assert len(paths) >= 20


def test_the_app_serves_its_route_table_and_nothing_else(app):
    table = [(route.method, route.path) for route in ROUTES]
    # bottle lets a repeated row replace the first one, with only a warning.
    assert len(set(table)) == len(table), sorted(table)
    assert sorted(table) == sorted((route.method, route.rule) for route in app.routes)
    named = {route.handler.__name__ for route in ROUTES}
    assert named == {route.get_undecorated_callback().__name__ for route in app.routes}


def test_every_get_with_garbage_queries(admin, app):
    # The door page's event stream only ends when told: closed, it answers once
    # (what a screen over the limit gets), so the in-process walk can read it.
    app.config["ivs.page"].door_streams.close()
    for method, path in routes(app):
        if method == "GET":
            for query in QUERIES:
                check(admin.get(path + query), f"GET {path}{query}")


@pytest.mark.parametrize("value", GARBAGE, ids=range(len(GARBAGE)))
def test_every_post_with_garbage_fields(admin, app, box, value):
    for method, path in routes(app):
        if method != "POST" or path == "/logout":
            continue
        form = {name: value for name in FIELDS}
        # A fuzzed host name would be looked up in DNS; the server stays the sim's.
        form["server"] = box.sim.url
        check(admin.post(path, form), f"POST {path} = {value[:20]!r}")


def test_every_post_with_missing_fields_and_raw_bodies(admin, app, box):
    for method, path in routes(app):
        if method != "POST" or path == "/logout":
            continue
        check(admin.post(path, {}), f"POST {path} empty")
        # Valid to the schema, unusable to the VALT client (was a 500 after saving).
        check(admin.post(path, {"server": "ftp://valt.example"}), f"POST {path} ftp")
        for body, kind in RAW_BODIES:
            answer = admin.request(
                "POST",
                path,
                body=body,
                content_type=kind,
                headers={"X-CSRF-Token": admin.csrf()},
            )
            check(answer, f"POST {path} {kind}")
    assert "reboot" not in box.trace and "factory_default" not in box.trace
    assert admin.get("/").status == 200  # and the session still works


def test_unknown_pages_get_the_layout_too(admin, browser):
    for client, path in ((admin, "/no/such/page"), (browser, "/static/nope.css")):
        answer = client.get(path)
        assert answer.status == 404 and answer.text.startswith("<!doctype html>")
        assert "There is no such page on this box." in answer.text
