"""The smaller cases of the hardening issue: weak secrets, markers that changed meaning on the
way, messages that named too little or echoed too much (issue: hardening).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cpstats.errors import InputError
from cpstats.identifiers import estimated_bits, load_secret


def _cpstats(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "cpstats.cli", *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("secret", ["a" * 16, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Ab1!" * 4])
def test_a_secret_below_128_bits_is_refused(monkeypatch, secret):
    monkeypatch.setenv("CPSTATS_SECRET", secret)
    with pytest.raises(InputError, match="128 bits") as raised:
        load_secret()
    assert "CPSTATS_SECRET" in str(raised.value) and secret not in str(raised.value)


def test_a_random_secret_passes_and_the_estimate_orders_secrets(monkeypatch):
    import secrets

    strong = secrets.token_hex(32)
    monkeypatch.setenv("CPSTATS_SECRET", strong)
    assert load_secret() == strong.encode()
    assert estimated_bits("a" * 16) < estimated_bits("abcdefghijklmnop") < estimated_bits(strong)


def test_check_refuses_a_weak_secret_with_exit_2(tmp_path: Path):
    from cpstats import synth
    from cpstats.io.cin_census_writer import write_return

    county = synth.generate(years=(2017, 2017), scale=0.01)
    path = write_return(county.data, tmp_path / "cin_census_2017.xml",
                        la_child_ids=county.la_child_ids)
    result = _cpstats("check", str(path), env={"CPSTATS_SECRET": "x" * 16})
    assert result.returncode == 2, result.stderr
    assert "CPSTATS_SECRET" in result.stderr + result.stdout
    assert "128 bits" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
