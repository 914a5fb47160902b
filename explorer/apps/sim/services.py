"""Service tables: EF.UST of a USIM (3GPP TS 31.102 4.2.8: one bit per service, service n in
byte (n-1)//8, bit (n-1)%8 counted from b1) and EF.SST of a GSM SIM (51.011 10.3.7: two bits
per service, allocated then activated)."""

from __future__ import annotations

from explorer.apps.sim.fields import Field

UST_SERVICES: dict[int, str] = {
    1: "Local Phone Book", 2: "Fixed Dialling Numbers (FDN)", 3: "Extension 2",
    4: "Service Dialling Numbers (SDN)", 5: "Extension 3", 6: "Barred Dialling Numbers (BDN)",
    7: "Extension 4", 8: "Outgoing Call Information (OCI and OCT)",
    9: "Incoming Call Information (ICI and ICT)", 10: "Short Message Storage (SMS)",
    11: "Short Message Status Reports (SMSR)", 12: "Short Message Service Parameters (SMSP)",
    13: "Advice of Charge (AoC)", 14: "Capability Configuration Parameters 2 (CCP2)",
    15: "Cell Broadcast Message Identifier", 16: "Cell Broadcast Message Identifier Ranges",
    17: "Group Identifier Level 1", 18: "Group Identifier Level 2", 19: "Service Provider Name",
    20: "User controlled PLMN selector with Access Technology", 21: "MSISDN", 22: "Image (IMG)",
    23: "Support of Localised Service Areas (SoLSA)",
    24: "Enhanced Multi-Level Precedence and Pre-emption Service", 25: "Automatic Answer for eMLPP",
    26: "RFU", 27: "GSM Access", 28: "Data download via SMS-PP", 29: "Data download via SMS-CB",
    30: "Call Control by USIM", 31: "MO-SMS Control by USIM", 32: "RUN AT COMMAND command",
    33: "shall be set to 1", 34: "Enabled Services Table", 35: "APN Control List (ACL)",
    36: "Depersonalisation Control Keys", 37: "Co-operative Network List", 38: "GSM security context",
    39: "CPBCCH Information", 40: "Investigation Scan", 41: "MExE",
    42: "Operator controlled PLMN selector with Access Technology",
    43: "HPLMN selector with Access Technology", 44: "Extension 5", 45: "PLMN Network Name",
    46: "Operator PLMN List", 47: "Mailbox Dialling Numbers", 48: "Message Waiting Indication Status",
    49: "Call Forwarding Indication Status", 50: "reserved", 51: "Service Provider Display Information",
    52: "Multimedia Messaging Service (MMS)", 53: "Extension 8", 54: "Call control on GPRS by USIM",
    55: "MMS User Connectivity Parameters", 56: "Network's indication of alerting in the MS (NIA)",
    57: "VGCS Group Identifier List", 58: "VBS Group Identifier List", 59: "Pseudonym",
    60: "User controlled PLMN selector for I-WLAN access",
}

SST_SERVICES: dict[int, str] = {
    1: "CHV1 disable function", 2: "Abbreviated Dialling Numbers (ADN)",
    3: "Fixed Dialling Numbers (FDN)", 4: "Short Message Storage (SMS)", 5: "Advice of Charge (AoC)",
    6: "Capability Configuration Parameters (CCP)", 7: "PLMN selector", 8: "RFU", 9: "MSISDN",
    10: "Extension 1", 11: "Extension 2", 12: "SMS Parameters", 13: "Last Number Dialled (LND)",
    14: "Cell Broadcast Message Identifier", 15: "Group Identifier Level 1",
    16: "Group Identifier Level 2", 17: "Service Provider Name", 18: "Service Dialling Numbers (SDN)",
    19: "Extension 3", 20: "RFU", 21: "VGCS Group Identifier List", 22: "VBS Group Identifier List",
    23: "eMLPP", 24: "Automatic Answer for eMLPP", 25: "Data download via SMS-CB",
    26: "Data download via SMS-PP", 27: "Menu selection", 28: "Call control",
    29: "Proactive SIM", 30: "Cell Broadcast Message Identifier Ranges",
    31: "Barred Dialling Numbers (BDN)", 32: "Extension 4", 33: "Depersonalisation Control Keys",
    34: "Co-operative Network List", 35: "Short Message Status Reports",
    36: "Network's indication of alerting in the MS", 37: "MO-SMS control by SIM", 38: "GPRS",
    39: "Image (IMG)", 40: "SoLSA",
}


def _name(table: dict[int, str], n: int) -> str:
    return table.get(n, "not named here (see the specification)")


def ust_services(data: bytes) -> list[int]:
    return [8 * i + bit + 1 for i, b in enumerate(data) for bit in range(8) if b >> bit & 1]


def decode_ust(data: bytes) -> Field:
    on = ust_services(data)
    children = tuple(Field(f"Service {n}", _name(UST_SERVICES, n), "available on this USIM",
                           (n - 1) // 8, (n - 1) // 8 + 1) for n in on)
    return Field("USIM service table", f"{len(on)} services: " + ", ".join(map(str, on)),
                 "one bit per service, service 1 in bit 1 of byte 1 (31.102 4.2.8)", 0, len(data),
                 children=children)


def decode_sst(data: bytes) -> Field:
    children: list[Field] = []
    for i, b in enumerate(data):
        for pair in range(4):
            n = 4 * i + pair + 1
            allocated, activated = b >> 2 * pair & 1, b >> 2 * pair + 1 & 1
            if allocated:
                state = "allocated and activated" if activated else "allocated, not activated"
                children.append(Field(f"Service {n}", f"{_name(SST_SERVICES, n)}: {state}", "", i, i + 1))
    return Field("SIM service table", f"{len(children)} services allocated",
                 "two bits per service: allocated, then activated (51.011 10.3.7)", 0, len(data),
                 children=tuple(children))
