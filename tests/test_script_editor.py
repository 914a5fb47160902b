"""The script editor pane: live validation (underlines, the message and where it leads), gutter
marks, highlighting, files (open, save 0600, recent, examples, unreadable files) and the question
before unsaved changes are dropped. No PC/SC: nothing here talks to a card."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QSettings, Qt
from PySide6.QtGui import QColor, QHelpEvent, QTextCharFormat
from PySide6.QtWidgets import QApplication, QToolTip
from pytestqt.qtbot import QtBot

from explorer.script.model import Level
from explorer.ui.script_check import INLINE_LIMIT, Check
from explorer.ui.script_editor import Discard, LineMark, ScriptEditorPane
from explorer.ui.script_files import MAX_RECENT, example_paths
from explorer.ui.script_gutter import MARK_COLOURS
from explorer.ui.script_highlight import Role

pytestmark = pytest.mark.gui


@pytest.fixture
def pane(qtbot: QtBot, settings: QSettings) -> ScriptEditorPane:
    p = ScriptEditorPane(settings)
    qtbot.addWidget(p)
    p.resize(700, 500)
    p.show()
    p.ask_discard = lambda name: pytest.fail(f"unexpected question about {name}")  # type: ignore[assignment]
    return p


def settled(pane: ScriptEditorPane, qtbot: QtBot) -> Check:
    """The check of the text now shown, once it has come (no sleeping: waited for)."""
    qtbot.waitUntil(lambda: not pane.checker.busy and pane.last_check is not None
                    and pane.last_check.request.text == pane.text(), timeout=10_000)
    assert pane.last_check is not None
    return pane.last_check


def type_text(pane: ScriptEditorPane, qtbot: QtBot, text: str) -> None:
    pane.editor.setFocus()
    for line_no, line in enumerate(text.split("\n")):
        if line_no:
            qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
        qtbot.keyClicks(pane.editor, line)


# -- live validation ---------------------------------------------------------------------------

def test_a_bad_line_is_underlined_where_it_is_wrong_and_named(pane: ScriptEditorPane, qtbot: QtBot) -> None:
    type_text(pane, qtbot, "00 A4 00 0C 02 3F 00\nexpect 90 00\n00 B0 00 0G 00")
    settled(pane, qtbot)
    assert pane.editor.underlines() == [(3, 11, 12, Level.ERROR)]  # the G, to the end of its word
    assert pane.message.text().startswith("line 3, column 11: ")
    assert "G" in pane.message.text()
    wave = [s for s in pane.editor.extraSelections()
            if s.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline]  # type: ignore[attr-defined]
    assert len(wave) == 1 and wave[0].cursor.selectedText() == "G"  # type: ignore[attr-defined]

    qtbot.keyClick(pane.editor, Qt.Key.Key_End)
    for _ in range(4):
        qtbot.keyClick(pane.editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(pane.editor, "0 00")
    found = settled(pane, qtbot)
    assert found.ok and pane.editor.underlines() == []
    assert pane.message.text() == "no errors: 2 commands"


def test_the_message_leads_to_the_place_and_follows_the_cursor(pane: ScriptEditorPane, qtbot: QtBot) -> None:
    pane.set_text("# header\n00 A4 04 00\nexpect 9Z 00\nexpect data 6F *\nfoo\n")
    found = settled(pane, qtbot)
    assert [d.place.line for d in found.diagnostics] == [3, 5]
    pane.editor.go_to(1, 1)
    assert pane.message.text().startswith("line 3, column 9: ")
    assert "(2 errors)" in pane.message.text()
    qtbot.mouseClick(pane.message, Qt.MouseButton.LeftButton)
    assert (pane.current_line(), pane.editor.textCursor().positionInBlock()) == (3, 8)
    pane.editor.go_to(5, 1)  # the cursor on another faulty line: its message is the one shown
    assert pane.message.text().startswith("line 5, column 2: ")


def test_a_warning_is_underlined_unlike_an_error(pane: ScriptEditorPane, qtbot: QtBot) -> None:
    pane.set_text("00 A4 04 00\n# scriptor would exit here\n")
    found = settled(pane, qtbot)
    assert found.ok and [d.level for d in found.diagnostics] == [Level.WARNING]
    assert pane.editor.underlines() == [(2, 1, 2, Level.WARNING)]
    styles = {s.format.underlineStyle() for s in pane.editor.extraSelections()}  # type: ignore[attr-defined]
    assert styles == {QTextCharFormat.UnderlineStyle.DashUnderline}
    assert pane.message.text().startswith("line 2, column 1: scriptor ends a script")


def test_variables_given_from_outside_are_known(pane: ScriptEditorPane, qtbot: QtBot) -> None:
    pane.set_text("secret 00 20 00 81 08 ${PIN}\n")
    assert not settled(pane, qtbot).ok
    pane.set_known({"PIN"})
    qtbot.waitUntil(lambda: pane.last_check is not None and pane.last_check.ok, timeout=5000)
    assert pane.script().ok


def test_a_large_script_is_checked_off_the_gui_thread_and_stale_results_are_dropped(
        pane: ScriptEditorPane, qtbot: QtBot) -> None:
    body = "00 A4 04 00 08 F0 43 41 52 44 45 58 50\nexpect 61 xx | 90 00\n" * 10_000
    assert len(body) > INLINE_LIMIT
    seen: list[Check] = []
    pane.checked.connect(seen.append)
    pane.set_text(body + "00 B0 00 0G 00\n")
    pane.checker.check_now()  # a background check of the bad text is under way...
    assert pane.checker.busy and not seen
    pane.editor.go_to(20_001, 1)
    cursor = pane.editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.EndOfBlock, cursor.MoveMode.KeepAnchor)
    cursor.insertText("00 B0 00 00 00")  # ...when the text is fixed
    found = settled(pane, qtbot)
    assert found.ok and found.commands == 10_001
    assert all(check.request.text == pane.text() for check in seen), "a stale result was shown"
    assert found.script is None  # a large script's tree is not kept by the check
    assert pane.script().ok  # but one is parsed when asked


def test_includes_are_read_beside_the_script(pane: ScriptEditorPane, qtbot: QtBot, tmp_path: Path) -> None:
    (tmp_path / "common.apdu").write_text("00 A4 04 00\n00 B0 00 0G 00\n")
    pane.set_text("00 84 00 00 08\ninclude common.apdu\n")
    settled(pane, qtbot)
    assert "save the script first" in pane.message.text()
    assert pane.save_as(str(tmp_path / "main.apdu"))
    found = settled(pane, qtbot)
    assert [(d.place.file, d.place.line) for d in found.diagnostics] == [("common.apdu", 2)]
    assert pane.editor.underlines() == [(2, 1, 8, Level.ERROR)]  # shown at the include line
    assert pane.message.text().startswith("common.apdu line 2, column 11: ")
    (tmp_path / "common.apdu").write_text("00 A4 04 00\n")
    assert pane.script().ok  # read again, not taken from the last check


# -- marks --------------------------------------------------------------------------------------

def _mark_drawn(pane: ScriptEditorPane, line: int, mark: LineMark) -> bool:
    """Some pixel of the gutter's mark column, on `line`'s row, is (nearly: antialiased) the mark's colour."""
    gutter = pane.editor.gutter
    image = gutter.grab().toImage()
    block = pane.editor.document().findBlockByNumber(line - 1)
    geometry = pane.editor.blockBoundingGeometry(block).translated(pane.editor.contentOffset())
    ratio = image.devicePixelRatio()
    x0 = round((gutter.width() - gutter.mark_width()) * ratio)
    want = QColor(MARK_COLOURS[mark])
    for y in range(round(geometry.top() * ratio), round(geometry.bottom() * ratio)):
        for x in range(x0, image.width()):
            got = image.pixelColor(x, y)
            if sum(abs(a - b) for a, b in zip(got.getRgb()[:3], want.getRgb()[:3], strict=True)) < 30:
                return True
    return False


