"""Electronic passports and ID cards (ICAO Doc 9303 eMRTD): EF.CardAccess, Basic Access Control
from the MRZ, the LDS files (EF.COM, DG1, DG2's face, DG11, DG12) and the SOD's hashes and
signature (`EmrtdAnalyzer`)."""

from explorer.apps.emrtd.analyzer import EmrtdAnalyzer

__all__ = ["EmrtdAnalyzer"]
