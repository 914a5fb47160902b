"""The eMRTD analyzer on pcscd + vpcd: the virtual passport (explorer.virtual.bac_card) made from
resources/cards/emrtd.json, read with BAC and secure messaging through a real PC/SC connection
and the link's secure-messaging processor."""

from __future__ import annotations

import json
from typing import Any

import pytest

from explorer.apps.analysis import Analysis, run_analyzers
from explorer.apps.emrtd import EmrtdAnalyzer
from explorer.apps.emrtd.dg2 import FACE_IMAGE
from explorer.apps.emrtd.face import decode_face
from explorer.apps.session import AnalysisSession
from explorer.assets import asset_path
from explorer.core.exchange import Origin, TransmitOptions
from explorer.core.link_modes import Disposition, Protocol, ShareMode
from explorer.link.connection import CardConnection, WorkerSession
from explorer.virtual.filesystem_card import profile_card
from explorer.virtual.profile import parse_profile
from tests.conftest import CardFactory

pytestmark = pytest.mark.pcsc
INFORMATION = "L898902C<369080619406236"


def _analyze(reader: str, insert_card: CardFactory, obj: dict[str, Any]) -> Analysis:
    from explorer.pcsc.connection import PcscLink

    card = profile_card(parse_profile(obj))
    insert_card(reader, atr=card.atr, handler=card)
    conn = CardConnection(reader, PcscLink(reader))
    options = TransmitOptions()
    try:
        atr = conn.connect(Protocol.ANY, ShareMode.SHARED).result(timeout=10).atr

        def job(worker: WorkerSession) -> Analysis:
            session = AnalysisSession(
                lambda apdu: worker.send(apdu, options, False, "analyze emrtd"),
                secure_transmit=lambda apdu, channel: worker.send(apdu, options, False, "analyze emrtd",
                                                                  channel=channel))
            return run_analyzers(session, [EmrtdAnalyzer(INFORMATION)], reader, atr)

        return conn.run_job(job, Origin.ANALYZER).result(timeout=60)
    finally:
        conn.close(Disposition.LEAVE)


def _profile() -> dict[str, Any]:
    return json.loads(asset_path("cards", "emrtd.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_the_test_passport_through_pcsc(readers: list[str], insert_card: CardFactory) -> None:
    (result,) = _analyze(readers[0], insert_card, _profile()).results
    assert not result.error, result.error
    root = result.finding
    assert root.value.startswith("read with BAC: DG1, DG2, DG11, DG12; SOD signature valid")
    face = root.find(FACE_IMAGE)
    assert face is not None and face.value == "JPEG 90 x 120"
    assert decode_face(face.raw).png.startswith(b"\x89PNG")
    hashes = root.find("Data group hashes")
    assert hashes is not None and hashes.value == "all 4 match"


def test_one_byte_of_dg2_changed_in_the_profile_is_named(
        readers: list[str], insert_card: CardFactory) -> None:
    obj = _profile()
    dg2 = next(ef for ef in obj["files"]["children"][0]["children"] if ef["fid"] == "0102")
    data = bytearray.fromhex(dg2["content"])
    data[-20] ^= 0x01
    dg2["content"] = data.hex()
    (result,) = _analyze(readers[0], insert_card, obj).results
    hashes = result.finding.find("Data group hashes")
    assert hashes is not None and hashes.value == "DG2: hash does not match the SOD"
