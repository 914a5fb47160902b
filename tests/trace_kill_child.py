"""Child process for the SIGKILL test: N APDUs through the connection manager
into a journaled trace store; after each reply it prints the command's
counter, so the parent knows which exchanges had completed when it killed us.

Usage: python -m tests.trace_kill_child READER JOURNAL_DIR COUNT
"""

from __future__ import annotations

import sys
from pathlib import Path

from explorer.core.exchange import Origin
from explorer.link.manager import ConnectionManager
from explorer.pcsc.connection import PcscLink
from explorer.trace.journal import Journal
from explorer.trace.store import TraceStore


def main() -> int:
    reader, directory, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    store = TraceStore(Journal.new_session(directory))
    manager = ConnectionManager(PcscLink, sink=store)
    connection = manager.open(reader)
    connection.connect().result(10)
    out = sys.stdout
    for i in range(count):
        command = bytes([0x80, 0xCA, i >> 8 & 0xFF, i & 0xFF, 0x00])
        connection.send(command, Origin.SCRIPT).result(10)
        out.write(f"{i}\n")
        out.flush()
    manager.close_all()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
