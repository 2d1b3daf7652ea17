"""Shared fixtures: a VALT simulator on loopback, clients of it, a hand-moved clock, and
systemd's notify socket."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from public_install import (
    copy_package,
    copy_requirements,
    make_venv,
    open_to_all,
    public_folder,
    shared_python,
)

from ivs_accessory.axissim import AxisSimulator
from ivs_accessory.sources.console import ConsoleSource
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valtsim import ValtSimulator, default_data

REPO = Path(__file__).resolve().parents[1]

VERSIONS = ["5.2.0", "6.4.0", "6.5.0", "6.6.0"]

_PCSC_DIR = tempfile.mkdtemp(prefix="ivs-pcsc-")


def pytest_configure(config: pytest.Config) -> None:
    # PC/SC clients find pcscd through this variable, which libpcsclite reads once per
    # process: every test (a card_pcsc source a service test starts, too) talks to the
    # private pcscd of tests/sources/pcsc_rig.py or to none, never to the machine's.
    os.environ["PCSCLITE_CSOCK_NAME"] = os.path.join(_PCSC_DIR, "pcscd.comm")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_PCSC_DIR, ignore_errors=True)


# An admin account whose password appears nowhere else, so log checks can find it.
SECRET_USER = "keypad"
SECRET_PASSWORD = "Zq7-unique-Pw!42"


def data_with_secret_user() -> dict:
    """Default simulator data plus the ``keypad`` admin with a distinctive password."""
    data = default_data()
    data["users"].append(
        {
            "id": 90,
            "name": SECRET_USER,
            "password": SECRET_PASSWORD,
            "displayName": "Door keypad",
            "admin": True,
            "card_number": "",
        }
    )
    return data


# The Axis simulators' password in tests; distinctive, so log checks can find it.
CAMERA_PASSWORD = "Cam-Secret-4417"


def valt_data_with_cameras(
    cameras: list[tuple[str, AxisSimulator, str]], room: int = 1
) -> dict:
    """``data_with_secret_user()`` whose VALT lists the Axis simulators, given as
    (name, simulator, password), in ``room`` (ids 100, 101, ...)."""
    data = data_with_secret_user()
    data["cameras"] = [
        {
            "id": 100 + index,
            "name": name,
            "ip": "127.0.0.1",
            "http_port": sim.port,
            "username": "root",
            "password": password,
            "rooms": [room],
        }
        for index, (name, sim, password) in enumerate(cameras)
    ]
    return data


@pytest.fixture
def make_camera() -> Iterator[Callable[..., AxisSimulator]]:
    """Factory for started Axis simulators (password CAMERA_PASSWORD unless given),
    all stopped after the test."""
    made: list[AxisSimulator] = []

    def make(**options: object) -> AxisSimulator:
        options.setdefault("password", CAMERA_PASSWORD)
        camera = AxisSimulator(**options).start()  # type: ignore[arg-type]
        made.append(camera)
        return camera

    try:
        yield make
    finally:
        for camera in made:
            camera.stop()


class PipeConsoles:
    """A source factory giving each console source a real pipe as its stdin."""

    def __init__(self) -> None:
        self.writers: dict[str, int] = {}
        self.made: list[tuple[str, object]] = []

    def __call__(self, name: str, options: object) -> ConsoleSource:
        read, write = os.pipe()
        self.writers[name] = write
        source = ConsoleSource(name, stream=os.fdopen(read, "r"))
        self.made.append((name, source))
        return source

    def type(self, name: str, line: str) -> None:
        """Type ``line`` (and Enter) at console source ``name``."""
        os.write(self.writers[name], (line + "\n").encode())


class FakeClock:
    """Monotonic seconds that move only when a test sets ``now`` or calls ``advance``;
    the one fake clock of the suite."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def notify_socket(tmp_path, monkeypatch) -> Iterator[socket.socket]:
    """A datagram socket where systemd's notify socket would be, named by
    NOTIFY_SOCKET; its path is ``getsockname()`` (for a daemon in a subprocess)."""
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    try:
        yield sock
    finally:
        sock.close()


def notified(sock: socket.socket, until: bytes) -> list[bytes]:
    """Notify messages up to and including ``until``; the socket's timeout bounds it."""
    seen = [sock.recv(4096)]
    while seen[-1] != until:
        seen.append(sock.recv(4096))
    return seen


@pytest.fixture
def make_sim() -> Iterator[Callable[..., ValtSimulator]]:
    """Factory for started simulators; every one is stopped at the end of the test."""
    started: list[ValtSimulator] = []

    def make(**options) -> ValtSimulator:
        options.setdefault("data", data_with_secret_user())
        sim = ValtSimulator(**options)
        sim.start()
        started.append(sim)
        return sim

    try:
        yield make
    finally:
        for sim in started:
            sim.stop()


@pytest.fixture(params=VERSIONS)
def version(request) -> str:
    """Each VALT version whose behaviour differs."""
    return request.param


@pytest.fixture
def sim(make_sim, version) -> ValtSimulator:
    """A simulator of the parametrised version."""
    return make_sim(version=version)


@pytest.fixture
def make_client() -> Iterator[Callable[..., ValtClient]]:
    """Factory for ValtClients (no background timers unless asked); all closed at the
    end."""
    clients: list[ValtClient] = []

    def make(sim_or_url, username=SECRET_USER, password=SECRET_PASSWORD, **options):
        url = getattr(sim_or_url, "url", sim_or_url)
        options.setdefault("auto_reauth", False)
        client = ValtClient(url, username, password, **options)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.close()


@pytest.fixture
def client(sim, make_client) -> ValtClient:
    """A logged-in client of the parametrised simulator, with the request log
    cleared."""
    c = make_client(sim)
    c.login()
    sim.clear_requests()
    return c


@pytest.fixture
def no_source_thread_left() -> Iterator[None]:
    """Fail the test if it leaves an input source's reader thread alive."""
    yield
    alive = [t.name for t in threading.enumerate() if t.name.startswith("source-")]
    assert alive == []


@pytest.fixture
def no_thread_leak() -> Iterator[None]:
    """Fail the test if it leaves a VALT re-login timer thread alive."""
    yield
    alive = [
        t.name
        for t in threading.enumerate()
        if t.name == "valt-relogin" and t.is_alive()
    ]
    assert alive == []


@pytest.fixture
def public_tmp_path() -> Iterator[Path]:
    """A new folder that every user can enter, removed after the test.

    For tests that run a command as another user: ``tmp_path`` lies in pytest's
    folder, which is root's alone.
    """
    with public_folder("ivs-test-") as folder:
        yield folder


@pytest.fixture(scope="session")
def nobody_python() -> Iterator[Path]:
    """A Python that the user nobody can run, with ivs_accessory and its
    dependencies: copies in a folder every user can read.

    The checkout and its venv may lie where nobody cannot go (under /root, in a 0700
    folder), so ``sys.executable`` is no use to tests that drop to nobody.
    """
    python = shared_python()
    if python is None:
        pytest.skip("no Python of this version that every user can run")
    with public_folder("ivs-nobody-") as folder:
        site = make_venv(folder / "venv", python)
        copy_package(site, REPO)
        copy_requirements(site)
        open_to_all(folder)
        yield folder / "venv" / "bin" / "python"
