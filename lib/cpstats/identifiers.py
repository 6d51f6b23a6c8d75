"""Keyed hashing of child identifiers.

A child's ``LAchildID`` is replaced at ingest by ``HMAC-SHA256(secret,
"<la_code>:<LAchildID>")``, truncated to 16 hex digits and prefixed ``ch_``.
The same secret gives the same hash in every return, so a child is followed
from year to year; without the secret a hash cannot be reversed by trying
every short ID (an unkeyed hash of a short ID can).

The secret is local and never in the repository:

1. the environment variable ``CPSTATS_SECRET`` (at least 16 characters and an estimated
   128 bits of entropy: :func:`estimated_bits`), else
2. the file ``$XDG_CONFIG_HOME/cpstats/secret`` (``~/.config/cpstats/secret``),
   created with 32 random bytes and mode 0600 on first use.

Synthetic data uses :data:`SYNTHETIC_SECRET`, which is published on purpose:
it protects nothing and must never be used for real returns.
"""

from __future__ import annotations

import hmac
import math
import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from cpstats.errors import InputError, Problem

ENV_VAR = "CPSTATS_SECRET"
PREFIX = "ch_"
HEX_DIGITS = 16
MIN_SECRET_LENGTH = 16
MIN_SECRET_BITS = 128
#: Character classes and how many characters each spans (printable ASCII beyond them: 33).
_CLASSES = ((re.compile(r"[a-z]"), 26), (re.compile(r"[A-Z]"), 26), (re.compile(r"[0-9]"), 10),
            (re.compile(r"[^a-zA-Z0-9]"), 33))
#: The fixed, documented secret for synthetic returns (not a secret).
SYNTHETIC_SECRET = "cpstats-synthetic-county-not-a-secret"
#: The SoftwareCode a synthetic CIN Census return carries: its reader labels it synthetic.
SYNTHETIC_SOFTWARE = "cpstats synthetic county (not real data)"

_HASHED = re.compile(rf"^{PREFIX}[0-9a-f]{{{HEX_DIGITS}}}$")


def secret_path() -> Path:
    """Where the local secret file lives (``$XDG_CONFIG_HOME/cpstats/secret``)."""
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "cpstats" / "secret"


def load_secret() -> bytes:
    """The local secret: ``CPSTATS_SECRET``, else the secret file (created on first use).

    Raises
    ------
    InputError
        If the secret is shorter than 16 characters, or the file is readable
        by other users.
    """
    value = os.environ.get(ENV_VAR)
    if value is not None:
        return _checked(value, f"environment variable {ENV_VAR}")
    path = secret_path()
    if not path.exists():
        _create_secret(path)
    if os.name == "posix" and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(Problem(file=str(path), expected="a secret readable only by you "
                                 f"(run: chmod 600 {path})"))
    return _checked(path.read_text(encoding="utf-8").strip(), str(path))


def estimated_bits(value: str) -> float:
    """A rough upper estimate of a secret's entropy in bits: each character counts log2 of
    the alphabet its string's character classes span (lower case 26, upper case 26, digits 10,
    others 33), and a character repeating the one before counts nothing.

    Examples
    --------
    >>> estimated_bits("a" * 16) < 5
    True
    >>> round(estimated_bits("0123456789abcdef" * 4))  # 64 characters from 36
    331
    """
    pool = sum(size for pattern, size in _CLASSES if pattern.search(value))
    fresh = sum(1 for i, ch in enumerate(value) if i == 0 or ch != value[i - 1])
    return fresh * math.log2(pool) if pool else 0.0


def _checked(value: str, where: str) -> bytes:
    if len(value) < MIN_SECRET_LENGTH:
        raise InputError(Problem(file=where, expected=f"a secret of at least "
                                 f"{MIN_SECRET_LENGTH} characters"))
    if estimated_bits(value) < MIN_SECRET_BITS:
        raise InputError(Problem(file=where, expected=(
            f"a secret of at least {MIN_SECRET_BITS} bits (this one: about "
            f"{estimated_bits(value):.0f}); make one with: python -c \"import secrets; "
            f"print(secrets.token_hex(32))\"")))
    return value.encode("utf-8")


def _create_secret(path: Path) -> None:
    """Write a new random secret with mode 0600 (exclusive create: never overwrite)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")


class ChildHasher:
    """Replaces raw child IDs by keyed hashes, scoped to one LA.

    Parameters
    ----------
    scope
        The LA code: the same ``LAchildID`` in another LA is another child.
    secret
        The key; ``None`` loads the local secret (:func:`load_secret`).
    """

    def __init__(self, scope: str = "", secret: str | bytes | None = None):
        if secret is None:
            key = load_secret()
        elif isinstance(secret, str):
            key = secret.encode("utf-8")
        else:
            key = secret
        self._key = key
        self._scope = f"{scope}:".encode()

    def __call__(self, raw: str) -> str:
        """The hashed ID of one raw ID."""
        digest = hmac.digest(self._key, self._scope + raw.encode("utf-8"), "sha256")
        return PREFIX + digest.hex()[:HEX_DIGITS]

    def many(self, raws: Iterable[str]) -> list[str]:
        """Hashed IDs for many raw IDs, in order (each distinct ID hashed once)."""
        raws = list(raws)
        table = {raw: self(raw) for raw in set(raws)}
        return [table[raw] for raw in raws]


def is_hashed(value: str) -> bool:
    """True when ``value`` already has the form of a cpstats hashed ID."""
    return bool(_HASHED.match(value))


def hash_child_id(raw: str, scope: str = "", secret: str | bytes | None = None) -> str:
    """The keyed hash of one child ID (see :class:`ChildHasher`)."""
    return ChildHasher(scope, secret)(raw)
