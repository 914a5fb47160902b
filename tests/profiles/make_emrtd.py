"""Makes resources/cards/emrtd.json, the test passport: its LDS files written from ICAO Doc 9303-10
and its EF.SOD signed by a TEST document signer under a TEST country signing CA.

The keys (RSA 2048) and the face images are made once and committed beside this script, so the
profile comes out byte for byte the same on every run (RSA PKCS#1 v1.5 signatures are
deterministic, the certificates have fixed dates and serial numbers):

    python -m tests.profiles.make_emrtd          # rewrites resources/cards/emrtd.json
    python -m tests.profiles.make_emrtd --check  # exit 1 when the committed file differs

THE KEYS HERE ARE TEST KEYS, published on purpose: they sign nothing but this test profile.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from PIL import Image, ImageDraw

from tests.profiles import writer
from tests.profiles.der import integer, oid, seq, tlv

HERE = Path(__file__).resolve().parent
PROFILE = HERE.parent.parent / "resources" / "cards" / "emrtd.json"
CSCA_KEY = HERE / "emrtd_TEST_csca_key.pem"
DS_KEY = HERE / "emrtd_TEST_document_signer_key.pem"
FACE_JPEG = HERE / "emrtd_face.jpg"
FACE_JP2 = HERE / "emrtd_face.jp2"

#: ICAO 9303's specimen (Part 11's BAC worked example uses this number and these dates).
MRZ = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
       "L898902C<3UTO6908061F9406236ZE184226B<<<<<14")
BAC = {"document_number": "L898902C<", "date_of_birth": "690806", "date_of_expiry": "940623"}
AID = "A0000002471001"
SIGNING_TIME = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


# -- DER, as far as the SOD needs it (encoding only: the signature is cryptography's) -------------

SHA256 = seq(oid("2.16.840.1.101.3.4.2.1"), b"\x05\x00")
SHA256_RSA = seq(oid("1.2.840.113549.1.1.11"), b"\x05\x00")


# -- keys, certificates, images (made once, committed) ----------------------------------------

def _key(path: Path) -> rsa.RSAPrivateKey:
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    loaded = serialization.load_pem_private_key(path.read_bytes(), None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Card Explorer TEST (not a state)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def certificates() -> tuple[x509.Certificate, x509.Certificate, rsa.RSAPrivateKey]:
    csca_key, ds_key = _key(CSCA_KEY), _key(DS_KEY)
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    csca_name = _name("TEST country signing CA")
    csca = (x509.CertificateBuilder().subject_name(csca_name).issuer_name(csca_name)
            .public_key(csca_key.public_key()).serial_number(0x1001)
            .not_valid_before(start).not_valid_after(start.replace(year=2039))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .sign(csca_key, hashes.SHA256()))
    ds = (x509.CertificateBuilder().subject_name(_name("TEST document signer"))
          .issuer_name(csca_name).public_key(ds_key.public_key()).serial_number(0x2002)
          .not_valid_before(start).not_valid_after(start.replace(year=2034))
          .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                         critical=True)
          .sign(csca_key, hashes.SHA256()))
    return csca, ds, ds_key


def _draw_face() -> Image.Image:
    """A cartoon portrait, 90 x 120 (no one's face)."""
    img = Image.new("RGB", (90, 120), (200, 215, 230))
    d = ImageDraw.Draw(img)
    d.ellipse((18, 14, 72, 86), fill=(236, 196, 164), outline=(120, 80, 60))
    d.chord((14, 6, 76, 60), 180, 360, fill=(90, 60, 40))
    d.ellipse((30, 42, 38, 48), fill=(60, 40, 30))
    d.ellipse((52, 42, 60, 48), fill=(60, 40, 30))
    d.line((45, 50, 42, 62, 47, 62), fill=(150, 100, 80), width=2)
    d.arc((34, 60, 56, 76), 20, 160, fill=(160, 60, 60), width=2)
    d.rectangle((24, 92, 66, 120), fill=(40, 70, 120))
    return img


def faces() -> tuple[bytes, bytes]:
    """The portrait as JPEG and as a JPEG 2000 codestream."""
    if not FACE_JPEG.exists():
        out = io.BytesIO()
        _draw_face().save(out, "JPEG", quality=60)
        FACE_JPEG.write_bytes(out.getvalue())
    if not FACE_JP2.exists():
        out = io.BytesIO()
        _draw_face().save(out, "JPEG2000", irreversible=True, quality_mode="rates", quality_layers=[20],
                          no_jp2=True)
        FACE_JP2.write_bytes(out.getvalue())
    return FACE_JPEG.read_bytes(), FACE_JP2.read_bytes()


# -- the LDS files ------------------------------------------------------------------------------

def ef_com(groups: list[int]) -> bytes:
    tags = bytes({1: 0x61, 2: 0x75, 11: 0x6B, 12: 0x6C}[g] for g in groups)
    return tlv(0x60, tlv(0x5F01, b"0107") + tlv(0x5F36, b"040000") + tlv(0x5C, tags))


def dg1(mrz: str = MRZ) -> bytes:
    return tlv(0x61, tlv(0x5F1F, mrz.encode("ascii")))


def facial_record(image: bytes, jpeg2000: bool, width: int = 90, height: int = 120) -> bytes:
    """ISO/IEC 19794-5:2005: record header, one facial information block (no feature points),
    image information, the image."""
    info = (len(image) + 32).to_bytes(4, "big") + b"\x00\x00" + bytes([2, 3, 4]) + bytes(3) + bytes(2) \
        + bytes(3) + bytes(3)
    image_info = bytes([1, 1 if jpeg2000 else 0]) + width.to_bytes(2, "big") + height.to_bytes(2, "big") \
        + bytes([1, 2]) + bytes(2) + bytes(2)
    body = info + image_info + image
    return b"FAC\x00" + b"010\x00" + (14 + len(body)).to_bytes(4, "big") + b"\x00\x01" + body


def dg2(image: bytes, jpeg2000: bool = False) -> bytes:
    header = tlv(0xA1, tlv(0x80, b"\x01\x01") + tlv(0x81, b"\x02") + tlv(0x87, b"\x01\x01")
                 + tlv(0x88, b"\x00\x08"))
    template = tlv(0x7F60, header + tlv(0x5F2E, facial_record(image, jpeg2000)))
    return tlv(0x75, tlv(0x7F61, tlv(0x02, b"\x01") + template))


def dg11() -> bytes:
    elements = [(0x5F0E, "ERIKSSON<<ANNA<MARIA"), (0x5F10, "123456789"), (0x5F2B, "19690806"),
                (0x5F11, "ZENITH<UTOPIA"), (0x5F42, "123 MAPLE STREET<ZENITH<UTOPIA"),
                (0x5F13, "TEST PILOT")]
    tags = b"".join(t.to_bytes(2, "big") for t, _ in elements)
    return tlv(0x6B, tlv(0x5C, tags) + b"".join(tlv(t, v.encode()) for t, v in elements))


def dg12() -> bytes:
    elements = [(0x5F19, "UTOPIA PASSPORT OFFICE"), (0x5F26, "19890623"), (0x5F55, "19890620101500")]
    tags = b"".join(t.to_bytes(2, "big") for t, _ in elements)
    return tlv(0x6C, tlv(0x5C, tags) + b"".join(tlv(t, v.encode()) for t, v in elements))


def lds_security_object(groups: dict[int, bytes]) -> bytes:
    hashed = b"".join(seq(integer(n), tlv(0x04, hashlib.sha256(data).digest()))
                      for n, data in sorted(groups.items()))
    return seq(integer(0), SHA256, seq(hashed))


def sod(groups: dict[int, bytes]) -> bytes:
    """EF.SOD: 77 { ContentInfo { signedData, [0] SignedData } } (RFC 5652, 9303-10 4.6.2)."""
    _, ds, ds_key = certificates()
    econtent = lds_security_object(groups)
    when = tlv(0x17, SIGNING_TIME.strftime("%y%m%d%H%M%SZ").encode())
    attributes = (seq(oid("1.2.840.113549.1.9.3"), tlv(0x31, oid("2.23.136.1.1.1")))
                  + seq(oid("1.2.840.113549.1.9.5"), tlv(0x31, when))
                  + seq(oid("1.2.840.113549.1.9.4"), tlv(0x31, tlv(0x04, hashlib.sha256(econtent).digest()))))
    signature = ds_key.sign(tlv(0x31, attributes), padding.PKCS1v15(), hashes.SHA256())
    signer = seq(integer(1), seq(ds.issuer.public_bytes(), integer(ds.serial_number)), SHA256,
                 tlv(0xA0, attributes), SHA256_RSA, tlv(0x04, signature))
    signed_data = seq(integer(3), tlv(0x31, SHA256),
                      seq(oid("2.23.136.1.1.1"), tlv(0xA0, tlv(0x04, econtent))),
                      tlv(0xA0, ds.public_bytes(serialization.Encoding.DER)),
                      tlv(0x31, signer))
    return tlv(0x77, seq(oid("1.2.840.113549.1.7.2"), tlv(0xA0, signed_data)))


def files() -> dict[str, bytes]:
    """The passport's files by name, as the profile holds them."""
    jpeg, _ = faces()
    groups = {1: dg1(), 2: dg2(jpeg), 11: dg11(), 12: dg12()}
    return {"EF.COM": ef_com(sorted(groups)), "DG1": groups[1], "DG2": groups[2], "DG11": groups[11],
            "DG12": groups[12], "EF.SOD": sod(groups)}


FIDS = {"EF.COM": "011E", "DG1": "0101", "DG2": "0102", "DG11": "010B", "DG12": "010C", "EF.SOD": "011D"}
#: Short EF identifiers (9303-10 table 38): the FID's low byte.
SFIS = {name: int(fid[2:], 16) for name, fid in FIDS.items()}
_WHAT = {"EF.COM": "LDS 1.7, Unicode 4.0.0, data groups 1, 2, 11, 12",
         "DG1": "the MRZ: " + MRZ[:44] + " / " + MRZ[44:],
         "DG2": "one face, ISO/IEC 19794-5:2005, a 90 x 120 JPEG portrait (a drawing)",
         "DG11": "full name, personal number, full date of birth, place of birth, address, profession",
         "DG12": "issuing authority, date of issue, date of personalization",
         "EF.SOD": "CMS SignedData: LDS security object with SHA-256 hashes of DG1, DG2, DG11, DG12, "
                   "signed RSA PKCS#1 v1.5 SHA-256 by the TEST document signer"}


def profile() -> dict[str, object]:
    made = files()
    children = [{"fid": FIDS[name], "type": "EF", "structure": "transparent", "sfi": SFIS[name],
                 "_": _WHAT[name], "content": data.hex().upper()} for name, data in made.items()]
    return {
        "format": "card-explorer-profile",
        "version": 1,
        "name": "Test passport (ICAO 9303 eMRTD, BAC)",
        "description": (
            "An electronic passport written from ICAO Doc 9303 Parts 10 and 11 for testing the eMRTD "
            "analyzer; made by tests/profiles/make_emrtd.py (do not edit by hand). The holder is 9303's "
            "specimen, ANNA MARIA ERIKSSON of Utopia (UTO); the MRZ is the one 9303-11's BAC worked "
            "example uses: document number L898902C< (check digit 3), born 690806, expires 940623, so "
            "the BAC key seed comes from MRZ information L898902C<369080619406236. The eMRTD "
            f"application {AID} holds EF.COM, DG1, DG2 (a drawn portrait as JPEG), DG11, DG12 and EF.SOD "
            "signed by a TEST document signer under a TEST country signing CA (RSA 2048, keys "
            "published beside the script: they prove nothing). No EF.CardAccess: the chip does BAC, "
            "not PACE. The `bac` key (the same MRZ fields) makes the virtual card do BAC and secure "
            "messaging."),
        "_atr": "The ATR a PC/SC reader makes for an ISO 14443-4 card without historical bytes "
                "(PC/SC part 3 3.1.3.2.3): 3B 80 80 01, TCK 01.",
        "atr": "3B 80 80 01 01",
        "t0": False,
        "bac": BAC,
        "files": {"fid": "3F00", "type": "MF", "children": [
            {"fid": "0100", "type": "DF", "name": AID, "_": "the LDS1 eMRTD application",
             "children": children}]},
    }


def render() -> str:
    return json.dumps(profile(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.exit(writer.main(sys.argv[1:], PROFILE, render))
