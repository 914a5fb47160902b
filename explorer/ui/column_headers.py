"""Header text for the panels' models, from their COLUMNS."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import Qt


class ColumnHeaders:
    """Mixin, listed before the Qt model class: horizontal headers from COLUMNS."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None
