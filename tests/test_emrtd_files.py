"""The LDS files of the test passport decoded one by one (EF.COM, DG1, DG2 in JPEG and JPEG 2000,
DG11, DG12, EF.SOD), EF.CardAccess with PACE, and the face image decoder."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from explorer.apps.emrtd.cardaccess import decode_card_access
from explorer.apps.emrtd.dg2 import FACE_IMAGE, decode_dg2
from explorer.apps.emrtd.face import FaceError, decode_face
from explorer.apps.emrtd.lds import decode_com, decode_dg1, decode_dg11, decode_dg12
from explorer.apps.emrtd.reading import Content, declared_length, single
from explorer.apps.emrtd.sod import check_hashes, decode_sod
from explorer.apps.findings import Finding
from tests.app_helpers import answer, values
from tests.profiles import make_emrtd

FILES = make_emrtd.files()
JPEG, JP2 = make_emrtd.faces()


def content(data: bytes) -> Content:
    return single(answer(data))


def child(found: Finding, name: str) -> Finding:
    got = found.find(name)
    assert got is not None, [f.name for _, f in found.walk()]
    return got


def test_ef_com_lists_the_data_groups() -> None:
    numbers, found = decode_com(content(FILES["EF.COM"]))
    assert numbers == [1, 2, 11, 12]
    assert values(found) == {"LDS version": "01.07", "Unicode version": "04.00.00",
                             "Data groups present": "DG1, DG2, DG11, DG12"}


def test_dg1_fields_point_at_their_characters_and_are_sensitive() -> None:
    data = FILES["DG1"]
    found = decode_dg1(content(data))
    assert found.value == "ERIKSSON, ANNA MARIA"
    number = child(found, "Document number")
    assert (number.value, number.raw, number.sensitive) == ("L898902C", b"L898902C<", True)
    assert number.source is not None and data[number.source.start:number.source.end] == b"L898902C<"
    assert values(found)["Check digits"] == "every check digit right"
    assert values(found)["Date of expiry"] == "940623"


def test_dg1_with_a_wrong_check_digit_is_shown_and_named() -> None:
    mrz = make_emrtd.MRZ[:44 + 19] + "2" + make_emrtd.MRZ[44 + 20:]
    found = decode_dg1(content(make_emrtd.dg1(mrz)))
    assert values(found)["Check digits"].startswith("Date of birth: check digit is 2, should be 1")
    assert "WRONG" in child(found, "Date of birth").explanation


def test_dg2_jpeg_face_with_its_size_and_bytes() -> None:
    found = decode_dg2(content(FILES["DG2"]))
    face = child(found, FACE_IMAGE)
    assert face.value == "JPEG 90 x 120"
    assert face.raw == JPEG and face.sensitive
    assert values(child(found, "Face"))["Image information"] == "JPEG, 90 x 120"
    assert child(found, "Format type").value.startswith("0008")


def test_dg2_jpeg2000_face_is_decoded() -> None:
    found = decode_dg2(content(make_emrtd.dg2(JP2, jpeg2000=True)))
    face = child(found, FACE_IMAGE)
    assert face.value == "JPEG 2000 90 x 120"
    image = decode_face(face.raw)
    assert (image.format, image.width, image.height) == ("JPEG 2000", 90, 120)
    with Image.open(io.BytesIO(image.png)) as png:
        assert (png.format, png.size) == ("PNG", (90, 120))


def test_a_jp2_file_is_recognised_too() -> None:
    out = io.BytesIO()
    Image.new("L", (8, 6), 128).save(out, "JPEG2000")  # the JP2 file format, with its boxes
    assert out.getvalue()[:8] == bytes.fromhex("0000000C6A502020")
    assert (decode_face(out.getvalue()).width, decode_face(out.getvalue()).height) == (8, 6)


def test_a_broken_image_is_a_face_error_not_an_exception() -> None:
    with pytest.raises(FaceError, match="JPEG not decoded"):
        decode_face(JPEG[:40])
    with pytest.raises(FaceError, match="neither JPEG"):
        decode_face(b"GIF89a")
    found = decode_dg2(content(make_emrtd.dg2(JPEG[:100])))
    assert child(found, FACE_IMAGE).value == "JPEG, not decoded"


def test_dg2_without_a_19794_header_finds_the_image_by_its_signature() -> None:
    data = make_emrtd.tlv(0x75, make_emrtd.tlv(0x7F61, make_emrtd.tlv(0x02, b"\x01") + make_emrtd.tlv(
        0x7F60, make_emrtd.tlv(0x5F2E, b"\xa1\x03\x80\x01\x00" + JPEG))))
    found = decode_dg2(content(data))
    assert child(found, "Facial record").value == "not ISO/IEC 19794-5:2005"
    assert child(found, FACE_IMAGE).value == "JPEG 90 x 120"


def test_dg11_and_dg12() -> None:
    dg11 = decode_dg11(content(FILES["DG11"]))
    assert dg11.value == "ERIKSSON, ANNA MARIA"
    got = values(dg11)
    assert got["Full date of birth"] == "1969-08-06"
    assert got["Place of birth"] == "ZENITH, UTOPIA"
    assert all(f.sensitive for f in dg11.children if f.name != "Tags present")
    dg12 = decode_dg12(content(FILES["DG12"]))
    assert values(dg12) == {"Tags present": "5F 19 5F 26 5F 55",
                            "Issuing authority": "UTOPIA PASSPORT OFFICE", "Date of issue": "1989-06-23",
                            "Date and time of personalization": "1989-06-20 10:15:00"}


def test_sod_certificate_signature_and_hashes() -> None:
    sod = decode_sod(content(FILES["EF.SOD"]))
    assert sod.signature_valid and sod.finding.value == "signature valid"
    assert sod.hash_name == "sha256"
    assert sod.hashes == {n: hashlib.sha256(FILES[f"DG{n}"]).digest() for n in (1, 2, 11, 12)}
    cert = child(sod.finding, "Document signer certificate")
    assert values(cert)["Issuer"] == "CN=TEST country signing CA,O=Card Explorer TEST (not a state),C=UT"
    assert values(cert)["Public key"] == "RSA 2048 bits"
    assert child(sod.finding, "Signed attributes").value == "digest matches"
    assert child(sod.finding, "Signing time").value == "2024-01-02 03:04:05 UTC"
    assert "WITHOUT the country signing CA" in child(sod.finding, "Passive authentication").explanation
    groups = {n: FILES[f"DG{n}"] for n in (1, 2, 11, 12)}
    assert check_hashes(sod, groups).value == "all 4 match"
    groups[2] = groups[2][:-1] + bytes([groups[2][-1] ^ 1])
    assert check_hashes(sod, groups).value == "DG2: hash does not match the SOD"


def test_sod_with_a_changed_signature_or_content_is_not_valid() -> None:
    data = bytearray(FILES["EF.SOD"])
    data[-10] ^= 0xFF  # inside the signature
    sod = decode_sod(content(bytes(data)))
    assert not sod.signature_valid
    assert child(sod.finding, "Signature").value.startswith("INVALID")
    changed = FILES["EF.SOD"].replace(hashlib.sha256(FILES["DG1"]).digest(), bytes(32))
    sod = decode_sod(content(changed))
    assert child(sod.finding, "Signed attributes").value == "digest does NOT match"
    assert not sod.signature_valid


def test_sod_that_is_not_cms_says_so() -> None:
    sod = decode_sod(content(bytes.fromhex("7705 3003 020101")))
    assert sod.finding.value == "not decoded" and "object identifier" in sod.finding.explanation


def test_card_access_names_pace() -> None:
    # PACEInfo: id-PACE-ECDH-GM-AES-CBC-CMAC-128, version 2, parameters 13 (BrainpoolP256r1).
    data = bytes.fromhex("3114 3012 060A 04007F00070202040202 020102 02010D")
    found = decode_card_access(content(data))
    assert found.pace == ("ECDH, generic mapping, AES-CBC-CMAC-128, parameters 13: BrainpoolP256r1",)
    assert found.finding.value == "PACE supported"


def test_declared_length() -> None:
    assert declared_length(bytes.fromhex("6082 0123")) == 4 + 0x123
    assert declared_length(bytes.fromhex("7F61 05")) == 8
    assert declared_length(bytes.fromhex("6081")) is None
    assert declared_length(b"") is None
