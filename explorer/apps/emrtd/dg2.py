"""DG2, the encoded face (ICAO Doc 9303-10 4.7.2): the biometric information group template
(7F61), each biometric information template (7F60) with its header (A1) and data block (5F2E),
the ISO/IEC 19794-5:2005 facial record in that block, and the image it ends with."""

from __future__ import annotations

from explorer.apps.emrtd.constants import Header, Tag
from explorer.apps.emrtd.face import FaceError, decode_face, image_format
from explorer.apps.emrtd.lds import template
from explorer.apps.emrtd.reading import Content
from explorer.apps.findings import Finding
from explorer.core.tlv import TlvNode

#: The name of the finding that carries a face image (its raw bytes the encoded image, its value
#: "JPEG 640 x 480"): what the panel looks for to show it.
FACE_IMAGE = "Face image"

_HEADER_NAMES: dict[int, str] = {
    Header.VERSION: "Header version", Header.TYPE: "Biometric type", Header.SUBTYPE: "Biometric subtype",
    Header.CREATION: "Creation date and time", Header.VALIDITY: "Validity period",
    Header.CREATOR: "Creator", Header.FORMAT_OWNER: "Format owner", Header.FORMAT_TYPE: "Format type",
}
_GENDER = {0: "unspecified", 1: "male", 2: "female", 0xFF: "unknown"}
_EYES = {0: "unspecified", 1: "black", 2: "blue", 3: "brown", 4: "gray", 5: "green", 6: "multi-coloured",
         7: "pink", 0xFF: "other or unknown"}
_IMAGE_TYPE = {0: "basic", 1: "full frontal", 2: "token frontal"}
_DATA_TYPE = {0: "JPEG", 1: "JPEG 2000"}
_COLOUR = {0: "unspecified", 1: "24-bit RGB", 2: "YUV422", 3: "8-bit greyscale", 4: "other"}
_SOURCE = {0: "unspecified", 1: "static photo, unknown source", 2: "static photo, digital still",
           3: "static photo, scan", 4: "video frame, unknown source", 5: "video frame, analogue",
           6: "video frame, digital", 7: "unknown"}
#: 19794-5:2005 sizes: record header, facial information, a feature point, image information.
_RECORD_HEADER, _FACE_INFO, _FEATURE_POINT, _IMAGE_INFO = 14, 20, 8, 12


def _header(content: Content, node: TlvNode) -> Finding:
    parts: list[Finding] = []
    for child in node.children:
        name = _HEADER_NAMES.get(child.tag, f"Data object {child.tag_hex}")
        value = child.value.hex().upper()
        if child.tag == Header.TYPE and int.from_bytes(child.value, "big") == 2:
            value = f"{value} (facial features)"
        elif child.tag == Header.FORMAT_OWNER and child.value == b"\x01\x01":
            value = "0101 (ISO/IEC JTC 1 SC 37)"
        elif child.tag == Header.FORMAT_TYPE and child.value == b"\x00\x08":
            value = "0008 (face image, ISO/IEC 19794-5)"
        parts.append(content.at(child.offset, child.end, name, value))
    return content.at(node.offset, node.end, "Biometric header", "", "Who made the record and in "
                      "which format (ISO/IEC 7816-11 header template, 9303-10 4.7.2.1).", parts)


def _u(data: bytes, start: int, size: int) -> int:
    return int.from_bytes(data[start:start + size], "big")


def _image(content: Content, start: int, end: int, declared: str) -> Finding:
    image = content.data[start:end]
    kind = image_format(image)
    if kind is None:
        return content.at(start, end, FACE_IMAGE, f"unknown format, {len(image)} bytes",
                          f"The record says {declared}, but the bytes start "
                          f"{image[:4].hex(' ').upper()}: neither JPEG nor JPEG 2000.",
                          sensitive=True, keep_raw=True)
    try:
        face = decode_face(image)
    except FaceError as exc:
        return content.at(start, end, FACE_IMAGE, f"{kind}, not decoded", str(exc), sensitive=True,
                          keep_raw=True)
    return content.at(start, end, FACE_IMAGE, f"{face.format} {face.width} x {face.height}",
                      f"The holder's portrait, {len(image)} bytes of {face.format}, "
                      f"{face.width} x {face.height} pixels.", sensitive=True, keep_raw=True,
                      image=face.format)


