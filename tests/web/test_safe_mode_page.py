"""The page in safe mode: it comes up, /healthz says why, and a fixed form ends it."""

from __future__ import annotations

import queue

import pytest

from ivs_accessory.config import check_file
from ivs_accessory.safe_mode import start_config
from ivs_accessory.service import Service
from ivs_accessory.web import create_app

from .helpers import ADMIN_PASSWORD, PipeConsoles, set_admin_password, write_box_config
from .test_settings import VALT_FORM
from .wsgi import WsgiClient, field_error


@pytest.fixture
def safe_box(tmp_path, make_sim):
    """A daemon in safe mode (its server has a typo) and a logged-in admin:
    (sim, service, consoles, outcomes, admin, path)."""
    sim = make_sim(version="6.6.0")
    path = write_box_config(tmp_path, sim.url.replace("http://", "htps://"))
    config, safe_mode = start_config(str(path))
    assert safe_mode is not None
    consoles, outcomes = PipeConsoles(), queue.Queue()
    service = Service(
        config, safe_mode=safe_mode, source_factory=consoles, on_outcome=outcomes.put
    )
    service.start()
    app = create_app(service, devices=lambda: [])
    try:
        set_admin_password(tmp_path)
        admin = WsgiClient(app)
        assert admin.login(ADMIN_PASSWORD).status == 303
        yield sim, service, consoles, outcomes, admin, path
    finally:
        app.close()
        service.stop()


def test_healthz_is_degraded_with_the_first_error(safe_box):
    sim, service, consoles, outcomes, admin, path = safe_box
    [error] = check_file(str(path))
    answer = WsgiClient(admin.app).get("/healthz")  # public, no login needed
    assert answer.status == 200
    assert answer.json()["status"] == "degraded"
    assert answer.json()["reasons"] == [f"safe mode: {error}"]


@pytest.mark.parametrize("page", ["/", "/status.json", "/valt", "/inputs", "/system"])
def test_every_page_comes_up_in_safe_mode(safe_box, page):
    answer = safe_box[4].get(page)
    assert answer.status == 200, answer.text[:2000]


def test_a_bad_server_on_the_form_is_refused_and_saves_nothing(safe_box):
    sim, service, consoles, outcomes, admin, path = safe_box
    before = path.read_bytes()
    answer = admin.post("/valt", VALT_FORM | {"server": "https://:443"})
    assert answer.status == 400
    assert field_error(answer, "server") == (
        "has no host name, e.g. https://valt.example.org"
    )
    assert path.read_bytes() == before and service.safe_mode is not None


def test_fixing_the_server_on_the_page_ends_safe_mode(safe_box):
    sim, service, consoles, outcomes, admin, path = safe_box
    consoles.type("door", "123456")
    assert outcomes.get(timeout=10).result == "not_configured"
    assert sim.requests() == []
    answer = admin.post("/valt", VALT_FORM | {"server": sim.url})
    assert answer.status == 303, answer.text[:2000]
    assert service.safe_mode is None and check_file(str(path)) == []
    consoles.type("door", "123456")
    assert outcomes.get(timeout=10).result == "started"
    assert sim.state.room_info(2)["status"] == "recording"


def test_a_server_without_scheme_is_saved_as_https(safe_box):
    sim, service, consoles, outcomes, admin, path = safe_box
    host = sim.url.removeprefix("http://")
    answer = admin.post("/valt", VALT_FORM | {"server": host})
    assert answer.status == 303
    assert f"server = https://{host}\n" in path.read_text()
    assert service.config["valt"]["server"] == f"https://{host}"
