"""The KDF-DO (F9; OpenPGP card spec 3.4, 4.3.2) and the algorithm information (FA, 4.4.3.11).

F9 says whether the card wants each password derived on the host before VERIFY and how: the
Iterated and Salted S2K of RFC 4880 3.7.1.3, with a hash, a count of bytes to feed it, and a
salt per password. It may also hold the hash of each default password, so a host can tell an
unchanged one: those are masked unless revealed, as PINs are. FA lists every algorithm each
key slot accepts, as C1-C3 (and a YubiKey's DA, its attestation key) attributes."""

from __future__ import annotations

from explorer.apps.findings import Finding
from explorer.apps.openpgp.attributes import decode_attributes
from explorer.apps.openpgp.constants import Tag
from explorer.apps.session import Answer
from explorer.apps.traced import of_node
from explorer.core.hexfmt import to_hex
from explorer.core.tlv import TlvNode

KDF_ALGORITHMS = {0x00: "none: passwords go to the card as typed",
                  0x03: "KDF_ITERSALTED_S2K: the host derives each password (RFC 4880 3.7.1.3)"}
KDF_HASHES = {0x08: "SHA-256", 0x0A: "SHA-512"}
_SALTS = {0x84: "PW1", 0x85: "the resetting code", 0x86: "PW3"}
_INITIAL_HASHES = {0x87: "PW1", 0x88: "PW3"}
_SLOT_LABELS: dict[int, str] = {
    Tag.ALGORITHM_ATTRIBUTES_SIG: "Signature key", Tag.ALGORITHM_ATTRIBUTES_DEC: "Decryption key",
    Tag.ALGORITHM_ATTRIBUTES_AUT: "Authentication key", Tag.ATTESTATION_ATTRIBUTES: "Attestation key"}


def _one_byte(answer: Answer, node: TlvNode, name: str, table: dict[int, str]) -> tuple[Finding, int | None]:
    if len(node.value) != 1:
        return of_node(answer, node, name, to_hex(node.value), "should be one byte"), None
    code = node.value[0]
    return of_node(answer, node, name, f"{code:02X}", table.get(code, "a value the specification does not "
                                                                     "define")), code


def decode_kdf(answer: Answer, node: TlvNode) -> Finding:
    children: list[Finding] = []
    algorithm = hash_name = count = None
    for c in node.children:
        if c.tag == 0x81:
            found, algorithm = _one_byte(answer, c, "KDF algorithm", KDF_ALGORITHMS)
        elif c.tag == 0x82:
            found, code = _one_byte(answer, c, "Hash algorithm", KDF_HASHES)
            hash_name = KDF_HASHES.get(code) if code is not None else None
        elif c.tag == 0x83:
            count = int.from_bytes(c.value, "big")
            found = of_node(answer, c, "Iteration count", f"{count:,} bytes",
                            "how many bytes of salt and password, repeated, go into the hash, which "
                            "runs once (RFC 4880's count)")
        elif c.tag in _SALTS:
            found = of_node(answer, c, f"Salt of {_SALTS[c.tag]}", to_hex(c.value),
                            "put before the password when it is hashed")
        elif c.tag in _INITIAL_HASHES:
            found = of_node(answer, c, f"Initial hash of {_INITIAL_HASHES[c.tag]}", to_hex(c.value),
                            "the default password derived, so a host can tell it was never changed; where "
                            "a password search would start from", sensitive=True)
        else:
            found = of_node(answer, c, f"Tag {c.tag_hex}", to_hex(c.value), "not in the specification's F9")
        children.append(found)
    if algorithm == 0x03:
        value = f"iterated and salted S2K, {hash_name or 'unknown hash'}, {count or 0:,} bytes"
    elif algorithm == 0x00 or not node.children:
        value = "none"
    else:
        value = f"algorithm {algorithm:02X}" if algorithm is not None else "no algorithm (81) given"
    return of_node(answer, node, "KDF data object", value,
                   "How the host must derive each password before VERIFY (F9).", children)


def decode_algorithm_information(answer: Answer, node: TlvNode) -> Finding:
    children: list[Finding] = []
    counts: dict[str, int] = {}
    for c in node.children:
        label = _SLOT_LABELS.get(c.tag)
        if label is None:
            children.append(of_node(answer, c, f"Tag {c.tag_hex}", to_hex(c.value),
                                    "not in the specification's FA"))
            continue
        found, _ = decode_attributes(answer, c, label, choice=True)
        children.append(found)
        counts[label] = counts.get(label, 0) + 1
    value = ", ".join(f"{label.split()[0].lower()} {n}" for label, n in counts.items()) or "empty"
    return of_node(answer, node, "Algorithm information", value,
                   "Every algorithm each key accepts (FA), as algorithm attributes: what PUT DATA C1-C3 "
                   "may set.", children)
