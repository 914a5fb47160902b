"""The EFs the analyzer reads, in order, with their decoders: in ADF.USIM (3GPP TS 31.102) and in
DF.GSM (3GPP TS 51.011)."""

from __future__ import annotations

from explorer.apps.sim import ef_decoders as ef
from explorer.apps.sim.constants import FileId
from explorer.apps.sim.fields import Field
from explorer.apps.sim.identities import decode_imsi
from explorer.apps.sim.reading import EfSpec
from explorer.apps.sim.services import decode_sst, decode_ust


def usim_files(mnc_length: int | None) -> list[EfSpec]:
    """ADF.USIM's EFs (EF.AD comes first: the IMSI's MNC length is in it)."""
    return [
        EfSpec(FileId.EF_LI, "EF.LI", "Language indication: the languages the user prefers, in order.",
               lambda d: ef.decode_languages(d, "Languages", "two ISO 639 letters per entry (31.102 4.2.1)")),
        EfSpec(FileId.EF_IMSI, "EF.IMSI", "The subscriber identity (IMSI).",
               lambda d: decode_imsi(d, mnc_length)),
        EfSpec(FileId.EF_SPN, "EF.SPN", "The service provider name a phone shows.", ef.decode_spn),
        EfSpec(FileId.EF_UST, "EF.UST", "The services this USIM offers.", decode_ust),
        EfSpec(FileId.EF_ACC, "EF.ACC", "The access control classes of the subscription.", ef.decode_acc),
        EfSpec(FileId.EF_HPLMNWACT, "EF.HPLMNwAcT", "The home networks and their radio technologies.",
               lambda d: ef.decode_plmn_list(d, "Home PLMNs", "five bytes per entry: PLMN and access "
                                             "technologies (31.102 4.2.54)", 5)),
        EfSpec(FileId.EF_FPLMN, "EF.FPLMN", "Networks the phone must not register on.",
               lambda d: ef.decode_plmn_list(d, "Forbidden PLMNs", "three bytes per PLMN (31.102 4.2.16)")),
        EfSpec(FileId.EF_LOCI, "EF.LOCI", "Where the phone last registered.", ef.decode_loci),
        EfSpec(FileId.EF_MSISDN, "EF.MSISDN", "The subscriber's phone number(s).", ef.decode_msisdn,
               records=True),
    ]


AD = EfSpec(FileId.EF_AD, "EF.AD", "Administrative data: operation mode and MNC length.", ef.decode_ad)


def gsm_files(mnc_length: int | None) -> list[EfSpec]:
    """DF.GSM's EFs as 51.011 lays them out (EF.SST, not UST; EF.LP: one CBS language byte each)."""
    return [
        EfSpec(FileId.EF_IMSI, "EF.IMSI", "The subscriber identity (IMSI).",
               lambda d: decode_imsi(d, mnc_length)),
        EfSpec(FileId.EF_SPN, "EF.SPN", "The service provider name a phone shows.", ef.decode_spn),
        EfSpec(FileId.EF_UST, "EF.SST", "The services this SIM offers.", decode_sst),
        EfSpec(FileId.EF_LI, "EF.LP", "Language preference (CBS data coding bytes).",
               lambda d: Field("Languages", d.hex(" ").upper(),
                               "one CBS language code a byte (51.011 10.3.1)", 0, len(d))),
        EfSpec(FileId.EF_ACC, "EF.ACC", "The access control classes of the subscription.", ef.decode_acc),
        EfSpec(FileId.EF_FPLMN, "EF.FPLMN", "Networks the phone must not register on.",
               lambda d: ef.decode_plmn_list(d, "Forbidden PLMNs", "three bytes per PLMN (51.011 10.3.16)")),
        EfSpec(FileId.EF_LOCI, "EF.LOCI", "Where the phone last registered.", ef.decode_loci),
    ]
