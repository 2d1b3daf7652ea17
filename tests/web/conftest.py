"""Page test fixtures: a running daemon on a simulator and an in-process browser."""

from __future__ import annotations

import pytest
from conftest import FakeClock

from ivs_accessory.web import create_app

from .helpers import ADMIN_PASSWORD, Box, set_admin_password, start_box
from .wsgi import WsgiClient


@pytest.fixture
def box(tmp_path, make_sim) -> Box:
    """A started daemon on a 6.6 simulator; stopped at the end."""
    started = start_box(tmp_path, make_sim(version="6.6.0"))
    try:
        yield started
    finally:
        started.service.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(box, clock):
    application = create_app(box.service, clock=clock, devices=lambda: [])
    try:
        yield application
    finally:
        application.close()


@pytest.fixture
def browser(app) -> WsgiClient:
    """A client that is not logged in."""
    return WsgiClient(app)


@pytest.fixture
def admin(box, app) -> WsgiClient:
    """A client logged in as admin, the first-login password change already done."""
    set_admin_password(box.folder)
    client = WsgiClient(app)
    answer = client.login(ADMIN_PASSWORD)
    assert answer.status == 303 and answer.location == "/", answer.text
    return client


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """(ca_file, cert_file, key_file) for 127.0.0.1 from a throwaway CA."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("tls")
    files = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca.cert_pem.write_to_path(str(files[0]))
    cert.private_key_pem.write_to_path(str(files[2]))
    cert.cert_chain_pems[0].write_to_path(str(files[1]))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(files[1]), append=True)
    return tuple(str(f) for f in files)
