"""Pure functions and data over bytes: no I/O, no Qt, no pyscard."""