def test_marks_are_drawn_read_back_and_stay_on_their_lines(pane: ScriptEditorPane, qtbot: QtBot) -> None:
    pane.set_text("00 A4 04 00\nexpect 90 00\n00 B0 00 00 00\n00 B2 01 04 00\n")
    pane.set_read_only(True)
    assert not pane.new_action.isEnabled() and not pane.open_action.isEnabled()
    pane.set_mark(1, LineMark.PASSED)
    pane.set_mark(3, LineMark.FAILED, "expected 90 00, got 6A 82")
    pane.set_mark(4, LineMark.RUNNING)
    assert [pane.mark(n) for n in (1, 2, 3, 4)] == [LineMark.PASSED, LineMark.NONE, LineMark.FAILED,
                                                    LineMark.RUNNING]
    assert pane.mark_text(3) == "line 3: failed: expected 90 00, got 6A 82"
    assert pane.mark_text(2) == ""
    assert _mark_drawn(pane, 1, LineMark.PASSED) and _mark_drawn(pane, 3, LineMark.FAILED)
    assert not _mark_drawn(pane, 2, LineMark.PASSED) and not _mark_drawn(pane, 2, LineMark.FAILED)
    qtbot.keyClicks(pane.editor, "zz")  # read-only while a run goes: nothing moves
    assert pane.text().startswith("00 A4") and pane.mark(3) is LineMark.FAILED

    pane.set_read_only(False)
    pane.editor.go_to(1, 1)
    qtbot.keyClicks(pane.editor, "00 84 00 00 08")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)  # a line above: the marks go down with their text
    assert pane.marks() == {2: LineMark.PASSED, 4: LineMark.FAILED, 5: LineMark.RUNNING}
    pane.clear_marks()
    assert pane.marks() == {}
    assert not _mark_drawn(pane, 4, LineMark.FAILED)


