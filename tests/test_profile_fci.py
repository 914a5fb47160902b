"""A profile's DF may give its own FCI (`fci`): SELECT answers it as given, for applications
whose FCI is not a file's (a GlobalPlatform security domain, an EMV application)."""

from __future__ import annotations

from typing import Any

import pytest

from explorer.virtual.filesystem_card import FileSystemCard
from explorer.virtual.profile import ProfileError, parse_profile

ISD_FCI = "6F 10 84 08 A0 00 00 01 51 00 00 00 A5 04 9F 65 01 FF"


def profile(**mf: Any) -> dict[str, Any]:
    return {"format": "card-explorer-profile", "version": 1, "name": "t", "atr": "3B 00",
            "files": {"fid": "3F00", "type": "MF", "name": "A0 00 00 01 51 00 00 00", **mf,
                      "children": [{"fid": "7F10", "type": "DF", "name": "F0 01", "label": "App"}]}}


def test_select_answers_the_given_fci() -> None:
    card = FileSystemCard(parse_profile(profile(fci=ISD_FCI)))
    fci = bytes.fromhex(ISD_FCI)
    assert card(bytes.fromhex("00A4040000")) == fci + b"\x90\x00"  # the default SELECT
    assert card(bytes.fromhex("00A4040008A00000015100000000")) == fci + b"\x90\x00"
    # The FCP is still the file's, and a DF without `fci` keeps the FCI built from it.
    assert card(bytes.fromhex("00A4040400"))[:1] == b"\x62"
    built = card(bytes.fromhex("00A4040002F00100"))
    assert built[:1] == b"\x6f" and b"\x50\x03App" in built


@pytest.mark.parametrize(("mf", "message"), [
    ({"fci": ISD_FCI, "label": "ISD"}, "give fci or label, not both"),
    ({"fci": ISD_FCI, "fci_proprietary": "9F 65 01 FF"}, "give fci or fci_proprietary, not both"),
    ({"fci": "84 02 A0 00"}, "one FCI template (6F)"),
    ({"fci": ISD_FCI + " 90 00"}, "one FCI template (6F) and nothing after it"),
    ({"fci": "6F 05 84 03 A0"}, "fci is not BER-TLV"),
    ({"fci": "6F"}, "fci must have 2 to 255 bytes"),
    ({"fci": "6F zz"}, "fci is not hex"),
])
def test_a_bad_fci_is_named(mf: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError, match="files") as caught:
        parse_profile(profile(**mf), "card.json")
    assert message in str(caught.value)
