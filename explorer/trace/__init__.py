"""The trace: every exchange and event as a record, journaled to disk as it
happens, kept in memory for the view, exported and imported."""
