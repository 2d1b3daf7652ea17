"""Form fuzzing: whatever is posted, never a 5xx; a refused form saves nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import ADMIN_PASSWORD
from .test_settings import VALT_FORM, inputs_form

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text a person, a broken browser or an attacker might send: any code point, plus
# the ones that matter to INI files, HTML and numbers.
nasty = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1e309",
            "nan",
            "\n[web]\nport = 1",
            "\x00",
            "\u2028",
            "\ud800",
            "<script>",
            "'\"",
            "%",
            "${x}",
            "é",
            "1" * 300,
            "true",
            "false",
            "KEY_KPPLUS",
            "console",
            "card_serial",
            "/dev/null",
        ]
    ),
)


def check(answer, before: bytes, after: bytes) -> None:
    assert answer.status < 500, answer.text[:2000]
    if answer.status == 400:
        assert after == before


@given(
    fields=st.dictionaries(
        st.sampled_from(
            sorted(set(VALT_FORM) - {"server"})
            + ["password", "clear_password", "extra"]
        ),
        nasty,
        max_size=6,
    )
)
@FUZZ
def test_fuzz_valt_form(admin, box, fields):
    before = box.config_bytes()
    # The server stays the simulator's: a fuzzed host name would be looked up in DNS.
    answer = admin.post("/valt", VALT_FORM | {"server": box.sim.url} | fields)
    check(answer, before, box.config_bytes())


@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "mode",
                "pin_length",
                "entry_timeout_ms",
                "repeat_window_ms",
                "hold_ms",
                "busy_action",
                "match_reading",
                "max_failures",
                "base_s",
                "max_s",
                "sname_0",
                "skind_0",
                "sname_1",
                "skind_1",
                "sdevice_1",
                "sport_1",
                "sbaud_1",
                "sframing_1",
                "sremove_1",
                "bkey_0",
                "bgesture_0",
                "baction_0",
                "bkey_99",
                "baction_99",
                "bkey_x",
                "sname_",
            ]
        ),
        nasty,
        max_size=6,
    )
)
@FUZZ
def test_fuzz_inputs_form(admin, box, fields):
    before = box.config_bytes()
    answer = admin.post("/inputs", inputs_form() | fields)
    check(answer, before, box.config_bytes())


@given(fields=st.dictionaries(st.sampled_from(["timezone", "ntp_servers"]), nasty))
@FUZZ
def test_fuzz_time_form(admin, box, fields):
    form = {"timezone": "Etc/UTC", "ntp_servers": "", "password": ADMIN_PASSWORD}
    answer = admin.post("/time", form | fields)
    assert answer.status < 500
    if answer.status == 400:
        assert not (box.folder / "time.conf").exists() or "apply_time" in box.trace


@given(
    fields=st.dictionaries(
        st.sampled_from(["mode", "address", "gateway", "dns"]), nasty
    )
)
@FUZZ
def test_fuzz_network_form(admin, box, fields):
    form = {"mode": "static", "address": "192.0.2.10/24", "password": ADMIN_PASSWORD}
    answer = admin.post("/network", form | fields)
    assert answer.status < 500
    if answer.status == 400 and "apply_network" not in box.trace:
        assert not (box.folder / "network.yaml").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/system/password",
        "/system/reboot",
        "/system/factory-default",
        "/valt/test",
        "/network/confirm",
        "/password",
        "/logout",
    ],
)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "username",
                "password",
                "current",
                "new",
                "confirm",
                "words",
                "next",
                "timeout_s",
                "room",
                "ca_file",
            ]
        ),
        nasty,
        max_size=5,
    )
)
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzz_other_forms(admin, box, path, fields):
    if path == "/valt/test":
        fields = VALT_FORM | {"server": box.sim.url} | fields
    answer = admin.post(path, fields)
    assert answer.status < 500
    assert "reboot" not in box.trace and "factory_default" not in box.trace


@pytest.mark.parametrize("path", ["/valt", "/inputs", "/time", "/network", "/login"])
@given(
    body=st.binary(max_size=300),
    kind=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
            "application/json",
            "text/plain; charset=utf-16",
            "",
        ]
    ),
)
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzz_raw_bodies(admin, box, path, body, kind):
    before = box.config_bytes()
    answer = admin.request(
        "POST",
        path,
        body=body,
        content_type=kind,
        headers={"X-CSRF-Token": admin.csrf()},
    )
    assert answer.status < 500, answer.text[:2000]
    if answer.status >= 400:
        assert box.config_bytes() == before


@given(query=st.text(max_size=60), cookie=st.text(max_size=60))
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_fuzz_queries_and_cookies(browser, query, cookie):
    from urllib.parse import quote

    browser.cookies = {"ivs_session": quote(cookie), "ivs_login": quote(cookie)}
    for path in ("/login?next=", "/inputs/events.json?after=", "/?x="):
        assert browser.get(path + quote(query)).status < 500
