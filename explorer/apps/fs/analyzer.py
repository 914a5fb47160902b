"""The ISO/IEC 7816-4 file-system analyzer: what files a card shows without a PIN, their control
parameters decoded, their contents read, and the access conditions of those it refuses."""

from __future__ import annotations

from explorer.apps.findings import Finding
from explorer.apps.fs.constants import Ins
from explorer.apps.fs.tree import Branch
from explorer.apps.fs.walk import Options, Walker
from explorer.apps.session import AnalysisSession, Cancelled, CardError
from explorer.core.atr import decode_atr

#: The only instructions this analyzer sends: a test counts them at the card.
READ_ONLY_INS = frozenset(Ins)

# Compact-TLV tags of the historical bytes (ISO/IEC 7816-4 8.1.1.2).
_CARD_SERVICE = 0x3
_CARD_CAPABILITIES = 0x7
_DIR_REFERENCE = 0x10


class FileSystemAnalyzer:
    key = "fs"
    title = "ISO/IEC 7816-4 files"

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()

    def likely(self, atr: bytes) -> bool:
        """True when the historical bytes speak of a file system (ISO/IEC 7816-4 8.1.1):
        - category 10: a DIR data reference, i.e. an EF.DIR record;
        - card service data (compact-TLV tag 3): selection by full or partial DF name, EF.DIR or
          EF.ATR holding BER-TLV data objects (bits 8-5), or any EF.DIR/EF.ATR access method other
          than the "read by READ RECORD" default with nothing else set;
        - card capabilities (tag 7), first byte: selection by DF name, path, FID or implicit
          selection, or short EF identifiers (bits 8-3).
        Most cards with a file system say so; a False is no verdict (many say nothing)."""
        historical = decode_atr(atr).historical
        if historical.dir_ref is not None or historical.category == _DIR_REFERENCE:
            return True
        for obj in historical.tlv or ():
            if obj.tag == _CARD_SERVICE and obj.value and obj.value[0] & 0xFE:
                return True
            if obj.tag == _CARD_CAPABILITIES and obj.value and obj.value[0] & 0xFC:
                return True
        return False

    def analyze(self, session: AnalysisSession) -> Finding:
        """Walk the file system read-only (SELECT, READ BINARY, READ RECORD). A cancel or a card
        error ends the walk with what was read so far, and a finding that says why it stopped."""
        root = Branch(self.title)
        walker = Walker(session, self.options)
        try:
            walker.run(root)
        except Cancelled:
            root.add(Finding("Cancelled", "", "the analysis was cancelled: what was read before is shown"))
        except CardError as exc:
            root.add(Finding("Card error", str(exc),
                             "the card or the reader failed: what was read before is shown"))
        root.value = f"{walker.files_read} files read, {walker.refused} refused"
        session.progress("Done", 1.0)
        return root.freeze()
