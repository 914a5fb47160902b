"""Card Explorer: a desktop smart-card explorer for card testers."""

__version__ = "0.1.0"
