"""Pure functions and data over bytes: no Qt, no pyscard, and no I/O except
atrdb's reading of the smartcard_list.txt it is pointed at."""
