"""The ATR list matcher: the ATR_analysis format and rules, and the bundled list."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from explorer.assets import asset_path
from explorer.core import atrdb
from explorer.core.atrdb import AtrDatabase, AtrEntry, database_paths, load_database
from explorer.core.hexfmt import HexError, to_hex

MIFARE_1K = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"

SAMPLE = """\
#
# a comment, then an empty line
#

3B 02 14 50
\tFirst card
\t  indented description kept as is\x20\x20

3B 02 14 ..
\tAny 3B 02 14

3b 02 14 5.
\tlower case pattern

3B 02
\tprefix only, must not match 3B 02 14 50

3B 02 .*
\tanything after 3B 02

3B 39 19 00 53 4F 4D 41 44 53 33 30 3[1,3]
\tbracket list

3B 75 94 00 00 62 02 02 0[1-5] 01
\tbracket range
\tsecond line

3B [12
\tbroken

3B 0F 00
\tcard with no blank line before the next comment
# comment
\torphan description, after a comment
"""


@pytest.fixture(scope="module")
def sample() -> AtrDatabase:
    return AtrDatabase.parse(SAMPLE, source="sample")


@pytest.fixture(scope="module")
def bundled() -> AtrDatabase:
    path = asset_path("smartcard_list.txt")
    return AtrDatabase.parse(path.read_text(encoding="utf-8", errors="replace"), source=str(path))


def patterns(matches: tuple[atrdb.AtrMatch, ...]) -> list[str]:
    return [m.entry.pattern for m in matches]


def test_parse_entries_and_descriptions(sample: AtrDatabase) -> None:
    assert sample.source == "sample"
    assert len(sample) == 8
    first = sample.entries[0]
    assert first == AtrEntry("3B 02 14 50", ("First card", "  indented description kept as is  "), 5)
    assert sample.entries[6].descriptions == ("bracket range", "second line")
    # ATR_analysis prints nothing after a comment ends an entry.
    assert sample.entries[-1].descriptions == ("card with no blank line before the next comment",)
    assert [e.is_concrete for e in sample.entries[:3]] == [True, False, False]


def test_uncompilable_pattern_is_a_problem_not_an_error(sample: AtrDatabase) -> None:
    assert len(sample.problems) == 1
    assert sample.problems[0].startswith("line 28: cannot compile '3B [12'")
    assert "broken" not in [d for e in sample.entries for d in e.descriptions]
    assert patterns(sample.lookup("3B 0F 00")) == ["3B 0F 00"]


def test_every_match_in_file_order_exact_and_wildcard(sample: AtrDatabase) -> None:
    matches = sample.lookup(bytes.fromhex("3B021450"))
    assert patterns(matches) == ["3B 02 14 50", "3B 02 14 ..", "3b 02 14 5.", "3B 02 .*"]
    assert [m.exact for m in matches] == [True, False, False, False]
    assert matches[0].to_json() == {
        "pattern": "3B 02 14 50",
        "descriptions": ["First card", "  indented description kept as is  "],
    }


def test_anchored_at_both_ends(sample: AtrDatabase) -> None:
    assert "3B 02" not in patterns(sample.lookup("3B 02 14 50"))
    assert patterns(sample.lookup("3B 02")) == ["3B 02"]
    assert patterns(sample.lookup("3B 02 14 50 00")) == ["3B 02 .*"]
    assert sample.lookup("00 3B 02 14 50") == ()


def test_dot_and_case(sample: AtrDatabase) -> None:
    assert patterns(sample.lookup("3B 02 14 5F")) == ["3B 02 14 ..", "3b 02 14 5.", "3B 02 .*"]
    assert patterns(sample.lookup("3B 02 14 AF")) == ["3B 02 14 ..", "3B 02 .*"]
    lower = AtrDatabase.parse("3b 8f 80 01\n\tlower\n")
    assert [m.exact for m in lower.lookup("3B 8F 80 01")] == [True]


def test_bracket_patterns(sample: AtrDatabase) -> None:
    somads = "3B 39 19 00 53 4F 4D 41 44 53 33 30 3"
    assert patterns(sample.lookup(somads + "1")) == [somads + "[1,3]"]
    assert patterns(sample.lookup(somads + "3")) == [somads + "[1,3]"]
    assert sample.lookup(somads + "2") == ()
    card = "3B 75 94 00 00 62 02 02 0{} 01"
    assert patterns(sample.lookup(card.format(5))) == [card.format("[1-5]")]
    assert sample.lookup(card.format(6)) == ()


def test_perl_anchoring_of_alternation() -> None:
    # `m/^$line$/` anchors the first branch at the start and the last at the end only.
    db = AtrDatabase.parse("3B 00|3B 01\n\tboth\n")
    assert len(db.lookup("3B 00 FF")) == 1
    assert len(db.lookup("FF 3B 01")) == 1
    assert db.lookup("FF 3B 00 FF") == ()


@pytest.mark.parametrize("text", ["3B 8F 80 01", "3b8f8001", "3B:8F:80:01", " 3b 8F\n80 01 "])
def test_str_input_is_normalised(text: str) -> None:
    db = AtrDatabase.parse("3B 8F 80 01\n\tcard\n")
    assert [m.exact for m in db.lookup(text)] == [True]


def test_bad_hex_raises() -> None:
    with pytest.raises(HexError):
        AtrDatabase.parse("3B 00\n").lookup("3B 0G")


def test_crlf_lines() -> None:
    db = AtrDatabase.parse("# c\r\n\r\n3B 00\r\n\tcard\r\n")
    assert db.entries == (AtrEntry("3B 00", ("card",), 3),)


def test_concrete_atrs_once_in_file_order() -> None:
    db = AtrDatabase.parse("3B 01\n\ta\n\n3B ..\n\tb\n\n3b 02\n\tc\n\n3B 01\n\td\n")
    assert db.concrete_atrs() == [b"\x3b\x01", b"\x3b\x02"]
    assert [m.entry.descriptions for m in db.lookup("3B 01")] == [("a",), ("b",), ("d",)]


# -- the bundled list -------------------------------------------------------------


def test_bundled_list_loads(bundled: AtrDatabase) -> None:
    if bundled.problems:
        print("\n".join(bundled.problems))
    assert all("cannot compile" in p for p in bundled.problems)
    assert len(bundled) > 4000
    matches = bundled.lookup(MIFARE_1K)
    assert [m.exact for m in matches if m.entry.pattern == MIFARE_1K] == [True]
    assert any("Mifare" in d and "1K" in d for m in matches for d in m.entry.descriptions)


def test_bundled_list_is_the_systems_copy() -> None:
    system = atrdb.SYSTEM_PATH
    if not system.is_file():
        pytest.skip("pcsc-tools is not installed")
    assert asset_path("smartcard_list.txt").read_bytes() == system.read_bytes()


def test_every_concrete_atr_agrees_with_the_naive_matcher(bundled: AtrDatabase) -> None:
    """The proof that the dict + length buckets + general list lose nothing:
    each ATR the list spells out gets exactly what a loop over every pattern gives."""
    compiled = [(e, re.compile(e.pattern, re.IGNORECASE)) for e in bundled.entries]
    atrs = bundled.concrete_atrs()
    assert len(atrs) > 3500
    for atr in atrs:
        text = to_hex(atr)
        expected = [e for e, rx in compiled if rx.fullmatch(text)]
        matches = bundled.lookup(atr)
        assert [m.entry for m in matches] == expected, text
        own = [m for m in matches if m.entry.is_concrete]
        assert own and all(m.exact for m in own), text


# -- finding the file -------------------------------------------------------------


def test_database_paths_order(tmp_path: Path) -> None:
    user = tmp_path / "mine.txt"
    bundled = asset_path("smartcard_list.txt")
    assert database_paths(user) == [user, Path("/usr/share/pcsc/smartcard_list.txt"), bundled]
    assert database_paths(str(user))[0] == user
    assert database_paths(None) == [Path("/usr/share/pcsc/smartcard_list.txt"), bundled]


def test_user_list_wins(tmp_path: Path) -> None:
    user = tmp_path / "mine.txt"
    user.write_text("3B 00\n\tmine\n", encoding="utf-8")
    db = load_database(user)
    assert db is not None
    assert db.source == str(user)
    assert [e.descriptions for e in db.entries] == [("mine",)]


def test_missing_user_list_falls_through(tmp_path: Path) -> None:
    db = load_database(tmp_path / "absent.txt")
    assert db is not None
    assert db.source in {str(p) for p in database_paths(None)}
    assert len(db) > 4000


def test_unreadable_and_missing_lists_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = tmp_path / "bundled.txt"
    shutil.copyfile(asset_path("smartcard_list.txt"), bundled)
    monkeypatch.setattr(atrdb, "SYSTEM_PATH", tmp_path / "no-pcsc-tools.txt")
    monkeypatch.setattr(atrdb, "asset_path", lambda *parts: bundled)
    # A directory where a file was expected is unreadable too.
    db = load_database(tmp_path)
    assert db is not None and db.source == str(bundled)
    bundled.unlink()
    assert load_database(None) is None


def test_default_database_is_read_once() -> None:
    atrdb.default_database.cache_clear()
    first = atrdb.default_database()
    assert first is not None
    assert atrdb.default_database() is first
