"""kill -9 during config saves: the file always parses and is the old or the new one."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal

import pytest
from conftest import SECRET_PASSWORD

from ivs_accessory.config import load, save

from .conftest import LONG
from .door import pace
from .saver import save_forever

KILLS = 500 if LONG else 200
NAMES = ("Door recording (morning)", "Door recording (afternoon)")


@pytest.fixture(scope="module")
def forkserver():
    """Children forked from a server that has imported the config code, so each kill
    costs milliseconds rather than an interpreter start."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ivs_accessory.config", "reliability.saver"])
    return context


@pytest.mark.timeout(600)
def test_config_file_survives_kill_9_during_saves(tmp_path, forkserver, watched):
    path = tmp_path / "accessory.conf"
    path.write_text(
        f"# the door by the lab\n[valt]\nserver = valt.example.org\n"
        f"username = keypad\npassword = {SECRET_PASSWORD}\nroom = 3\n"
    )
    path.chmod(0o600)
    texts = []
    for name in NAMES:
        save(path, {"valt": {"recording_name": name}})
        texts.append(path.read_text())
    rng = random.Random(6)
    for kill in range(KILLS):
        started = forkserver.Event()
        child = forkserver.Process(
            target=save_forever, args=(str(path), NAMES, started), daemon=True
        )
        child.start()
        assert started.wait(30), "the saving child did not start"
        pace(rng.uniform(0, 0.01))  # a random moment within the next few saves
        os.kill(child.pid, signal.SIGKILL)
        child.join(30)
        assert child.exitcode == -signal.SIGKILL
        text = path.read_text()
        assert text in texts, f"after kill {kill + 1} the file is neither old nor new"
        assert load(path)["valt"]["recording_name"] in NAMES
        assert os.stat(path).st_mode & 0o777 == 0o600
    # Killed between creating its temporary file and renaming it: the file stays behind.
    left = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    print(f"{KILLS} kills; {len(left)} left a temporary file behind")
