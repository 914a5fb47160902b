"""SIM/USIM: a UICC read as ETSI TS 102 221 and 3GPP TS 31.102 describe it (CLA 00), or a GSM
SIM as 3GPP TS 51.011 does (CLA A0); read-only, never VERIFY (`analyzer.SimAnalyzer`)."""
