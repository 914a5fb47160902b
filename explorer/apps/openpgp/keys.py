"""The public keys, read with GENERATE ASYMMETRIC KEY PAIR in its read-only mode (P1 81, spec
7.2.14: it never changes the card), each one's v4 fingerprint computed and set against the one the
card stores in C5."""

from __future__ import annotations

from explorer.apps.findings import Finding, Source
from explorer.apps.openpgp.appdata import StoredKey, date_text, is_unset
from explorer.apps.openpgp.constants import GenerateMode, Ins, KeySlot, Tag
from explorer.apps.openpgp.fingerprint import FingerprintError, KeyMaterial, packet_body, v4_fingerprint
from explorer.apps.session import AnalysisSession, Answer
from explorer.apps.traced import at, of_node
from explorer.core.hexfmt import to_hex
from explorer.core.status_words import explain
from explorer.core.tlv import TlvNode, decode_tlv


def read_public_key_command(slot: KeySlot) -> bytes:
    """00 47 81 00 02 <CRT> 00 00: read the public key of `slot`, never make one."""
    return bytes([0x00, Ins.GENERATE_ASYMMETRIC_KEY_PAIR, GenerateMode.READ, 0x00, 0x02, slot, 0x00, 0x00])


def _material(node: TlvNode) -> KeyMaterial:
    parts = {child.tag: child.value for child in node.children}
    return KeyMaterial(parts.get(Tag.RSA_MODULUS, b""), parts.get(Tag.RSA_EXPONENT, b""),
                       parts.get(Tag.ECC_POINT, b""))


def _parts(answer: Answer, node: TlvNode) -> list[Finding]:
    out = []
    for child in node.children:
        if child.tag == Tag.RSA_MODULUS:
            bits = int.from_bytes(child.value, "big").bit_length()
            out.append(of_node(answer, child, "Modulus", f"{bits} bits", to_hex(child.value[:8]) + " …"))
        elif child.tag == Tag.RSA_EXPONENT:
            out.append(of_node(answer, child, "Public exponent", str(int.from_bytes(child.value, "big")),
                               to_hex(child.value)))
        elif child.tag == Tag.ECC_POINT:
            out.append(of_node(answer, child, "Public point", f"{len(child.value)} bytes",
                               to_hex(child.value)))
        else:
            out.append(of_node(answer, child, f"Tag {child.tag_hex}", to_hex(child.value), "not a key part"))
    return out


def _check(answer: Answer, node: TlvNode, stored: StoredKey) -> Finding:
    """The computed fingerprint against C5's."""
    where = Source(answer.index, node.offset, node.end)
    if stored.attributes is None:
        return Finding("Fingerprint check", "not computed",
                       "The algorithm attributes (C1-C3) were not read: the key packet cannot be built.",
                       where, answer.data[node.offset : node.end])
    try:
        body = packet_body(stored.attributes, stored.created, _material(node))
        computed = v4_fingerprint(body)
    except FingerprintError as exc:
        return Finding("Fingerprint check", "not computed", f"{exc}.", where,
                       answer.data[node.offset : node.end])
    when = date_text(stored.created) if stored.created else "time 0 (no generation date on the card)"
    how = (f"SHA-1 over 99, the length and the v4 public key packet ({len(body)} bytes: version 4, "
           f"created {when}, {stored.attributes.text}).")
    computed_found = Finding("Computed fingerprint", computed.hex().upper(), how)
    if is_unset(stored.fingerprint) or len(stored.fingerprint) != 20:
        return Finding("Fingerprint check", "no stored fingerprint to compare",
                       "C5 holds no fingerprint for this key.", children=(computed_found,))
    if computed == stored.fingerprint:
        return Finding("Fingerprint check", "matches",
                       "The public key, its generation date and its algorithm give the fingerprint C5 "
                       "stores: the card's key and its fingerprint agree.", children=(computed_found,))
    return Finding("Fingerprint check", "does NOT match",
                   f"C5 stores {stored.fingerprint.hex().upper()}: the public key, the generation date (CD) "
                   "or the algorithm attributes differ from what the fingerprint was made of.",
                   children=(computed_found,))


def read_public_key(session: AnalysisSession, slot: KeySlot, stored: StoredKey) -> Finding:
    command = read_public_key_command(slot)
    answer = session.send(command)
    name = f"{slot.label} ({slot:02X})"
    if not answer.ok:
        found = explain(answer.sw, command)
        return Finding(name, f"not read ({found.hex})", f"GENERATE ASYMMETRIC KEY PAIR (read) answered "
                       f"{found.hex}: {found.text}", Source(answer.index, 0, len(answer.data)), answer.data)
    result = decode_tlv(answer.data)
    node = next((n for n in result.nodes if n.tag == Tag.PUBLIC_KEY), None)
    if node is None:
        why = result.error.message if result.error else "no public key template 7F49 in it"
        return at(answer, 0, len(answer.data), name, "unexpected answer", why)
    children = [*_parts(answer, node), _check(answer, node, stored)]
    check = children[-1].value
    return of_node(answer, node, name, f"{stored.attributes.text if stored.attributes else 'key'}: "
                   f"fingerprint {check}", "The public key template (7F49) GENERATE ASYMMETRIC KEY PAIR "
                   "gives in read mode (P1 81).", children)
