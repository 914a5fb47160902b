"""EMV payment applications: PSE/PPSE, the application list, each application's FCI, GET
PROCESSING OPTIONS (only when allowed), AFL records, GET DATA counters and the transaction log
(`EmvAnalyzer`)."""

from explorer.apps.emv.analyzer import EmvAnalyzer

__all__ = ["EmvAnalyzer"]
