"""GlobalPlatform: the Issuer Security Domain, CPLC, card data and key information, read without
keys (`GpAnalyzer`)."""

from explorer.apps.gp.analyzer import GpAnalyzer

__all__ = ["GpAnalyzer"]
