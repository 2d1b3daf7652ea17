"""The door panel in the daemon: the status refresh interval each choice gives, the
pad as an input source through reloads and safe mode, and streams ending on stop."""

from __future__ import annotations

import queue

import pytest
from conftest import FakeClock, PipeConsoles
from test_service import write_config

from ivs_accessory.config import Config, load
from ivs_accessory.door.room import RoomState
from ivs_accessory.safe_mode import start_config
from ivs_accessory.service import Service
from ivs_accessory.valt.models import RoomStatus
from ivs_accessory.wiring import shows_room, status_refresh_s


def with_sections(config: Config, **sections: dict) -> Config:
    """``config`` with sections laid over (a ``[lamp]`` this branch has no schema
    for, as another branch's loader would give it)."""
    merged = {name: dict(config[name]) for name in config}
    for name, values in sections.items():
        merged[name] = merged.get(name, {}) | values
    return Config(merged, config.sources, config.bindings, config.path)


@pytest.mark.parametrize(
    ("sections", "watched", "seconds"),
    [
        ({}, False, 60),  # a keypad only: one idle request a minute
        ({}, True, 10),  # a /door page open somewhere
        ({"door": {"screen": True}}, False, 10),
        ({"door": {"keypad": True}}, False, 10),
        ({"lamp": {"enabled": True}}, False, 10),
        ({"lamp": {"enabled": False}}, False, 60),
        ({"mapping": {"status_refresh_s": 30}}, True, 30),  # the integrator's
        ({"mapping": {"status_refresh_s": 60}, "door": {"screen": True}}, False, 60),
        ({"mapping": {"status_refresh_s": 10}}, False, 10),
    ],
)
def test_status_refresh_interval_of_each_choice(sections, watched, seconds):
    config = with_sections(load(None), **sections)
    assert status_refresh_s(config, watched) == seconds


def test_a_configuration_without_lamp_or_door_sections_shows_nothing():
    config = load(None)
    bare = Config(
        {k: config[k] for k in config if k not in ("door", "lamp")},
        {},
        {},
        None,
    )
    assert not shows_room(bare)
    assert status_refresh_s(bare) == 60


def test_room_refresh_follows_an_interval_that_changes():
    clock = FakeClock()
    every = {"s": 60.0}
    room = RoomState(None, 1, 60, clock, interval=lambda: every["s"])  # type: ignore[arg-type]
    room.seen(RoomStatus.AVAILABLE)
    clock.advance(10)
    assert not room.due()
    every["s"] = 10.0  # a door page opened
    assert room.due()


@pytest.fixture
def make_service(tmp_path, make_sim):
    """``make_service(extra="", safe=False) -> (service, outcomes)``; stopped after."""
    made = []

    def make(extra="", clock=None):
        sim = make_sim(version="6.6.0")
        path = write_config(tmp_path / "accessory.conf", server=sim.url, extra=extra)
        config, safe_mode = start_config(path)
        outcomes: queue.Queue = queue.Queue()
        options = {"clock": clock} if clock else {}
        service = Service(
            config,
            source_factory=PipeConsoles(),
            on_outcome=outcomes.put,
            safe_mode=safe_mode,
            **options,
        )
        service.start()
        made.append(service)
        return service, outcomes

    try:
        yield make
    finally:
        for service in made:
            service.stop()


def test_the_pad_is_an_input_source_while_configured(make_service, tmp_path):
    service, outcomes = make_service("[door]\nkeypad = true\n")
    touch = service.panel.touch
    assert touch is not None
    assert service.status()["sources"]["touch"]["connected"] is True
    assert touch.submit("123456")
    outcome = outcomes.get(timeout=10)
    assert (outcome.source, outcome.result) == ("touch", "started")
    path = str(tmp_path / "accessory.conf")
    text = open(path).read().replace("keypad = true", "keypad = false")
    open(path, "w").write(text)
    assert service.reload_file() == []
    assert service.panel.touch is None and "touch" not in service.status()["sources"]
    assert not touch.submit("123456")  # a page that still shows the pad


def test_preset_buttons_alone_open_the_source_without_the_pad(make_service, tmp_path):
    service, _ = make_service("[door]\npresets = Wide Board\n")
    touch = service.panel.touch
    assert touch is not None and not touch.keypad
    assert touch.actions == ("preset:Wide", "preset:Board")
    assert service.status()["door"]["keypad"] is False
    path = tmp_path / "accessory.conf"
    text = path.read_text().replace("presets = Wide Board", "keypad = true")
    path.write_text(text)
    assert service.reload_file() == []
    assert service.panel.touch is touch  # the same source, now a pad, no buttons
    assert touch.keypad and touch.actions == ()


def test_safe_mode_has_no_pad_and_says_not_configured(make_service):
    service, _ = make_service("[door]\nkeypad = true\n\n[valt]\ntimeout_s = soon\n")
    assert service.safe_mode is not None
    assert service.panel.touch is None
    board = service.panel.board
    board.wait(1, 10)  # the dispatcher's first turn
    shown = board.snapshot()
    assert (shown["state"], shown["detail"]) == (
        "not_configured",
        "Configuration invalid",
    )


def test_stop_ends_every_door_screens_wait(make_service):
    service, _ = make_service()
    board = service.panel.board
    service.stop()
    assert board.closed and board.wait(board.version, 30) == board.version
    assert service.status()["door"]["keypad"] is False
