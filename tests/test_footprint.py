"""The daemon's process keeps requests' charset guesser unloaded, and still reads
answers without a declared charset."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from types import ModuleType

import pytest

from ivs_accessory.footprint import CHARSET_GUESSERS, skip_charset_guessing
from tests.fresh import fresh_json

BODY = "Raum 3 — belegt".encode()


class _NoCharset(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()  # no Content-Type: requests must guess, or not
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NoCharset)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_requests_then_loads_no_guesser_warns_nothing_and_reads_utf8(url: str) -> None:
    seen = fresh_json(f"""
import json, sys, warnings
warnings.simplefilter("error")  # first: the function's own filter goes before it
from ivs_accessory.footprint import skip_charset_guessing
kept_out = skip_charset_guessing()
import requests
answer = requests.get({url!r}, timeout=10)
print(json.dumps({{
    "kept_out": kept_out,
    "loaded": [n for n in {list(CHARSET_GUESSERS)!r} if sys.modules.get(n)],
    "text": answer.text,
}}))
""")
    assert seen == {"kept_out": True, "loaded": [], "text": BODY.decode()}


def test_the_installed_requests_version_is_read_without_importing_it() -> None:
    seen = fresh_json("""
import json, sys
from ivs_accessory.footprint import requests_version
found = requests_version()
loaded = "requests" in sys.modules
import requests
print(json.dumps({"found": found, "loaded": loaded, "real": requests.__version__}))
""")
    assert seen["loaded"] is False
    assert seen["found"] == [int(part) for part in seen["real"].split(".")[:2]]


def test_a_requests_that_needs_a_guesser_keeps_it() -> None:
    # Debian 12's requests 2.28 raises at import when neither guesser is there.
    modules: dict[str, ModuleType | None] = {}
    assert skip_charset_guessing(modules, version=(2, 28)) is False
    assert modules == {}
    assert skip_charset_guessing(modules, version=(2, 32)) is True
    assert modules == dict.fromkeys(CHARSET_GUESSERS)


def test_too_late_once_requests_is_loaded_and_nothing_changes() -> None:
    modules: dict[str, ModuleType | None] = {"requests": ModuleType("requests")}
    assert skip_charset_guessing(modules) is False
    assert set(modules) == {"requests"}


def test_a_guesser_already_loaded_is_left_alone() -> None:
    loaded = ModuleType("charset_normalizer")
    modules: dict[str, ModuleType | None] = {"charset_normalizer": loaded}
    assert skip_charset_guessing(modules) is False
    assert modules == {"charset_normalizer": loaded}


def test_run_keeps_them_out_before_the_daemon_imports_requests() -> None:
    # A stand-in daemon module records what its own `import requests` brought.
    seen = fresh_json("""
import json, sys, types
daemon = types.ModuleType("ivs_accessory.daemon")
found = {}
def run(config, verbosity=0):
    import requests
    found["loaded"] = [n for n in ("chardet", "charset_normalizer")
                       if sys.modules.get(n)]
    return 0
daemon.run = run
sys.modules["ivs_accessory.daemon"] = daemon
from ivs_accessory.cli import main
code = main(["run", "--config", "/nonexistent/accessory.conf"])
print(json.dumps({"code": code, **found}))
""")
    assert seen == {"code": 0, "loaded": []}


def test_the_command_line_loads_the_root_helper_only_for_its_operations() -> None:
    seen = fresh_json("""
import contextlib, io, json, sys
from ivs_accessory.cli import build_parser
parser = build_parser()
built = "ivs_accessory.system.helper" in sys.modules
errors = io.StringIO()
with contextlib.redirect_stderr(errors), contextlib.suppress(SystemExit):
    parser.parse_args(["system", "bogus"])
print(json.dumps({"built": built, "error": errors.getvalue().splitlines()[-1],
                  "op": parser.parse_args(["system", "reboot"]).operation}))
""")
    assert seen["built"] is False
    assert (
        "invalid choice: 'bogus'" in seen["error"]
        and "'update-recover'" in seen["error"]
    )
    assert seen["op"] == "reboot"
