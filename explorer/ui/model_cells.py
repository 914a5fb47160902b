"""Answering every role of a table cell in one call from Qt.

A view asks each cell for about seven roles (text, font, colours, alignment...). Qt 6 asks
in one `multiData` call, which Qt's default answers by calling `data` once per role: seven
calls into Python per cell, and each call into Python takes the GIL. While a card worker runs
a script in Python the GIL is busy there, and each of those calls may wait for it: painting
the script results took a median 13-15 ms during a run, 9 ms answered here in one call.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QModelRoleData, QModelRoleDataSpan, QPersistentModelIndex


class CellsAtOnce:
    """Mixin for a Qt model, listed before the Qt model class: `multiData` over `data`."""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        raise NotImplementedError

    def multiData(self, index: QModelIndex | QPersistentModelIndex,
                  roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        if isinstance(roleDataSpan, QModelRoleData):
            roleDataSpan.setData(self.data(index, roleDataSpan.role()))
            return
        for i in range(roleDataSpan.size()):
            item = roleDataSpan[i]  # type: ignore[index]  # the stubs miss QModelRoleDataSpan's operator[]
            item.setData(self.data(index, item.role()))
