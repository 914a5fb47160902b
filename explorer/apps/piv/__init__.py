"""PIV (NIST SP 800-73-4): the application property template, discovery object, CHUID with its
FASC-N, CCC, certificates, key history and PIN tries, read without changing the card
(`PivAnalyzer`)."""

from explorer.apps.piv.analyzer import PivAnalyzer

__all__ = ["PivAnalyzer"]
