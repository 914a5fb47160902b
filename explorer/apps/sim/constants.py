"""Named numbers of the SIM/USIM world: file IDs, instruction and class bytes, status words,
application identifiers (ETSI TS 102 221, ETSI TS 101 220, 3GPP TS 31.102 and 51.011)."""

from __future__ import annotations

import enum


class Cla(enum.IntEnum):
    UICC = 0x00  # ETSI TS 102 221: the UICC's interindustry class
    GSM = 0xA0  # 3GPP TS 51.011: the GSM SIM's class


class Ins(enum.IntEnum):
    SELECT = 0xA4
    READ_BINARY = 0xB0
    READ_RECORD = 0xB2
    GET_RESPONSE = 0xC0
    VERIFY = 0x20  # named so tests can say it is never sent


class FileId(enum.IntEnum):
    MF = 0x3F00
    EF_DIR = 0x2F00  # application templates (102 221 13.1)
    EF_ICCID = 0x2FE2  # identification number of the card (102 221 13.2)
    EF_PL = 0x2F05  # preferred languages (102 221 13.3)
    EF_ARR_MF = 0x2F06  # access rule reference, under the MF (102 221 13.4)
    DF_TELECOM = 0x7F10
    DF_GSM = 0x7F20
    EF_LI = 0x6F05  # language indication (31.102 4.2.1); EF.LP in a GSM SIM (51.011 10.3.1)
    EF_ARR = 0x6F06  # access rule reference, in ADF.USIM (31.102 4.2.47)
    EF_IMSI = 0x6F07
    EF_UST = 0x6F38  # USIM service table; EF.SST in a GSM SIM (two bits per service)
    EF_MSISDN = 0x6F40
    EF_SPN = 0x6F46
    EF_HPLMNWACT = 0x6F62
    EF_ACC = 0x6F78
    EF_FPLMN = 0x6F7B
    EF_LOCI = 0x6F7E
    EF_AD = 0x6FAD


class Sw(enum.IntEnum):
    OK = 0x9000
    SECURITY = 0x6982  # security status not satisfied: a PIN first
    NOT_FOUND = 0x6A82
    CLA_NOT_SUPPORTED = 0x6E00
    INS_NOT_SUPPORTED = 0x6D00
    GSM_ACCESS = 0x9804  # 51.011: access condition not fulfilled


class Sw1(enum.IntEnum):
    GSM_RESPONSE = 0x9F  # 51.011: xx bytes of response wait for GET RESPONSE
    PROACTIVE = 0x91  # 102 221: done, and the card has a proactive command of xx bytes
    MORE_DATA = 0x61


#: The RID ETSI TS 101 220 gives 3GPP; the PIX starts with the application code.
RID_3GPP = bytes.fromhex("A000000087")
RID_ETSI = bytes.fromhex("A000000009")
AID_USIM_PREFIX = RID_3GPP + b"\x10\x02"


class AppCode3gpp(enum.IntEnum):
    """3GPP application codes (TS 101 220 annex E), the PIX's first two bytes."""

    USIM = 0x1002
    ISIM = 0x1004


#: Key references (102 221 9.5.1): 01-08 application PINs, 0A-0E ADM, 11 universal PIN,
#: 81-88 second application PINs, 8A-8E more ADM.
def key_reference_name(ref: int) -> str:
    if 0x01 <= ref <= 0x08:
        return f"PIN {ref:02X} (application PIN {ref})"
    if 0x0A <= ref <= 0x0E:
        return f"ADM{ref - 9} ({ref:02X}, the operator's administrative key)"
    if ref == 0x11:
        return "universal PIN (11)"
    if 0x81 <= ref <= 0x88:
        return f"PIN {ref:02X} (second PIN of application {ref - 0x80})"
    if 0x8A <= ref <= 0x8E:
        return f"ADM{ref - 0x84} ({ref:02X})"
    return f"key reference {ref:02X}"
