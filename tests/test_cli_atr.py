"""`card-explorer atr`, in process: decoding, JSON schema, batch mode, the
database switches and the exit codes (no reader needed); and its bench."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from explorer.cli import main
from explorer.core.atrdb import load_database

ROOT = Path(__file__).resolve().parent.parent
MIFARE_1K = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
JCOP = "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C"
# TD1 = 90 announces TA2 and T=0; TA2 = 81 puts the card in specific mode
# T=1 (which TD2 = 01 also offers); TCK 11 is right.
SPECIFIC_T1 = "3B 81 90 81 01 80 11"
KEYS = {
    "ts", "convention", "t0", "k", "length", "interface_bytes", "protocols", "first_protocol",
    "specific_mode_protocol", "default_protocol", "Fi", "Di", "fmax_mhz", "N", "tck_expected",
    "tck_present", "tck", "tck_ok", "historical_bytes", "hb_category", "hb_tlv", "hb_status",
    "hb_dir_ref", "truncated", "extra_bytes", "too_long", "db_matches",
}

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """`card-explorer atr ARGS`, with `stdin` text if given: (exit code, stdout, stderr)."""
    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["atr", *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def as_json(cli: Run, *args: str) -> dict[str, Any]:
    code, out, err = cli("--json", *args)
    assert code == 0, err
    assert out.count("\n") == 1  # one object, one line
    obj = json.loads(out)
    assert isinstance(obj, dict)
    assert set(obj) == KEYS
    return obj


# -- text -------------------------------------------------------------------------


def test_text_names_the_card(cli: Run) -> None:
    code, out, err = cli(MIFARE_1K)
    assert code == 0, err
    assert out.startswith(f"ATR: {MIFARE_1K}\n")
    assert "MIFARE Classic 1K" in out
    assert "Identification (" in out and "[exact]" in out


def test_separate_arguments_and_colons_are_one_atr(cli: Run) -> None:
    assert as_json(cli, *MIFARE_1K.split()) == as_json(cli, MIFARE_1K)
    assert as_json(cli, MIFARE_1K.replace(" ", ":")) == as_json(cli, MIFARE_1K)


def test_text_without_db_does_not_claim_a_lookup(cli: Run) -> None:
    code, out, _ = cli("--no-db", MIFARE_1K)
    assert code == 0
    assert "not in the list" not in out
    assert "Identification: not looked up (--no-db)" in out


# -- JSON -------------------------------------------------------------------------


def test_json_mifare(cli: Run) -> None:
    obj = as_json(cli, MIFARE_1K)
    assert obj["ts"] == "3B" and obj["convention"] == "direct"
    assert obj["t0"] == "8F" and obj["k"] == 15 and obj["length"] == 20
    assert obj["interface_bytes"] == {"TD1": "80", "TD2": "01"}
    assert obj["protocols"] == [0, 1] and obj["first_protocol"] == 0 and obj["default_protocol"] == 0
    assert obj["specific_mode_protocol"] is None
    assert obj["Fi"] is None and obj["Di"] is None and obj["fmax_mhz"] is None and obj["N"] is None
    assert obj["tck_expected"] is True and obj["tck_present"] is True
    assert obj["tck"] == "6A" and obj["tck_ok"] is True
    assert obj["historical_bytes"] == "80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00"
    assert obj["hb_category"] == "80"
    assert obj["truncated"] is False and obj["extra_bytes"] == "" and obj["too_long"] is False
    assert any(m["pattern"] == MIFARE_1K for m in obj["db_matches"])
    assert all(set(m) == {"pattern", "descriptions"} for m in obj["db_matches"])


def test_json_t0_only_has_no_tck(cli: Run) -> None:
    obj = as_json(cli, "3B 02 14 50")
    assert obj["protocols"] == [0]
    assert obj["tck_expected"] is False and obj["tck_present"] is False
    assert obj["tck"] is None and obj["tck_ok"] is None
    assert obj["historical_bytes"] == "14 50" and obj["extra_bytes"] == ""


def test_json_byte_after_a_t0_only_atr_is_extra_not_tck(cli: Run) -> None:
    obj = as_json(cli, "3B 02 14 50 11")
    assert obj["extra_bytes"] == "11"
    assert obj["tck_present"] is False and obj["tck"] is None and obj["tck_ok"] is None
    assert obj["truncated"] is False and obj["length"] == 5


def test_json_interface_and_historical_bytes(cli: Run) -> None:
    obj = as_json(cli, JCOP)
    assert obj["interface_bytes"] == {"TA1": "18", "TC1": "FF", "TD1": "81", "TD2": "B1",
                                      "TA3": "FE", "TB3": "75", "TD3": "1F", "TA4": "03"}
    assert obj["Fi"] == 372 and obj["Di"] == 12 and obj["fmax_mhz"] == 5 and obj["N"] == 255
    assert obj["protocols"] == [1]  # T=15 announces global bytes, not a protocol
    assert obj["tck"] == "0C" and obj["tck_ok"] is True
    assert obj["hb_category"] == "00"
    assert obj["hb_status"] == "00 90 00"
    assert obj["hb_tlv"] == [{"tag": "3", "len": 1, "value": "C5"},
                             {"tag": "7", "len": 3, "value": "C0 01 40"}]


def test_json_specific_mode(cli: Run) -> None:
    obj = as_json(cli, SPECIFIC_T1)
    assert obj["interface_bytes"] == {"TD1": "90", "TA2": "81", "TD2": "01"}
    assert obj["protocols"] == [0, 1] and obj["first_protocol"] == 0
    assert obj["specific_mode_protocol"] == 1
    assert obj["default_protocol"] == obj["specific_mode_protocol"]
    assert obj["tck_ok"] is True


def test_json_without_ta2_is_negotiable(cli: Run) -> None:
    # TD1 = 80 announces TD2 only, so no TA2 here: negotiable mode.
    obj = as_json(cli, "3B D6 18 00 80 B1 80 6D 1F 03 80 51 00 61 10 30 9E")
    assert "TA2" not in obj["interface_bytes"]
    assert obj["specific_mode_protocol"] is None and obj["default_protocol"] == 0
    assert obj["tck_ok"] is True


def test_wrong_tck_is_decoded_not_an_error(cli: Run) -> None:
    obj = as_json(cli, MIFARE_1K[:-2] + "6B")
    assert obj["tck"] == "6B" and obj["tck_ok"] is False
    code, out, _ = cli(MIFARE_1K[:-2] + "6B")
    assert code == 0
    assert "TCK is 6B, should be 6A" in out


def test_truncated_is_decoded_not_an_error(cli: Run) -> None:
    obj = as_json(cli, "3B 8F 80 01 80 4F 0C A0")
    assert obj["truncated"] is True
    assert obj["tck_present"] is False and obj["tck_ok"] is None
    code, out, _ = cli("3B 8F 80 01 80 4F 0C A0")
    assert code == 0 and "truncated" in out


def test_json_keeps_non_ascii(cli: Run, tmp_path: Path) -> None:
    db = tmp_path / "list.txt"
    db.write_text("3B 02 14 50\n\tCarte d'accès\n", encoding="utf-8")
    code, out, _ = cli("--json", "--db", str(db), "3B 02 14 50")
    assert code == 0
    assert "Carte d'accès" in out  # ensure_ascii=False: not \u00e8


# -- the database switches --------------------------------------------------------


def test_db_file_comes_first(cli: Run, tmp_path: Path) -> None:
    db = tmp_path / "smartcard_list.txt"
    db.write_text("# mine\n3B 02 14 ..\n\tMy own test card\n\thttps://example.org\n")
    obj = as_json(cli, "--db", str(db), "3B 02 14 50")
    assert obj["db_matches"] == [{"pattern": "3B 02 14 ..",
                                  "descriptions": ["My own test card", "https://example.org"]}]
    code, out, _ = cli("--db", str(db), "3B 02 14 50")
    assert code == 0
    assert f"Identification ({db}):" in out and "My own test card" in out


def test_missing_db_file_warns_and_falls_back(cli: Run, tmp_path: Path) -> None:
    code, out, err = cli("--json", "--db", str(tmp_path / "nope.txt"), MIFARE_1K)
    assert code == 0
    assert "nope.txt" in err and "no such file" in err
    if load_database(None) is not None:
        assert json.loads(out)["db_matches"]


def test_no_db(cli: Run) -> None:
    assert as_json(cli, "--no-db", MIFARE_1K)["db_matches"] == []


def test_db_and_no_db_exclude_each_other(cli: Run) -> None:
    with pytest.raises(SystemExit) as exc:
        cli("--db", "x", "--no-db", MIFARE_1K)
    assert exc.value.code == 2


# -- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(("args", "column"), [
    (("3B0G",), 4),
    (("3B", "8G"), 5),  # separate arguments are joined with one space
    (("3B 8F 8",), 7),
])
def test_bad_hex(cli: Run, args: tuple[str, ...], column: int) -> None:
    code, out, err = cli(*args)
    assert code == 2
    assert out == ""
    first, shown, caret = err.splitlines()
    assert first.startswith("card-explorer atr: ") and f"column {column}" in first
    assert shown == "  " + " ".join(args)
    assert caret == "  " + " " * (column - 1) + "^"
    assert "Traceback" not in err


def test_bad_hex_in_json_mode_prints_no_json(cli: Run) -> None:
    code, out, err = cli("--json", "3B 0Z")
    assert code == 2 and out == "" and "column 5" in err


@pytest.mark.parametrize("args", [(), ("",), (" : ",)])
def test_no_atr(cli: Run, args: tuple[str, ...]) -> None:
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert "no ATR given" in err


def test_batch_needs_json(cli: Run) -> None:
    code, out, err = cli("--batch", stdin=MIFARE_1K + "\n")
    assert code == 2 and out == ""
    assert "--batch" in err and "--json" in err


def test_batch_takes_no_arguments(cli: Run) -> None:
    code, out, err = cli("--json", "--batch", MIFARE_1K, stdin="")
    assert code == 2 and out == "" and "stdin" in err


# -- batch ------------------------------------------------------------------------


def test_batch_lines(cli: Run) -> None:
    stdin = ("3B 02 14 50\n"
             "\n"
             "# a comment\n"
             "   # an indented comment\n"
             "3B 0G 14\n"
             f"  {MIFARE_1K}\r\n"
             "3B 02 14 50 11")  # no final newline
    code, out, err = cli("--json", "--batch", stdin=stdin)
    assert code == 2, "a bad line makes the exit code 2"
    lines = out.splitlines()
    assert len(lines) == 4
    first, bad, mifare, extra = (json.loads(line) for line in lines)
    assert set(first) == KEYS and first["historical_bytes"] == "14 50"
    assert bad == {"input": "3B 0G 14", "line": 5, "error": "'G' at column 5 is not a hex digit"}
    assert set(mifare) == KEYS and mifare["tck_ok"] is True and mifare["db_matches"]
    assert extra["extra_bytes"] == "11"
    assert "Traceback" not in err


def test_batch_all_good_exits_0(cli: Run) -> None:
    code, out, _ = cli("--json", "--batch", "--no-db", stdin=f"{MIFARE_1K}\n3B 02 14 50\n")
    assert code == 0
    assert [json.loads(line)["length"] for line in out.splitlines()] == [20, 4]


def test_batch_separators_only_is_a_bad_line(cli: Run) -> None:
    code, out, _ = cli("--json", "--batch", stdin="::\n3B 02 14 50\n")
    assert code == 2
    bad, good = (json.loads(line) for line in out.splitlines())
    assert bad["line"] == 1 and bad["input"] == "::" and bad["error"]
    assert good["length"] == 4


def test_batch_every_listed_atr(cli: Run) -> None:
    db = load_database(None)
    if db is None:
        pytest.skip("no smartcard_list.txt installed or bundled")
    atrs = db.concrete_atrs()
    stdin = "".join(a.hex(" ").upper() + "\n" for a in atrs)
    code, out, err = cli("--json", "--batch", stdin=stdin)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(atrs)
    for raw, line in zip(atrs, lines, strict=True):
        obj = json.loads(line)
        text = raw.hex(" ").upper()
        assert obj["length"] == len(raw)
        # Each is written out in the list, so its own entry must match.
        assert any(m["pattern"].upper() == text for m in obj["db_matches"]), text


# -- the bench --------------------------------------------------------------------


def test_bench_small() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "atr.py"), "--small"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "atr"
    assert "error" not in figures, figures["error"]
    assert isinstance(figures["ok"], bool)
    assert figures["goals"] == {"all_atrs_s": 1.0, "lookup_max_us": 1000}
    assert figures["atrs"] <= 300
