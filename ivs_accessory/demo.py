"""Demo: a VALT simulator, the daemon set up for it, a console keypad on this tty."""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ivs_accessory.door.feedback import ConsoleFeedback
from ivs_accessory.valtsim import ValtSimulator, default_data

if TYPE_CHECKING:  # the page (bottle, cheroot) loads only when the demo starts it
    from ivs_accessory.web import WebServer
    from ivs_accessory.web.backend import PageService

logger = logging.getLogger(__name__)

_HELP = """\
Type a PIN (a user's card number) and Enter to start a recording; \
the same again stops it.
  card NUMBER        a card swipe          key plus           a key binding (marker)
  hold star 2        a 2-second hold (privacy lock / unlock)
Ctrl-D or Ctrl-C stops everything."""


def demo_config(folder: Path, server: str, room: int) -> Path:
    """Write the demo's configuration file (0600, as every config) and return its
    path."""
    path = folder / "accessory.conf"
    path.write_text(
        "[valt]\n"
        f"server = {server}\n"
        "username = admin\n"
        "password = admin\n"
        f"room = {room}\n"
        "timeout_s = 3\n"
        "\n[source:console]\nkind = console\n"
        "\n[logging]\n"
        f"audit_file = {folder / 'audit.log'}\n"
        "\n[web]\naddress = 127.0.0.1\nport = 0\n"
        f"password_file = {folder / 'web-password'}\n"
        # The page's box operations do nothing in the demo; its files stay in the
        # folder.
        "\n[system]\nreboot_command = true\nfactory_default_command = true\n"
        "apply_network_command = true\nrollback_network_command = true\n"
        f"apply_time_command = true\nnetwork_file = {folder / 'network.yaml'}\n"
        f"time_file = {folder / 'time.conf'}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def run_demo(
    valt_version: str = "6.6.0",
    room: int = 1,
    *,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    ready: threading.Event | None = None,
) -> int:
    """Run simulator + daemon until Ctrl-D / Ctrl-C; returns the exit code."""
    from ivs_accessory.daemon import run
    from ivs_accessory.sources.base import create_source
    from ivs_accessory.sources.console import ConsoleSource

    stop = threading.Event()

    def sources(name: str, options: dict[str, Any]) -> Any:
        if options["kind"] == "console":
            return ConsoleSource(name, stream=stdin, on_eof=stop.set)
        return create_source(name, options)

    with (
        ValtSimulator(port=0, version=valt_version) as sim,
        tempfile.TemporaryDirectory(prefix="ivs-demo-") as folder,
    ):
        config = demo_config(Path(folder), sim.url, room)
        _introduce(stdout, sim, room, Path(folder))
        # At the end of piped input, finish what was typed before stopping.
        return run(
            str(config),
            stop=stop,
            ready=ready,
            drain_s=5,
            service_options={
                "source_factory": sources,
                "feedback": [ConsoleFeedback(stdout)],
                "web": lambda service: _page(service, stdout),
            },
        )


def _page(service: PageService, out: TextIO) -> WebServer:
    """The configuration page on a free local port; its URL and login go to ``out``."""
    from ivs_accessory.web import page_for
    from ivs_accessory.web.accounts import FACTORY_PASSWORD, USERNAME

    def announce(url: str) -> None:
        out.write(
            f"Configuration page: {url}  (log in as {USERNAME} / {FACTORY_PASSWORD}; "
            "it asks for a new password first)\n"
            f"Door page: {url}door  (no login: what a screen by the door shows)\n"
        )
        out.flush()

    return page_for(service, announce=announce)


def _introduce(out: TextIO, sim: ValtSimulator, room: int, folder: Path) -> None:
    name = next((r["name"] for r in default_data()["rooms"] if r["id"] == room), "?")
    out.write(
        f"VALT simulator {sim.version} at {sim.url} "
        f"(control API: {sim.url}/_sim/state)\n"
    )
    out.write(
        f"The accessory watches room {room} ({name}); audit log: {folder}/audit.log\n"
    )
    out.write("PINs / cards the simulator knows:\n")
    for user in default_data()["users"]:
        if user.get("card_number"):
            out.write(f"  {user['card_number']:>12}  {user['displayName']}\n")
    out.write(_HELP + "\n")
    out.flush()