def test_the_gutter_tooltip_says_the_mark(pane: ScriptEditorPane, qtbot: QtBot) -> None:
    pane.set_text("00 A4 04 00\n00 B0 00 00 00\n")
    pane.set_mark(2, LineMark.ERROR, "card removed")
    gutter = pane.editor.gutter
    block = pane.editor.document().findBlockByNumber(1)
    y = round(pane.editor.blockBoundingGeometry(block).translated(pane.editor.contentOffset()).center().y())
    assert gutter.line_at(y) == 2
    point = QPoint(2, y)
    QApplication.sendEvent(gutter, QHelpEvent(QEvent.Type.ToolTip, point, gutter.mapToGlobal(point)))
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=3000)
    assert QToolTip.text() == "line 2: error (the card or the reader failed): card removed"
    QToolTip.hideText()


# -- highlighting --------------------------------------------------------------------------------

def _colour_at(pane: ScriptEditorPane, line: int, column: int) -> QColor | None:
    block = pane.editor.document().findBlockByNumber(line - 1)
    for item in block.layout().formats():
        if item.start <= column - 1 < item.start + item.length:
            return item.format.foreground().color()
    return None


def test_highlighting_follows_the_parser(pane: ScriptEditorPane, qtbot: QtBot) -> None:
    pane.set_text('# comment\n  # not a comment for scriptor\ntest "T" req R-1\n  00 A4 04 00 ${AID}\n'
                  "  expect 61 xx | 90 00\nend\n00 A4 \\\n# continued, not a comment\n")
    qtbot.waitUntil(lambda: _colour_at(pane, 8, 1) is not None, timeout=3000)
    fmt = pane.highlighter.formats
    colour = {role: fmt[role].foreground().color() for role in Role}
    assert _colour_at(pane, 1, 3) == colour[Role.COMMENT]
    assert _colour_at(pane, 2, 3) != colour[Role.COMMENT]  # `#` after a space is no comment
    assert _colour_at(pane, 3, 1) == colour[Role.KEYWORD]
    assert _colour_at(pane, 3, 6) == colour[Role.STRING]
    assert _colour_at(pane, 4, 3) == colour[Role.HEX]
    assert _colour_at(pane, 4, 15) == colour[Role.VARIABLE]
    assert _colour_at(pane, 5, 10) == colour[Role.EXPECTED]
    assert _colour_at(pane, 5, 13) == colour[Role.WILDCARD]
    assert _colour_at(pane, 8, 1) == colour[Role.HEX]  # the line a `\` continues


def test_lines_below_the_screen_are_coloured_when_scrolled_to(pane: ScriptEditorPane, qtbot: QtBot) -> None:
    pane.set_text("# a comment\n" * 3000)
    assert _colour_at(pane, 2900, 1) is None  # not coloured while off screen
    pane.reveal_line(2900)
    qtbot.waitUntil(lambda: _colour_at(pane, 2900, 1) is not None, timeout=3000)


# -- files ----------------------------------------------------------------------------------------

