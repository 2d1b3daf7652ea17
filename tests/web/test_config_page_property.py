"""Property: what the page accepts, `config check` accepts and `run` starts with."""

# Forms go through the WSGI app as a browser posts them; a refused form changes
# nothing. IVS_LONG=1 runs ten times the examples.

from __future__ import annotations

import os
import threading

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ivs_accessory import daemon
from ivs_accessory.config import check_file
from ivs_accessory.notify import Notifier
from ivs_accessory.safe_mode import start_config

from .test_settings import VALT_FORM, inputs_form

LONG = os.environ.get("IVS_LONG") == "1"
PROPERTY = settings(
    max_examples=400 if LONG else 40,
    deadline=None,
    derandomize=not LONG,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def joined(schemes, hosts, ports, paths) -> st.SearchStrategy[str]:
    parts = [
        p if isinstance(p, st.SearchStrategy) else st.sampled_from(p)
        for p in (schemes, hosts, ports, paths)
    ]
    return st.builds("".join, st.tuples(*parts))


# Any host name may be valid here: with no room chosen, the daemon sends nothing.
VALID_SERVERS = joined(
    ["", "http://", "https://", "HTTPS://"],
    st.one_of(
        st.sampled_from(["valt.example.org", "10.0.0.5", "[fd00::1]", "VALT"]),
        st.from_regex(r"[A-Za-z0-9_]{1,20}(\.[A-Za-z0-9_]{1,20}){0,3}", fullmatch=True),
    ),
    ["", ":8443", ":1", ":65535"],
    ["", "/", "/valt", "//a//b/", "/%41"],
)
SERVERS = st.one_of(
    VALID_SERVERS,
    VALID_SERVERS,
    joined(
        ["", "http://", "htps://", "ftp://", "http:/"],
        [
            "valt.example.org",
            "[::1",
            "fd00::1",
            "999.1.1.1",
            "user:pw@valt",
            "",
            "a" * 64,
            "x" * 254,
            "-x",
        ],
        ["", ":8443", ":0", ":65536", ":", ":x"],
        ["", "/", "/ x", "/?q", "#f", "/%zz"],
    ),
    st.text(max_size=20),
    st.just("x" * 5000),
)


def mostly(good: list[str]) -> st.SearchStrategy[str]:
    """Usually one of ``good``, else any short text."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.text(max_size=12))


class IdleSource:
    def start(self, emit) -> None:
        pass

    def close(self) -> None:
        pass

    def status(self) -> dict:
        return {"connected": True}


def starts_cleanly(path: str) -> bool:
    """``run`` in-process, stopped once ready: True when it started without safe
    mode and returned 0."""
    notifier = Notifier(send=lambda message: True, environ={"NOTIFY_SOCKET": "x"})
    stop = threading.Event()
    stop.set()
    code = daemon.run(
        path,
        stop=stop,
        drain_s=0,
        service_options={
            "notifier": notifier,
            "source_factory": lambda name, options: IdleSource(),
        },
    )
    safe = [m for m in notifier.sent if m.startswith("STATUS=safe mode")]
    return code == 0 and "READY=1" in notifier.sent and not safe


def check(answer, box, before: bytes) -> None:
    assert answer.status in (303, 400), answer.text[:2000]
    path = str(box.config_path)
    if answer.status == 400:
        assert box.config_bytes() == before
        event("refused")
        return
    event("accepted")
    assert check_file(path) == []
    assert start_config(path)[1] is None
    assert starts_cleanly(path)


VALT_FIELDS = {
    "timeout_s": ["0.5", "60", "2"],
    "verify_tls": ["true", "false"],
    "ca_file": ["", "/etc/ssl/certs/ca-certificates.crt"],
    "marker_colour": ["red", "blue"],
}
INPUT_FIELDS = {
    "mode": ["both", "pin", "card", "keys"],
    "pin_length": ["0", "4", "32"],
    "hold_ms": ["100", "60000"],
    "base_s": ["1", "30"],
    "max_s": ["900", "86400"],
    "skind_0": ["console", "keypad"],
    "sname_1": ["desk", "reader-2"],
    "skind_1": ["keypad", "card_serial", "card_hid", "console"],
    "sdevice_1": ["", "usb:ffff:0035", "/dev/input/event3"],
    "sport_1": ["/dev/ttyUSB1"],
    "sbaud_1": ["9600", "115200"],
    "bkey_2": ["KEY_A", "KEY_KPMINUS"],
    "baction_2": ["lock", "start"],
}


def some_of(fields: dict[str, list[str]]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {}, optional={key: mostly(good) for key, good in fields.items()}
    )


@given(server=SERVERS, fields=some_of(VALT_FIELDS))
@PROPERTY
def test_what_the_valt_form_accepts_runs(admin, box, server, fields):
    before = box.config_bytes()
    form = VALT_FORM | {"room": ""} | fields | {"server": server}
    check(admin.post("/valt", form), box, before)


@given(fields=some_of(INPUT_FIELDS))
@PROPERTY
def test_what_the_inputs_form_accepts_runs(admin, box, fields):
    before = box.config_bytes()
    check(admin.post("/inputs", inputs_form() | fields), box, before)
