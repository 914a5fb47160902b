"""The only package that imports QtWidgets and QtGui: windows, panels, models."""