def _facial_record(content: Content, start: int, end: int) -> list[Finding]:
    """ISO/IEC 19794-5:2005: "FAC\\0", version, record length, image count; per image the facial
    information, its feature points, the image information, then the image."""
    data = content.data
    if data[start:start + 4] != b"FAC\x00" or end - start < _RECORD_HEADER + _FACE_INFO + _IMAGE_INFO:
        # ISO/IEC 39794-5 (LDS 2) or something else: find the image by its signature.
        for signature in (b"\xff\xd8\xff", b"\xff\x4f\xff\x51", bytes.fromhex("0000000C6A502020")):
            at = data.find(signature, start, end)
            if at >= 0:
                return [content.at(start, end, "Facial record", "not ISO/IEC 19794-5:2005",
                                   "No FAC header: the image was found by its signature."),
                        _image(content, at, end, "an image")]
        return [content.at(start, end, "Facial record", "not decoded",
                           "Neither an ISO/IEC 19794-5 record (FAC) nor a JPEG or JPEG 2000 image.")]
    version = data[start + 4:start + 7].decode("latin-1")
    out = [content.at(start, start + 14, "Facial record header", f"FAC version {version}",
                      f"{_u(data, start + 8, 4)} bytes, {_u(data, start + 12, 2)} image(s) "
                      "(ISO/IEC 19794-5 5.4).")]
    pos = start + _RECORD_HEADER
    info_start = pos
    block_length = _u(data, pos, 4)
    points = _u(data, pos + 4, 2)
    gender = _GENDER.get(data[pos + 6], f"{data[pos + 6]:02X}")
    eyes = _EYES.get(data[pos + 7], f"{data[pos + 7]:02X}")
    out.append(content.at(pos, pos + _FACE_INFO, "Facial information",
                          f"{points} feature point(s), sex {gender}, eyes {eyes}",
                          f"The facial record block is {block_length} bytes (19794-5 5.5).",
                          sensitive=True))
    pos += _FACE_INFO + _FEATURE_POINT * points
    if pos + _IMAGE_INFO > end:
        return [*out, Finding("Image information", "cut short", "The record ends before it.")]
    kind = _DATA_TYPE.get(data[pos + 1], f"type {data[pos + 1]:02X}")
    width, height = _u(data, pos + 2, 2), _u(data, pos + 4, 2)
    out.append(content.at(pos, pos + _IMAGE_INFO, "Image information",
                          f"{kind}, {width} x {height}",
                          f"Face image type {_IMAGE_TYPE.get(data[pos], str(data[pos]))}, colour space "
                          f"{_COLOUR.get(data[pos + 6], str(data[pos + 6]))}, source "
                          f"{_SOURCE.get(data[pos + 7], str(data[pos + 7]))} (19794-5 5.7)."))
    image_end = min(end, info_start + block_length) if block_length > _FACE_INFO else end
    out.append(_image(content, pos + _IMAGE_INFO, image_end, kind))
    return out


def decode_dg2(content: Content) -> Finding:
    node, problem = template(content, Tag.DG2, "DG2")
    if node is None:
        assert problem is not None
        return problem
    faces: list[Finding] = [problem] if problem else []
    group = next((c for c in node.children if c.tag == Tag.BIOMETRIC_GROUP), None)
    if group is None:
        return content.at(node.offset, node.end, "DG2", "no biometric group (7F61)", "", faces)
    for child in group.children:
        if child.tag == Tag.BIOMETRIC_COUNT and child.value:
            faces.append(content.at(child.offset, child.end, "Number of faces", str(child.value[0])))
        elif child.tag == Tag.BIOMETRIC_TEMPLATE:
            parts: list[Finding] = []
            for part in child.children:
                if part.tag == Tag.BIOMETRIC_HEADER:
                    parts.append(_header(content, part))
                elif part.tag == Tag.BIOMETRIC_DATA:
                    value_start = part.offset + part.header_length
                    parts += _facial_record(content, value_start, part.end)
                elif part.tag == Tag.BIOMETRIC_DATA_ENCIPHERED:
                    parts.append(content.at(part.offset, part.end, "Biometric data", "enciphered",
                                            "7F2E: the data block is enciphered; not shown."))
            image = next((p for p in parts if p.name == FACE_IMAGE), None)
            faces.append(content.at(child.offset, child.end, "Face", image.value if image else "",
                                    "One biometric information template (7F60).", parts))
    shown = next((f.value for f in faces if f.name == "Face"), "no face")
    return content.at(node.offset, node.end, "DG2", shown, "The encoded face (9303-10 4.7.2).", faces)
