"""HTTP digest authentication as an Axis camera asks for it (MD5, qop=auth)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict

REALM = "AXIS_SIMULATOR"
# Nonces handed out and not yet forgotten; a client reuses its nonce for many
# requests (requests' HTTPDigestAuth does), so they are kept until pushed out.
_MAX_NONCES = 256

_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def parse(header: str) -> dict[str, str] | None:
    """The parameters of an ``Authorization: Digest ...`` header, or None."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    return {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(rest)
    }


class DigestGate:
    """Hands out challenges and checks the answers for one user and password."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password
        self._nonces: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def challenge(self, stale: bool = False) -> str:
        """A ``WWW-Authenticate`` value with a fresh nonce."""
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces[nonce] = None
            while len(self._nonces) > _MAX_NONCES:
                self._nonces.popitem(last=False)
        value = (
            f'Digest realm="{REALM}", nonce="{nonce}", algorithm=MD5, qop="auth", '
            f'opaque="{secrets.token_hex(8)}"'
        )
        return value + (", stale=true" if stale else "")

    def check(self, header: str | None, method: str, uri: str) -> tuple[str, bool]:
        """``(user, stale)``: the user the header proves, "" when it proves none;
        ``stale`` when only the nonce was unknown (the client may retry with a new
        one)."""
        fields = parse(header or "")
        if not fields or fields.get("uri") != uri:
            return "", False
        with self._lock:
            known = fields.get("nonce", "") in self._nonces
        if fields.get("username") != self.username or fields.get("realm") != REALM:
            return "", False
        expected = self._response(fields, method)
        if not hmac.compare_digest(expected, fields.get("response", "")):
            return "", False
        if not known:
            return "", True
        return self.username, False

    def _response(self, fields: dict[str, str], method: str) -> str:
        ha1 = _md5(f"{self.username}:{REALM}:{self.password}")
        ha2 = _md5(f"{method}:{fields.get('uri', '')}")
        nonce = fields.get("nonce", "")
        if fields.get("qop") == "auth":
            nc, cnonce = fields.get("nc", ""), fields.get("cnonce", "")
            return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        return _md5(f"{ha1}:{nonce}:{ha2}")
