"""OpenPGP cards (OpenPGP smart card application 3.4): AID, application related data, cardholder
data, and the public keys with their fingerprints checked (`OpenPgpAnalyzer`)."""

from explorer.apps.openpgp.analyzer import OpenPgpAnalyzer

__all__ = ["OpenPgpAnalyzer"]
