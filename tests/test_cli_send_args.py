"""`card-explorer send` arguments refused before anything opens a reader (no PC/SC needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from explorer.cli import main


@pytest.mark.parametrize("text", ["inf", "-inf", "1e400", "nan", "1e300", "86401", "0", "-1", "", "soon"])
def test_timeout_must_be_a_finite_positive_number(capsys: pytest.CaptureFixture[str], text: str) -> None:
    with pytest.raises(SystemExit) as leave:
        main(["send", f"--timeout={text}", "00 A4 04 00 00"])  # = keeps "-inf" a value
    assert leave.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"card-explorer send: error: argument --timeout: {text!r} is not a number of seconds "
        "more than 0 and at most 86400 (a day)")


@pytest.mark.parametrize("text", ["0.001", "60", "86400", "1e3"])
def test_timeout_in_range_is_taken(text: str) -> None:
    from explorer.cli.parser import build_parser

    args = build_parser().parse_args(["send", "--timeout", text, "00 A4 04 00 00"])
    assert args.timeout == float(text)


def test_infinite_timeout_from_the_shell_is_a_usage_error_not_a_traceback() -> None:
    result = subprocess.run([sys.executable, "-m", "explorer", "send", "--timeout", "inf", "00A4040000"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "argument --timeout: 'inf' is not a number of seconds" in result.stderr