def test_open_and_save_round_trip_private(pane: ScriptEditorPane, qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "card.apdu"
    path.write_text("00 A4 04 00\r\nexpect 90 00\r\n")
    path.chmod(0o644)
    files: list[str] = []
    modified: list[bool] = []
    pane.file_changed.connect(files.append)
    pane.modified_changed.connect(modified.append)
    assert pane.open_file(str(path))
    assert files == [str(path)] and pane.file_path == str(path) and not pane.is_modified
    assert "card.apdu" in pane.name_label.text()
    qtbot.keyClick(pane.editor, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(pane.editor, "secret 00 20 00 81 04 31 32 33 34")
    assert pane.is_modified and modified == [True] and "modified" in pane.name_label.text()
    qtbot.keyClick(pane.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # Save
    assert not pane.is_modified and modified == [True, False]
    assert path.read_bytes() == b"00 A4 04 00\r\nexpect 90 00\r\nsecret 00 20 00 81 04 31 32 33 34"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a script may hold a PIN
    assert [p.name for p in tmp_path.iterdir()] == ["card.apdu"]  # no temporary file left


def test_recent_scripts(pane: ScriptEditorPane, tmp_path: Path) -> None:
    paths = []
    for n in range(MAX_RECENT + 2):
        paths.append(tmp_path / f"s{n}.apdu")
        paths[-1].write_text("00 A4 04 00\n")
        assert pane.open_file(str(paths[-1]))
    assert pane.recent.paths() == [str(p) for p in reversed(paths)][:MAX_RECENT]
    paths[-2].unlink()
    pane.recent_menu.aboutToShow.emit()
    actions = [a for a in pane.recent_menu.actions() if not a.isSeparator()]
    assert [a.text() for a in actions[:2]] == [f"s{MAX_RECENT + 1}.apdu", f"s{MAX_RECENT}.apdu (missing)"]
    assert actions[0].isEnabled() and not actions[1].isEnabled()
    pane.open_file(str(paths[0]))
    assert pane.recent.paths()[0] == str(paths[0])


def test_an_example_opens_as_an_untitled_copy(pane: ScriptEditorPane, qtbot: QtBot, tmp_path: Path) -> None:
    examples = example_paths()
    assert {"demo-card.apdu", "iso7816-basics.apdu", "scriptor-style.apdu"} <= {p.name for p in examples}
    pane.examples_menu.aboutToShow.emit()
    action = next(a for a in pane.examples_menu.actions() if a.text() == "demo-card.apdu")
    shipped = next(p for p in examples if p.name == "demo-card.apdu")
    before = shipped.read_bytes()
    action.trigger()
    assert pane.text() == before.decode() and pane.file_path == ""
    assert pane.display_name == "demo-card.apdu"
    asked: list[str] = []
    pane.ask_save_path = lambda suggested: (asked.append(suggested), str(tmp_path / "mine"))[1]  # type: ignore[assignment]
    qtbot.keyClicks(pane.editor, "# mine")
    assert pane.save()
    assert Path(asked[0]).name == "demo-card.apdu"  # Save asks where: the example is not its file
    assert pane.file_path == str(tmp_path / "mine.apdu") and shipped.read_bytes() == before


@pytest.mark.parametrize(("content", "expected"), [
    (b"00 A4 04 00\n00 B0 \xff 00\n", "not UTF-8 text: byte FF at line 2, column 7 (byte offset 18)"),
    (b"\xff\xfe0\x000\x00", "this is UTF-16 text"),
    (b"00" * (2 << 20) + b"\n", "is more than a script may have (4.0 MiB)"),
])
def test_a_file_that_is_no_script_is_refused_with_a_message(pane: ScriptEditorPane, tmp_path: Path,
                                                            content: bytes, expected: str) -> None:
    pane.set_text("00 84 00 00 08\n")
    path = tmp_path / "bad.apdu"
    path.write_bytes(content)
    assert not pane.open_file(str(path))
    assert pane.file_error.startswith(f"Cannot open {path}: ") and expected in pane.file_error
    assert pane.text() == "00 84 00 00 08\n" and pane.file_path == ""


def test_a_folder_or_an_unwritable_place_is_named(pane: ScriptEditorPane, tmp_path: Path) -> None:
    assert not pane.open_file(str(tmp_path))
    assert "this is a directory" in pane.file_error
    pane.set_text("00 84 00 00 08\n")
    assert not pane.save_as(str(tmp_path / "no-such-folder" / "x.apdu"))
    assert "not saved: No such file or directory" in pane.file_error
    assert pane.open_file(os.devnull) is False and "character device" in pane.file_error


def test_unsaved_changes_are_asked_about(pane: ScriptEditorPane, qtbot: QtBot, tmp_path: Path) -> None:
    answers: list[Discard] = []
    questions: list[str] = []

    def ask(name: str) -> Discard:
        questions.append(name)
        return answers.pop(0)

    pane.ask_discard = ask  # type: ignore[assignment]
    assert pane.new_script() and questions == []  # nothing typed: nothing to ask
    qtbot.keyClicks(pane.editor, "00 84 00 00 08")
    answers.append(Discard.CANCEL)
    assert not pane.new_script() and pane.text() == "00 84 00 00 08"
    answers.append(Discard.DISCARD)
    assert pane.new_script() and pane.text() == ""
    qtbot.keyClicks(pane.editor, "00 84 00 00 08")
    answers.append(Discard.SAVE)
    pane.ask_save_path = lambda suggested: str(tmp_path / "kept.apdu")  # type: ignore[assignment]
    other = tmp_path / "other.apdu"
    other.write_text("00 A4 04 00\n")
    assert pane.open_file(str(other))
    assert (tmp_path / "kept.apdu").read_text() == "00 84 00 00 08"
    assert questions == ["untitled.apdu"] * 3 and pane.text() == "00 A4 04 00\n"
