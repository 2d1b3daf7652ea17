"""A private pcscd with Debian's virtual reader (vpcd) and virtual cards, for the tests.

pcscd 1.9 always listens on /run/pcscd/pcscd.comm unless it is socket-activated, so
the rig hands it a listening socket of its own the way systemd does (LISTEN_FDS); the
client library finds that socket through PCSCLITE_CSOCK_NAME, which it reads once per
process, so one socket path serves the whole test run. The system's pcscd, if any,
keeps its socket; only /run/pcscd/pcscd.pid is shared (ours writes it, and removes it
when it stops: `pcscd --hotplug` for the system's pcscd fails until it restarts).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
# Debian 12's python3-virtualsmartcard installs outside the system python's path.
VSMARTCARD_PATH = Path("/usr/lib/python3/site-packages/virtualsmartcard")
CARD_SCRIPT = Path(__file__).with_name("vcard.py")
READER = "Virtual PCD 00 00"  # vpcd's first slot: FRIENDLYNAME plus "00 00"
WAIT_S = 10.0

# Started by the system python: put the listening socket on fd 3, say so as systemd
# would (LISTEN_PID is the pid that exec keeps), and become pcscd.
_LAUNCH = (
    "import os, sys\n"
    "os.dup2(int(sys.argv[1]), 3)\n"
    "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1')\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)
# vicc's CryptoUtils imports pycrypto's Crypto package; Debian ships pycryptodome as
# Cryptodome, which has the same modules under the other name.
_CRYPTO_ALIAS = "import Cryptodome\n__path__ = Cryptodome.__path__\n"


def missing() -> str | None:
    """Why the rig cannot run here (a reason to skip), or None."""
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        return "pcscd is not installed; run scripts/setup-pcsc (as root)"
    if not VPCD_DRIVER.exists():
        return "vsmartcard-vpcd is not installed; run scripts/setup-pcsc (as root)"
    if not (VSMARTCARD_PATH / "virtualsmartcard").is_dir():
        return "python3-virtualsmartcard is not installed; run scripts/setup-pcsc"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import Cryptodome"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        return "python3-pycryptodome is not installed; run scripts/setup-pcsc"
    return None


def free_port_pair() -> int:
    """A TCP port P with P+1 also free: vpcd listens on both (its two slots)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return int(port)
    raise RuntimeError("no free pair of TCP ports for vpcd")


class Pcscd:
    """pcscd in the foreground on ``sock_path`` with one vpcd reader on ``port``."""

    def __init__(self, workdir: Path, sock_path: str, port: int) -> None:
        self.workdir = workdir
        self.sock_path = sock_path
        self.port = port
        self.proc: subprocess.Popen[str] | None = None
        self.log: list[str] = []
        self._logged = threading.Condition()
        self._listener: socket.socket | None = None

    def start(self, name: str = "Virtual PCD") -> None:
        """Start pcscd with the reader called ``name`` and wait until it is ready."""
        conf = self.workdir / f"conf-{name.replace(' ', '_')}"
        conf.mkdir(exist_ok=True)
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{name}"\nDEVICENAME /dev/null:{self.port}\n'
            f"LIBPATH {VPCD_DRIVER}\nCHANNELID {self.port}\n"
        )
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        self._listener.bind(self.sock_path)
        self._listener.listen(16)
        fd = self._listener.fileno()
        argv = [sys.executable, "-c", _LAUNCH, str(fd), "pcscd", "-f", "-i", "-c"]
        self.proc = subprocess.Popen(
            [*argv, str(conf)], pass_fds=[fd], text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        ready = threading.Event()
        threading.Thread(
            target=self._follow, args=(self.proc, ready), daemon=True
        ).start()
        if not ready.wait(WAIT_S):
            self.stop()
            raise RuntimeError("pcscd did not get ready:\n" + "\n".join(self.log))

    def _follow(self, proc: subprocess.Popen[str], ready: threading.Event) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self._logged:
                self.log.append(line.rstrip())
                self._logged.notify_all()
            if "daemon ready" in line:
                ready.set()

    def wait_logged(self, text: str) -> None:
        """Wait until pcscd's log has a line with ``text`` (e.g. "Card inserted")."""
        with self._logged:
            found = self._logged.wait_for(
                lambda: any(text in line for line in self.log), WAIT_S
            )
        assert found, f"pcscd never logged {text!r}:\n" + "\n".join(self.log)

    def stop(self) -> None:
        """Stop pcscd and remove its socket, so clients find no service."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(WAIT_S)
            self.proc = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            if os.path.exists(self.sock_path):
                os.unlink(self.sock_path)


class Card:
    """A virtual card on the reader while it runs (``tests/sources/vcard.py``)."""

    def __init__(self, workdir: Path, port: int, *args: str) -> None:
        alias = workdir / "crypto-alias" / "Crypto"
        alias.mkdir(parents=True, exist_ok=True)
        (alias / "__init__.py").write_text(_CRYPTO_ALIAS)
        path = os.pathsep.join([str(alias.parent), str(VSMARTCARD_PATH)])
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": path}
        self.proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(CARD_SCRIPT), "--port", str(port), *args],
            env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert self.proc.stdout is not None
        # The script prints once it is connected to vpcd: the card is on the reader.
        line = self.proc.stdout.readline()
        if line.strip() != "inserted":
            _, err = self.proc.communicate(timeout=WAIT_S)
            raise RuntimeError(f"the virtual card did not start: {line}{err}")

    def remove(self) -> None:
        """Take the card away (its connection to vpcd closes)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.communicate(timeout=WAIT_S)
