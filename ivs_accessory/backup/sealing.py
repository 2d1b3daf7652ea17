"""A backup sealed with a passphrase: scrypt derives a Fernet key; salt in the file."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from typing import Any

from ivs_accessory.errors import ConfigError

# scrypt with N=2^15, r=8: 32 MiB and about half a second (measured on the 2-core
# development machine; more on a Raspberry Pi), paid once per backup or restore; each
# guess at a stolen file's passphrase costs the same.
KDF = "scrypt"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SALT_BYTES = 16
_MAXMEM = 128 * 1024 * 1024
# Bounds for what a file may ask for: a crafted header must not make restore
# spend gigabytes or minutes before it can say "wrong passphrase".
_MAX_N, _MAX_R, _MAX_P = 2**20, 16, 4
MIN_PASSPHRASE = 8


def passphrase_problem(passphrase: str) -> str | None:
    """Why ``passphrase`` cannot seal a backup, or None."""
    if len(passphrase) < MIN_PASSPHRASE:
        return f"the passphrase must have at least {MIN_PASSPHRASE} characters"
    if not passphrase.strip():
        return "the passphrase must not be only spaces"
    return None


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    raw = hashlib.scrypt(
        passphrase.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=_MAXMEM,
        dklen=32,
    )
    return base64.urlsafe_b64encode(raw)  # Fernet takes its key as url-safe base64


def seal(plain: bytes, passphrase: str) -> dict[str, Any]:
    """The ``sealed`` part of an encrypted backup: KDF parameters and the token.

    Raises:
        ConfigError: the passphrase is too short.
    """
    from cryptography.fernet import Fernet  # only passphrase backups need it

    problem = passphrase_problem(passphrase)
    if problem:
        raise ConfigError(problem)
    salt = secrets.token_bytes(SALT_BYTES)
    key = _key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return {
        "kdf": KDF,
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": base64.b64encode(salt).decode("ascii"),
        "fernet": Fernet(key).encrypt(plain).decode("ascii"),
    }


def unseal(sealed: Any, passphrase: str) -> bytes:
    """The plain document inside ``sealed`` (see :func:`seal`).

    Raises:
        ConfigError: the header is damaged, or the passphrase is wrong (Fernet's
            HMAC cannot tell that from a damaged token; the message says both).
    """
    from cryptography.fernet import Fernet, InvalidToken

    n, r, p, salt, token = _parameters(sealed)
    try:
        return Fernet(_key(passphrase, salt, n, r, p)).decrypt(token)
    except InvalidToken:
        raise ConfigError(
            "wrong passphrase, or the encrypted part of the file is damaged; "
            "nothing was changed"
        ) from None


def _parameters(sealed: Any) -> tuple[int, int, int, bytes, bytes]:
    damaged = ConfigError(
        "the backup's encryption header is damaged (kdf, n, r, p, salt, fernet); "
        "use an unchanged copy of the file"
    )
    if not isinstance(sealed, dict) or sealed.get("kdf") != KDF:
        raise damaged
    n, r, p = (_whole(sealed.get(k)) for k in ("n", "r", "p"))
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= _MAX_R):
        raise damaged
    if not 1 <= p <= _MAX_P:
        raise damaged
    try:
        salt = base64.b64decode(str(sealed.get("salt", "")), validate=True)
        token = str(sealed.get("fernet", "")).encode("ascii")
    except (binascii.Error, UnicodeEncodeError):
        raise damaged from None
    if len(salt) < 8 or not token:
        raise damaged
    return n, r, p, salt, token


def _whole(value: Any) -> int:
    """``value`` when it is a JSON integer; else -1, which no bound accepts."""
    return value if isinstance(value, int) and not isinstance(value, bool) else -1
