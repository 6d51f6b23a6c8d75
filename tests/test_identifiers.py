"""Keyed hashing of child IDs: the secret lives outside the repository, hashes are
stable, scoped to an LA, and useless without the secret."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat

import pytest

from cpstats import identifiers
from cpstats.errors import InputError
from cpstats.identifiers import (
    ChildHasher,
    hash_child_id,
    is_hashed,
    load_secret,
    secret_path,
)


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    """No CPSTATS_SECRET; the config dir is a temporary folder."""
    monkeypatch.delenv(identifiers.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config"


def test_hash_is_hmac_sha256_truncated_and_prefixed():
    secret = "a-test-secret-of-some-length"
    expected = hmac.new(secret.encode(), b"825:ABC123", hashlib.sha256).hexdigest()[:16]
    assert hash_child_id("ABC123", scope="825", secret=secret) == "ch_" + expected


def test_same_id_same_hash_other_la_or_secret_other_hash():
    a = ChildHasher("825", "first-secret-0123456789")
    assert a("X1") == a("X1") == ChildHasher("825", "first-secret-0123456789")("X1")
    assert a("X1") != ChildHasher("826", "first-secret-0123456789")("X1")
    assert a("X1") != ChildHasher("825", "other-secret-0123456789")("X1")
    assert a("X1") != a("X2")


def test_many_keeps_order_and_repeats():
    hasher = ChildHasher("825", "first-secret-0123456789")
    assert hasher.many(["b", "a", "b"]) == [hasher("b"), hasher("a"), hasher("b")]


def test_is_hashed_recognises_only_the_hashed_form():
    assert is_hashed(hash_child_id("X", secret="first-secret-0123456789"))
    assert not is_hashed("X")
    assert not is_hashed("ch_XYZ")
    assert not is_hashed("ch_0123456789abcdef0")


def test_environment_secret_wins(config_home, monkeypatch):
    monkeypatch.setenv(identifiers.ENV_VAR, "from-the-environment-123")
    assert load_secret() == b"from-the-environment-123"
    assert not secret_path().exists()


def test_short_secret_refused(monkeypatch):
    monkeypatch.setenv(identifiers.ENV_VAR, "short")
    with pytest.raises(InputError, match="at least 16 characters"):
        load_secret()


def test_secret_file_created_once_private_and_outside_the_repo(config_home):
    path = secret_path()
    assert path == config_home / "cpstats" / "secret"
    first = load_secret()
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(first) == 64
    assert load_secret() == first  # not regenerated: hashes stay stable


def test_secret_file_readable_by_others_refused(config_home):
    load_secret()
    os.chmod(secret_path(), 0o644)
    with pytest.raises(InputError, match="chmod 600"):
        load_secret()


def test_hasher_without_secret_uses_the_local_one(config_home):
    assert ChildHasher("825")("X") == ChildHasher("825", load_secret())("X")


def test_synthetic_secret_is_fixed_and_documented():
    # Published on purpose: synthetic hashes are reproducible anywhere.
    assert identifiers.SYNTHETIC_SECRET == "cpstats-synthetic-county-not-a-secret"
