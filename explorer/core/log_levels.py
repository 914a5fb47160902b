"""APDU traffic gets its own log level below DEBUG, so -v shows the app's
decisions and -vv adds every byte that crossed the wire."""

import logging

TRAFFIC = 5
logging.addLevelName(TRAFFIC, "TRAFFIC")
