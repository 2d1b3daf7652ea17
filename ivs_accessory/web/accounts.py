"""Admin account: scrypt password file, sessions with CSRF tokens."""

from __future__ import annotations

import base64
import configparser
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivs_accessory.errors import AccessoryError
from ivs_accessory.system.atomic import write_private
from ivs_accessory.web.files import read_text

logger = logging.getLogger(__name__)

USERNAME = "admin"
MIN_PASSWORD_LENGTH = 8
# scrypt with N=2^14, r=8: 16 MiB and ~50 ms per check on a Raspberry Pi 4 class CPU;
# slow enough to make guessing a stolen hash costly, fast enough for a login.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
# The factory password (README); config/web-password holds the same hash. The page
# refuses it as a new password.
FACTORY_PASSWORD = "ivs-setup"
INITIAL_HASH = (
    "scrypt$16384$8$1$FRRz4ZLcfeV/ekyRDpB3cg==$"
    "tzq4KB8Tl38HknfHy6E2dID+GKhudwJOfaGfSvjj0+c="
)
# The factory password is public, so outside loopback and link-local peers it works
# only this long after the password file was last written: a factory default, or
# scripts/install, writes it (README: Log in).
FACTORY_WINDOW_S = 15 * 60
_SECTION = "password"
_HEADER = (
    "# ivs-accessory: the configuration page's admin password, as a salted scrypt\n"
    "# hash (never the password itself). must_change = true: the next login must\n"
    "# choose a new password first. Written by the page; keep it mode 0600.\n"
)


class PasswordFileError(AccessoryError, OSError):
    """The password file exists but cannot be read, parsed or written."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) for ``password``, with a new 16-byte salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(
        [
            "scrypt",
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches a ``hash_password`` text (constant time)."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(
            password,
            base64.b64decode(salt, validate=True),
            int(n),
            int(r),
            int(p),
            len(expected),
        )
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(
    password: str, salt: bytes, n: int, r: int, p: int, length: int = 32
) -> bytes:
    data = password.encode("utf-8", "surrogatepass")
    return hashlib.scrypt(
        data, salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=length
    )


def new_password_problem(new: str, confirm: str, current: str) -> dict[str, str]:
    """Errors (by form field) that forbid ``new`` as the next password; {} when fine."""
    if new and not new.strip():
        return {"new": "must not be only spaces"}
    if len(new) < MIN_PASSWORD_LENGTH:
        return {"new": f"must have at least {MIN_PASSWORD_LENGTH} characters"}
    if len(new) > 256:
        return {"new": "must have at most 256 characters"}
    if new != confirm:
        return {"confirm": "does not match the new password"}
    if new == current:
        return {"new": "must differ from the current password"}
    if new == FACTORY_PASSWORD:
        return {"new": "must not be the factory password"}
    return {}


@dataclass(frozen=True)
class PasswordRecord:
    """What the password file says: the hash and whether it must be changed."""

    hash: str
    must_change: bool


class PasswordFile:
    """The credentials file (``[web] password_file``).

    A missing file means the factory password, which must be changed at the first
    login; the first change creates the file (mode 0600, written atomically).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()

    def read(self) -> PasswordRecord:
        """The record; the factory one when the file does not exist.

        Raises:
            PasswordFileError: the file exists but is unreadable or damaged.
        """
        try:
            text = read_text(self.path, 10_000)
        except (OSError, UnicodeDecodeError) as exc:
            raise PasswordFileError(
                f"cannot read the password file {self.path}: {exc}"
            ) from None
        if text is None:
            return PasswordRecord(INITIAL_HASH, True)
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
            section = parser[_SECTION]
            record = PasswordRecord(
                section["hash"].strip(),
                section.getboolean("must_change", fallback=False),
            )
        except (configparser.Error, KeyError, ValueError):
            raise PasswordFileError(
                f"the password file {self.path} is damaged; restore the factory "
                "settings or copy config/web-password there"
            ) from None
        return record

    def age_s(self, now: Callable[[], float] = time.time) -> float | None:
        """Seconds since the file was last written (wall clock); None when missing."""
        try:
            return now() - os.stat(self.path).st_mtime
        except OSError:
            return None

    def verify(self, password: str) -> bool:
        """True for the admin password (PasswordFileError if the file is unreadable)."""
        return verify_password(password, self.read().hash)

    def change(self, new: str) -> None:
        """Store ``new`` (hashed); the must-change flag is cleared.

        Raises:
            PasswordFileError: the file cannot be written.
        """
        text = (
            f"{_HEADER}[{_SECTION}]\nhash = {hash_password(new)}\nmust_change = false\n"
        )
        with self._lock:
            try:
                write_private(self.path, text)
            except OSError as exc:
                raise PasswordFileError(
                    f"cannot write the password file {self.path}: {exc.strerror or exc}"
                ) from None
        logger.warning("the configuration page's password was changed")


@dataclass
class Session:
    """One logged-in browser: its cookie and CSRF tokens, start and last activity."""

    token: str
    csrf: str
    last_seen: float
    must_change: bool
    data: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0


class Sessions:
    """Logged-in browsers, in memory (a restart logs everyone out).

    Args:
        idle_s: returns the idle expiry in seconds (read at each check, so a reload
            of ``[web] session_idle_s`` applies at once).
        clock: monotonic seconds.
        limit: the oldest session is dropped beyond this many.
        max_s: returns the absolute lifetime: a session ends this long after the
            login however busy it is (``[web] session_max_s``).
    """

    def __init__(
        self,
        idle_s: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
        limit: int = 20,
        max_s: Callable[[], float] = lambda: 12 * 3600,
    ) -> None:
        self._idle_s = idle_s
        self._max_s = max_s
        self._clock = clock
        self._limit = limit
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, must_change: bool) -> Session:
        """A new session with fresh random cookie and CSRF tokens."""
        now = self._clock()
        session = Session(
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            now,
            must_change,
            created=now,
        )
        with self._lock:
            self._by_token[session.token] = session
            while len(self._by_token) > self._limit:
                oldest = min(self._by_token.values(), key=lambda s: s.last_seen)
                del self._by_token[oldest.token]
        return session

    def get(self, token: str | None, *, touch: bool = True) -> Session | None:
        """The live session for a cookie token, or None.

        Args:
            touch: restart its idle timer; False for requests a page makes by
                itself (polls), which must not keep an unattended browser logged in.
        """
        if not token:
            return None
        now = self._clock()
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None
            if (
                now - session.last_seen > self._idle_s()
                or now - session.created > self._max_s()
            ):
                del self._by_token[token]
                return None
            if touch:
                session.last_seen = now
            return session

    def drop(self, token: str) -> None:
        """Log a session out."""
        with self._lock:
            self._by_token.pop(token, None)

    def drop_others(self, keep: str) -> None:
        """Log out every session but ``keep`` (after a password change)."""
        with self._lock:
            self._by_token = {t: s for t, s in self._by_token.items() if t == keep}


def tokens_match(expected: str, supplied: str | None) -> bool:
    """Constant-time comparison of a CSRF token; False for a missing one."""
    if not supplied or not expected:
        return False
    return hmac.compare_digest(
        expected.encode(), supplied.encode("utf-8", "surrogatepass")
    )
