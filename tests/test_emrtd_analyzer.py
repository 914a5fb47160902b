"""The eMRTD analyzer over the test passport's files served in plain (BAC faked: the secure channel
is the session's business), its access-control outcomes, BAC's commands, tampering, garbage."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.apps.emrtd import EmrtdAnalyzer
from explorer.apps.emrtd.access import ACCESS_DENIED, AccessDenied, BacRefused, open_secure
from explorer.apps.emrtd.analyzer import PACE_ONLY
from explorer.apps.emrtd.dg2 import FACE_IMAGE
from explorer.apps.emrtd.face import decode_face
from explorer.apps.findings import Finding
from explorer.apps.session import AnalysisSession
from explorer.core.exchange import Reply
from explorer.virtual.filesystem_card import FileSystemCard, profile_card
from explorer.virtual.profile import parse_profile
from tests.app_helpers import values
from tests.profiles import make_emrtd

INFORMATION = "L898902C<369080619406236"
CARD_ACCESS = bytes.fromhex("3114 3012 060A 04007F00070202040202 020102 02010D")


def profile_json(change: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """The committed profile without `bac` (BAC is faked here: the files are served in plain)."""
    obj: dict[str, Any] = json.loads(make_emrtd.render())
    obj.pop("bac")
    if change is not None:
        change(obj)
    return obj


def efs(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    app = obj["files"]["children"][0]
    return {ef["fid"]: ef for ef in app["children"]}


def session_on(obj: dict[str, Any]) -> AnalysisSession:
    card = FileSystemCard(parse_profile(obj))

    def transmit(apdu: bytes) -> Reply:
        r = card(apdu)
        return Reply((), r[:-2], int.from_bytes(r[-2:], "big"))

    return AnalysisSession(transmit)


def plain_bac(session: AnalysisSession, information: str) -> None:
    assert information == INFORMATION


def analyze(obj: dict[str, Any], information: str | None = INFORMATION,
            bac: Callable[[AnalysisSession, str], None] = plain_bac) -> tuple[Finding, AnalysisSession]:
    session = session_on(obj)
    return EmrtdAnalyzer(information, open_secure=bac).analyze(session), session


def assert_traced(root: Finding, session: AnalysisSession) -> int:
    count = 0
    for _, found in root.walk():
        if found.source is not None:
            src = found.source
            assert 0 <= src.start < src.end
            assert found.raw == session.replies[src.exchange].data[src.start:src.end], found.name
            count += 1
    return count


def get(root: Finding, name: str) -> Finding:
    found = root.find(name)
    assert found is not None, [f.name for _, f in root.walk()]
    return found


def test_the_test_passport_read_whole() -> None:
    root, session = analyze(profile_json())
    assert root.name == "Electronic passport (eMRTD)"
    assert root.value.startswith("read with BAC: DG1, DG2, DG11, DG12; SOD signature valid")
    assert values(root)["EF.CardAccess"] == "absent"
    assert values(root)["Basic Access Control"] == "established"
    dg1 = values(get(root, "DG1"))
    assert (dg1["Document number"], dg1["Date of birth"], dg1["Date of expiry"], dg1["Sex"]) == (
        "L898902C", "690806", "940623", "F")
    face = get(root, FACE_IMAGE)
    assert face.value == "JPEG 90 x 120"
    assert decode_face(face.raw).width == 90
    assert get(root, "Signature").value.startswith("valid")
    hashes = get(root, "Data group hashes")
    assert hashes.value == "all 4 match"
    assert values(hashes) == {f"DG{n}": "hash OK" for n in (1, 2, 11, 12)}
    assert assert_traced(root, session) > 30


def test_reads_stay_short_enough_for_secure_messaging() -> None:
    _, session = analyze(profile_json())
    assert max(len(r.data) for r in session.replies) <= 0xDF


def test_one_byte_changed_in_dg2_fails_its_hash_and_names_it() -> None:
    def tamper(obj: dict[str, Any]) -> None:
        ef = efs(obj)["0102"]
        data = bytearray.fromhex(ef["content"])
        data[-20] ^= 0x01  # in the JPEG's entropy-coded data
        ef["content"] = data.hex()

    root, _ = analyze(profile_json(tamper))
    assert get(root, "Data group hashes").value == "DG2: hash does not match the SOD"
    assert values(get(root, "Data group hashes"))["DG1"] == "hash OK"
    assert get(root, "Signature").value.startswith("valid")  # the SOD itself is untouched
    assert "DG2: hash does not match the SOD" in root.value


def test_without_the_mrz_what_needs_no_access_control_is_read_and_the_mrz_asked_for() -> None:
    def lock(obj: dict[str, Any]) -> None:
        for ef in efs(obj).values():
            ef["read"] = "never"

    root, _ = analyze(profile_json(lock), information=None)
    assert values(root)["Basic Access Control"] == "MRZ needed"
    assert values(root)["eMRTD application"] == "selected"
    assert root.value == "MRZ needed"
    assert root.find("DG1") is None


def test_a_chip_without_access_control_is_read_in_plain_without_the_mrz() -> None:
    root, _ = analyze(profile_json(), information=None)
    assert values(root)["Basic Access Control"] == "not needed"
    assert root.value.startswith("read in plain (no access control): DG1, DG2, DG11, DG12")


def test_a_wrong_mrz_is_access_denied_not_an_exception() -> None:
    def refuse(session: AnalysisSession, information: str) -> None:
        raise AccessDenied(ACCESS_DENIED + " (the card answered 63 00)")

    root, _ = analyze(profile_json(), bac=refuse)
    assert root.value == ACCESS_DENIED
    assert values(root)["Basic Access Control"] == ACCESS_DENIED
    assert root.find("DG1") is None


def _with_card_access(obj: dict[str, Any]) -> None:
    obj["files"]["children"].append({"fid": "011C", "type": "EF", "structure": "transparent",
                                     "content": CARD_ACCESS.hex()})


def test_pace_only_document() -> None:
    def no_bac(session: AnalysisSession, information: str) -> None:
        raise BacRefused("GET CHALLENGE answered 6D00 with 0 bytes")

    root, _ = analyze(profile_json(_with_card_access), bac=no_bac)
    assert values(root)["EF.CardAccess"] == "PACE supported"
    assert root.value == PACE_ONLY


def test_a_wrong_mrz_on_a_pace_document_mentions_pace_only() -> None:
    def refuse(session: AnalysisSession, information: str) -> None:
        raise AccessDenied(ACCESS_DENIED)

    root, _ = analyze(profile_json(_with_card_access), bac=refuse)
    assert root.value == ACCESS_DENIED
    assert PACE_ONLY in get(root, "Basic Access Control").explanation


def test_not_a_passport() -> None:
    def other(obj: dict[str, Any]) -> None:
        obj["files"]["children"][0]["name"] = "A0000000041010"

    root, _ = analyze(profile_json(other))
    assert root.value == "not an eMRTD"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=90), min_size=1, max_size=12), st.sampled_from([0x9000, 0x6282, 0x6982]))
def test_garbage_answers_never_raise(answers: list[bytes], sw: int) -> None:
    """A card answering anything: the analysis ends with findings, each pointing at its bytes."""
    replies = iter(answers * 40)
    session = AnalysisSession(lambda apdu: Reply((), next(replies, b""), sw))
    root = EmrtdAnalyzer(INFORMATION, open_secure=plain_bac).analyze(session)
    assert root.name == "Electronic passport (eMRTD)"
    assert_traced(root, session)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 255))
def test_any_one_byte_changed_in_any_file_never_raises(position: int, value: int) -> None:
    """Structured garbage: the real files, one byte replaced (lengths, tags, the certificate…)."""
    def change(obj: dict[str, Any]) -> None:
        files = list(efs(obj).values())
        total = sum(len(ef["content"]) // 2 for ef in files)
        at = position % total
        for ef in files:
            size = len(ef["content"]) // 2
            if at < size:
                data = bytearray.fromhex(ef["content"])
                data[at] = value
                ef["content"] = data.hex()
                return
            at -= size

    root, session = analyze(profile_json(change))
    assert_traced(root, session)


def test_a_data_group_the_card_stops_sending_is_not_hash_checked_and_said_so() -> None:
    card = FileSystemCard(parse_profile(profile_json()))
    selected: list[bytes] = []

    def transmit(apdu: bytes) -> Reply:
        if apdu[1] == 0xA4:
            selected.append(apdu[-2:])
        if apdu[1] == 0xB0 and selected[-1] == b"\x01\x02" and apdu[2:4] >= b"\x02\x00":
            return Reply((), b"", 0x6581)  # memory failure half-way through DG2
        r = card(apdu)
        return Reply((), r[:-2], int.from_bytes(r[-2:], "big"))

    session = AnalysisSession(transmit)
    root = EmrtdAnalyzer(INFORMATION, open_secure=plain_bac).analyze(session)
    hashes = get(root, "Data group hashes")
    assert hashes.value == "DG2: not read whole"
    assert values(hashes)["DG1"] == "hash OK"
    assert get(root, "DG2").value == "not decoded"
    assert "runs past the end" in get(root, "DG2").explanation



def passport_session(obj: dict[str, Any] | None = None) -> tuple[AnalysisSession, list[bytes]]:
    """A session on the virtual passport (explorer.virtual.bac_card: BAC, then secure messaging
    only) made from the profile, `bac` key and all; what crossed the wire kept."""
    card = profile_card(parse_profile(obj if obj is not None else json.loads(make_emrtd.render())))
    wire: list[bytes] = []

    def down(apdu: bytes) -> bytes:
        raw = card(apdu)
        wire.append(raw)
        return raw

    def plain(apdu: bytes) -> Reply:
        raw = down(apdu)
        return Reply((), raw[:-2], int.from_bytes(raw[-2:], "big"))

    def protected(apdu: bytes, channel: Any) -> Reply:
        raw = channel.unwrap(down(channel.wrap(apdu)))
        return Reply((), raw[:-2], int.from_bytes(raw[-2:], "big"))

    return AnalysisSession(plain, secure_transmit=protected), wire


def test_open_secure_does_bac_and_secures_the_session() -> None:
    session, wire = passport_session()
    assert session.send(bytes.fromhex("00A4040C07A0000002471001")).ok
    open_secure(session, INFORMATION)
    assert session.secured
    assert len(session.replies) == 3
    assert (len(session.replies[1].data), len(session.replies[2].data)) == (8, 40)
    assert session.send(bytes.fromhex("00A4020C02011E")).ok  # protected from here on
    assert len(wire[-1]) > 2 and wire[-1][-2:] == b"\x90\x00"


def test_open_secure_with_a_wrong_mrz_is_access_denied() -> None:
    session, _ = passport_session()
    assert session.send(bytes.fromhex("00A4040C07A0000002471001")).ok
    with pytest.raises(AccessDenied, match=f"^{ACCESS_DENIED}"):
        open_secure(session, "L898902C<369080619406237")
    assert not session.secured


def test_open_secure_on_a_card_without_bac_is_refused() -> None:
    session = session_on(profile_json())  # the file system alone: a challenge, but no BAC
    with pytest.raises(BacRefused, match="EXTERNAL AUTHENTICATE answered 6D00"):
        open_secure(session, INFORMATION)
    with pytest.raises(BacRefused, match="GET CHALLENGE answered 6D00"):
        open_secure(AnalysisSession(lambda apdu: Reply((), b"", 0x6D00)), INFORMATION)


def test_the_virtual_passport_read_with_bac_and_secure_messaging() -> None:
    session, wire = passport_session()
    root = EmrtdAnalyzer(INFORMATION).analyze(session)
    assert values(root)["Basic Access Control"] == "established"
    assert get(root, "Data group hashes").value == "all 4 match"
    assert get(root, FACE_IMAGE).value == "JPEG 90 x 120"
    assert get(root, "Signature").value.startswith("valid")
    # Every protected answer fits Le 00 at once: no 61xx for GET RESPONSE to collect.
    assert max(len(raw) for raw in wire) <= 256 + 2 and not any(raw[-2] == 0x61 for raw in wire)
    assert assert_traced(root, session) > 30


def test_the_virtual_passport_with_a_wrong_mrz() -> None:
    session, _ = passport_session()
    root = EmrtdAnalyzer("L898902C<369080619406237").analyze(session)  # the expiry's digit is wrong
    assert root.value == ACCESS_DENIED
    assert values(root)["Basic Access Control"] == ACCESS_DENIED
    assert "63 00" in get(root, "Basic Access Control").explanation or "6300" in get(
        root, "Basic Access Control").explanation


def test_the_virtual_passport_without_the_mrz_asks_for_it() -> None:
    session, _ = passport_session()
    root = EmrtdAnalyzer().analyze(session)
    assert root.value == "MRZ needed"


def test_the_virtual_passport_with_dg2_tampered_names_dg2() -> None:
    obj = json.loads(make_emrtd.render())
    ef = efs(obj)["0102"]
    data = bytearray.fromhex(ef["content"])
    data[-20] ^= 0x01
    ef["content"] = data.hex()
    session, _ = passport_session(obj)
    root = EmrtdAnalyzer(INFORMATION).analyze(session)
    assert get(root, "Data group hashes").value == "DG2: hash does not match the SOD"
    assert values(get(root, "Data group hashes"))["DG12"] == "hash OK"


def test_a_mac_failure_mid_reading_keeps_what_was_read_and_names_it() -> None:
    from explorer.core.card_errors import SecureMessagingFailed

    session, _ = passport_session()
    protected = session.secure_transmit
    assert protected is not None
    count = 0

    def failing(apdu: bytes, channel: Any) -> Reply:
        nonlocal count
        count += 1
        if count == 8:  # somewhere in DG1/DG2
            raise SecureMessagingFailed("Virtual", sentence="secure messaging failed: the MAC is wrong")
        return protected(apdu, channel)

    session.secure_transmit = failing
    root = EmrtdAnalyzer(INFORMATION).analyze(session)
    assert root.value == "secure messaging failed"
    assert values(root)["Secure messaging"] == "failed"
    assert values(root)["EF.COM"] == "DG1, DG2, DG11, DG12"  # read before, kept
    assert root.find("EF.SOD") is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=60), min_size=1, max_size=8), st.sampled_from([0x9000, 0x6300, 0x6D00]))
def test_garbage_answers_to_the_real_bac_never_raise(answers: list[bytes], sw: int) -> None:
    replies = iter(answers * 40)

    def garbage(apdu: bytes, channel: Any = None) -> Reply:
        return Reply((), next(replies, b""), sw)

    session = AnalysisSession(garbage, secure_transmit=garbage)
    root = EmrtdAnalyzer(INFORMATION).analyze(session)
    assert root.name == "Electronic passport (eMRTD)"
    assert_traced(root, session)
