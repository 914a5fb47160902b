"""The committed test passport is what its generator makes, and a profile the emulator loads."""

from __future__ import annotations

import json

from explorer.assets import asset_path
from explorer.virtual.profile import load_profile
from tests.profiles import make_emrtd


def test_committed_profile_is_the_generators_output() -> None:
    committed = asset_path("cards", "emrtd.json").read_text(encoding="utf-8")
    assert committed == make_emrtd.render(), "run: python -m tests.profiles.make_emrtd"


def test_profile_loads_and_documents_its_mrz() -> None:
    obj = json.loads(make_emrtd.render())
    assert obj["bac"] == {"document_number": "L898902C<", "date_of_birth": "690806",
                          "date_of_expiry": "940623"}
    assert "L898902C<369080619406236" in obj["description"]
    profile = load_profile(asset_path("cards", "emrtd.json"))
    assert profile.atr == bytes.fromhex("3B80800101")
    assert profile.bac is not None and profile.bac.mrz_information == "L898902C<369080619406236"
    assert len(asset_path("cards", "emrtd.json").read_bytes()) < 60_000


def test_the_sod_is_signed_by_the_document_signer_the_test_csca_issued() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    csca, ds, _ = make_emrtd.certificates()
    key = csca.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert ds.signature_hash_algorithm is not None
    key.verify(ds.signature, ds.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256())
