"""The app's Qt-free composition root (workbench.py): what the window builds its panels on, and
what the command line and tests can build the same way, without Qt."""
