"""The one MRZ field the window and the command line give: the three fields BAC needs, or a whole
MRZ pasted, into the MRZ information BAC's keys come from."""

from __future__ import annotations

import re

from explorer.apps.emrtd.mrz import MrzError, parse_entry, parse_mrz

#: Longer than any "number, birth, expiry" (22 + 6 + 6 and separators): a pasted MRZ.
_LONGEST_ENTRY = 40
USAGE = ("give the document number, date of birth and date of expiry (L898902C<, 690806, 940623), "
         "or paste the whole MRZ")


def mrz_information_from(text: str) -> str:
    """"L898902C<, 690806, 940623" (commas, semicolons or spaces between) or a TD1/TD2/TD3 MRZ
    pasted (line breaks and lowercase taken): its MRZ information. MrzError (a ValueError) naming
    the field that is wrong."""
    compact = re.sub(r"\s+", "", text)
    if len(compact) > _LONGEST_ENTRY:
        return parse_mrz(text).information
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    if len(parts) != 3:
        raise MrzError(USAGE)
    return parse_entry(*parts).information
