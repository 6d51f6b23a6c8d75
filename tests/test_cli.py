import pytest

from cpstats import cli


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_unknown_option_is_a_usage_error():
    with pytest.raises(SystemExit) as caught:
        cli.main(["--no-such-option"])
    assert caught.value.code == 2
