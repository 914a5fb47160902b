"""Take the README's screenshots: the real app in a real X window under Xvfb.

Starts a private pcscd with two vpcd readers and puts the virtual card in one,
then runs the main window in this process on an Xvfb display (xcb), drives it
as a tester would (select the card, connect, send a few commands, type a bad
one) and saves the whole window, the console panel, the ATR panel and the trace.
Then, with pcscd stopped, the app on its embedded virtual reader, and the crash
dialog forced by the hidden hook (CARD_EXPLORER_CRASH_TEST, explorer/ui/crash.py).
Usage: python docs/screenshot.py [OUTDIR]
       python docs/screenshot.py --crash-only [--screen 1024x700] [OUTDIR]
           only the crash dialog, no pcscd (the window runs without PC/SC)
       python docs/screenshot.py --script-only [--screen 1024x700] [OUTDIR]
           only the Script panel (script-panel.png), on two embedded readers, no pcscd
       python docs/screenshot.py --analysis-only [--screen 1024x700] [OUTDIR]
           only the Analysis dock (analysis-panel.png): the GlobalPlatform profile analyzed
       python docs/screenshot.py --passport-only [--screen 1024x700] [OUTDIR]
           only the Analysis dock on the specimen passport (passport-analysis.png): BAC with the
           MRZ typed, values revealed, the face selected
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DISPLAY = ":97"
# A T=1 card with T=15 global bytes and compact-TLV historical bytes: every part of the ATR panel has work.
CARD_ATR = bytes.fromhex("3BDA18FF81B1FE751F030031C573C00140009000 0C")


def demo_card(apdu: bytes) -> bytes:
    """A T=0-style card for the picture: SELECT answers 61xx, READ BINARY wants its Le."""
    fci = bytes.fromhex("6F1A8407A0000000041010A50F500A4D617374657243617264870101")
    if apdu[1] == 0xA4:
        return bytes([0x61, len(fci)])
    if apdu[1] == 0xC0:
        return fci[: apdu[4]] + b"\x90\x00"
    if apdu[1] == 0xB0:
        return b"\x6c\x0c" if apdu[4] != 0x0C else b"Card Explorer"[:12] + b"\x90\x00"
    if apdu[1] == 0x20:
        return b"\x63\xc2"
    return b"\x6d\x00"


async def drive(window: object, bridge: object, reader: str) -> None:
    from explorer.ui.main_window import MainWindow
    from tests.conftest import until

    assert isinstance(window, MainWindow)
    model = window.readers.model
    while model.rowCount(model.reader_index(reader)) == 0:
        await until(bridge.card_inserted, what="the card")  # type: ignore[attr-defined]
    window.readers.view.setCurrentIndex(model.index(0, 0, model.reader_index(reader)))
    console = window.console
    console.connect_button.click()
    await until(console.idle, what="connect")
    for command in ("00 A4 04 00 07 A0 00 00 00 04 10 10", "00 B0 00 00 00", "00 20 00 81 00"):
        console.input.set_command(command)
        console.send_button.click()
        await until(console.idle, what=command)
    console.input.set_command("00 A4 04 00 09 A0 00 00 00 04 10 10")
    # The ATR panel: a byte inside the card capabilities clicked, its field explained.
    window.atr.select_byte(16)
    await asyncio.sleep(0.5)  # let the window paint; nothing to wait on but the compositor


async def show_trace(window: object) -> None:
    """The trace, tall enough to read: the SELECT's GET RESPONSE selected, its FCI as a TLV tree."""
    from PySide6.QtCore import Qt

    from explorer.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    d = window.docks
    d["readers"].hide()
    d["atr"].hide()
    d["console"].hide()
    window.resizeDocks([d["trace"]], [1300], Qt.Orientation.Horizontal)
    trace = window.trace
    trace.poll()
    step = next(r for r in trace.model.records() if r.origin == "get response")
    trace.select_seq(step.seq)
    await asyncio.sleep(0.5)


async def drive_virtual(window: object, bridge: object) -> None:
    """No pcscd: the window starts the embedded reader with the demo card; talk to it, open the menu."""
    from explorer.ui.main_window import MainWindow
    from tests.conftest import until

    assert isinstance(window, MainWindow)
    window.offer_virtual_reader()
    await until(bridge.card_inserted, what="the demo card")  # type: ignore[attr-defined]
    console = window.console
    console.connect_button.click()
    await until(console.idle, what="connect")
    for command in ("00 A4 04 00 08 F0 43 41 52 44 45 58 50 00", "00 B2 01 14 00",
                    "00 20 00 81 08 30 30 30 30 FF FF FF FF"):
        console.input.set_command(command)
        console.send_button.click()
        await until(console.idle, what=command)
    window.trace.poll()
    bar = window.menuBar()
    window.virtual.popup(window.mapToGlobal(bar.geometry().bottomLeft())
                         + bar.actionGeometry(window.virtual.menuAction()).bottomLeft())
    window.virtual.setActiveAction(window.virtual.action("trace_order"))
    await asyncio.sleep(0.5)


def crash_dialog(app: object, outdir: Path) -> None:
    """The window without PC/SC on its virtual reader, and the crash dialog the hidden hook forces.

    The log goes to a scratch home, so the dialog shows where a user's log lives
    (~/.local/state/card-explorer/log) under that home."""
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from explorer.link.bridge import EventBridge
    from explorer.ui import crash
    from explorer.ui.main_window import MainWindow
    from tests.conftest import until

    assert isinstance(app, QApplication)
    home = Path(tempfile.mkdtemp(prefix="home-"))
    os.environ.update(HOME=str(home), XDG_DATA_HOME=str(home / ".local" / "share"),
                      **{crash.TEST_HOOK_ENV: "1"})
    os.environ.pop("XDG_STATE_HOME", None)
    reporter = crash.install(app)
    bridge = EventBridge()
    window = MainWindow(bridge, QSettings(str(home / "s.ini"), QSettings.Format.IniFormat))
    window.resize(1360, 860)
    window.show()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        async def until_shown() -> None:
            window.offer_virtual_reader()
            await until(reporter.dialog_shown, what="the crash dialog")
            await asyncio.sleep(0.5)  # let the dialog paint

        loop.run_until_complete(until_shown())
        assert reporter.dialog is not None
        assert reporter.dialog.grab().save(str(outdir / "crash-dialog.png")), f"cannot write in {outdir}"
        screen = window.screen().geometry()
        window.screen().grabWindow(0, 0, 0, screen.width(), screen.height()).save(
            str(Path(tempfile.gettempdir()) / f"crash-dialog-screen-{screen.width()}x{screen.height()}.png"))
    window.close()
    reporter.uninstall()
    os.environ.pop(crash.TEST_HOOK_ENV)


def _window_without_pcsc(app: object) -> tuple[Any, Any, Any]:
    """The window on the embedded readers only (an event bridge with no PC/SC), its size capped
    by the screen's, and a qasync loop for it."""
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from explorer.link.bridge import EventBridge
    from explorer.ui.main_window import MainWindow

    assert isinstance(app, QApplication)
    home = Path(tempfile.mkdtemp(prefix="home-"))
    bridge = EventBridge()
    window = MainWindow(bridge, QSettings(str(home / "s.ini"), QSettings.Format.IniFormat))
    screen = window.screen().availableGeometry()
    window.resize(min(1360, screen.width()), min(860, screen.height()))
    window.show()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    return bridge, window, loop


def script_panel(app: object, outdir: Path) -> None:
    """The Script dock after a run of the shipped demo-card example on two embedded readers, with
    a wrong PIN: one test case fails on both, its lines marked, the rest passed."""
    from explorer.assets import asset_path
    from explorer.virtual.card_sources import CardSource, SourceKind
    from tests.conftest import until

    bridge, window, loop = _window_without_pcsc(app)
    with loop:
        async def run() -> None:
            first = window.start_virtual_reader()
            await until(bridge.card_inserted, what="the demo card")  # type: ignore[attr-defined]
            second = window.virtual.add_reader()
            window.virtual.insert(CardSource(SourceKind.DEMO), second)
            await until(bridge.card_inserted, what="the second card")  # type: ignore[attr-defined]
            window.docks["script"].raise_()
            panel = window.script
            panel.pane.open_example(asset_path("scripts", "demo-card.apdu"))
            panel.variables.setText("PIN=31 32 33 35 FF FF FF FF")
            panel.choose_readers([first, second])
            assert panel.run(), panel.status.text()
            await until(panel.session.finished, what="the run")
            panel.pane.editor.setFocus()
            await asyncio.sleep(0.5)  # let the window paint; nothing to wait on but the compositor

        loop.run_until_complete(run())
        frame = window.frameGeometry()
        name = f"script-panel-{frame.width()}x{frame.height()}.png"
        window.screen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(
            str(Path(tempfile.gettempdir()) / name))
        window.docks["script"].grab().save(str(outdir / "script-panel.png"))
        window.script.shutdown()
        window.manager.close_all()
    window.close()


def analysis_panel(app: object, outdir: Path) -> None:
    """The Analysis dock after the GlobalPlatform profile was analyzed, a CPLC date selected."""
    from explorer.assets import asset_path
    from explorer.virtual.card_sources import CardSource, SourceKind
    from tests.conftest import until

    bridge, window, loop = _window_without_pcsc(app)
    with loop:
        async def run() -> None:
            profile = str(asset_path("cards", "globalplatform.json"))
            window.virtual.insert(CardSource(SourceKind.PROFILE, profile))
            await until(bridge.card_inserted, what="the card")  # type: ignore[attr-defined]
            panel = window.analysis
            window.docks["analysis"].raise_()
            panel.choose_analyzers(["gp"])
            assert panel.analyze(), "not started"
            await until(panel.finished, what="the analysis")
            model, tree = panel.model, panel.tree
            top = model.index(0, 0)
            tree.expand(top)
            for row in range(model.rowCount(top)):
                child = model.index(row, 0, top)
                if "CPLC" in str(child.data()):
                    tree.expand(child)
                    tree.setCurrentIndex(model.index(4, 0, child))
            await asyncio.sleep(0.5)  # let the window paint; nothing to wait on but the compositor

        loop.run_until_complete(run())
        frame = window.frameGeometry()
        window.screen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(
            str(Path(tempfile.gettempdir()) / f"analysis-panel-{frame.width()}x{frame.height()}.png"))
        window.docks["analysis"].grab().save(str(outdir / "analysis-panel.png"))
        window.analysis.shutdown()
        window.manager.close_all()
    window.close()


def passport_panel(app: object, outdir: Path) -> None:
    """The Analysis dock after the specimen passport was read with its MRZ, values revealed, the
    face selected, the MRZ and the SOD's checks in the tree."""
    from explorer.assets import asset_path
    from explorer.virtual.card_sources import CardSource, SourceKind
    from tests.conftest import until

    bridge, window, loop = _window_without_pcsc(app)
    with loop:
        async def run() -> None:
            window.virtual.insert(CardSource(SourceKind.PROFILE, str(asset_path("cards", "emrtd.json"))))
            await until(bridge.card_inserted, what="the passport")  # type: ignore[attr-defined]
            panel = window.analysis
            window.docks["analysis"].raise_()
            panel.choose_analyzers(["emrtd"])
            panel.mrz.setText("L898902C<, 690806, 940623")
            assert panel.analyze(), panel.status.text()
            await until(panel.finished, what="the analysis")
            panel.reveal.setChecked(True)
            model, tree = panel.model, panel.tree
            tree.collapseAll()
            top = model.index(0, 0)
            tree.expand(top)
            tree.setCurrentIndex(model.index_of("Face image"))
            tree.collapse(model.index_of("DG2"))  # the face stays shown: the checks come in view
            tree.scrollTo(model.index_of("Basic Access Control"), tree.ScrollHint.PositionAtTop)
            for _ in range(50):  # the face is decoded off the GUI thread
                if not panel.bytes.picture.isHidden():
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # let the window paint; nothing to wait on but the compositor

        loop.run_until_complete(run())
        frame = window.frameGeometry()
        window.screen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(
            str(Path(tempfile.gettempdir()) / f"passport-analysis-{frame.width()}x{frame.height()}.png"))
        window.docks["analysis"].grab().save(str(outdir / "passport-analysis.png"))
        window.analysis.shutdown()
        window.manager.close_all()
    window.close()


def passport_only(args: list[str]) -> int:
    """--passport-only [--screen WxH] [OUTDIR]: no pcscd is started or touched."""
    return _alone(args, passport_panel, "passport-analysis.png")


def analysis_only(args: list[str]) -> int:
    """--analysis-only [--screen WxH] [OUTDIR]: no pcscd is started or touched."""
    return _alone(args, analysis_panel, "analysis-panel.png")


def script_only(args: list[str]) -> int:
    """--script-only [--screen WxH] [OUTDIR]: no pcscd is started or touched."""
    return _alone(args, script_panel, "script-panel.png")


def crash_only(args: list[str]) -> int:
    """--crash-only [--screen WxH] [OUTDIR]: no pcscd is started or touched."""
    return _alone(args, crash_dialog, "crash-dialog.png")


def _alone(args: list[str], shoot: Callable[[object, Path], None], what: str) -> int:
    size = "1440x900"
    if "--screen" in args:
        i = args.index("--screen")
        size = args[i + 1]
        del args[i:i + 2]
    outdir = Path(args[0] if args else ROOT / "docs")
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", f"{size}x24", "-nolisten", "tcp"])
    os.environ.update(DISPLAY=DISPLAY, QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=tempfile.mkdtemp())
    try:
        from PySide6.QtWidgets import QApplication

        app = QApplication([])
        shoot(app, outdir)
        print(f"saved {what} in {outdir}")
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    return 0


def main() -> int:
    if "--crash-only" in sys.argv:
        return crash_only([a for a in sys.argv[1:] if a != "--crash-only"])
    if "--analysis-only" in sys.argv:
        return analysis_only([a for a in sys.argv[1:] if a != "--analysis-only"])
    if "--passport-only" in sys.argv:
        return passport_only([a for a in sys.argv[1:] if a != "--passport-only"])
    if "--script-only" in sys.argv:
        return script_only([a for a in sys.argv[1:] if a != "--script-only"])
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs")
    xvfb = subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", "1440x900x24", "-nolisten", "tcp"])
    os.environ.update(DISPLAY=DISPLAY, QT_QPA_PLATFORM="xcb", XDG_CONFIG_HOME=tempfile.mkdtemp())
    import qasync
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from explorer.pcsc.qt_monitor import MonitorBridge
    from explorer.ui.main_window import MainWindow
    from explorer.virtual.card import VirtualCard
    from explorer.virtual.vpcd import VpcdLink
    from tests.conftest import wait_reader
    from tests.testbed import PcscBed

    bed = PcscBed(channels=(0x8C7B,))
    link = None
    try:
        bed.start()
        reader = bed.reader_names[1]
        link = VpcdLink(VirtualCard(CARD_ATR, handler=demo_card), bed.port_of(reader))
        link.insert()
        wait_reader(reader, present=True)
        app = QApplication([])

        def open_window() -> tuple[MonitorBridge, MainWindow, qasync.QEventLoop]:
            bridge = MonitorBridge()
            window = MainWindow(bridge, QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"),
                                                  QSettings.Format.IniFormat))
            window.resize(1360, 860)
            window.show()
            bridge.start()
            loop = qasync.QEventLoop(app)  # one per window: `with loop` closes it
            asyncio.set_event_loop(loop)
            return bridge, window, loop

        bridge, window, loop = open_window()
        with loop:
            loop.run_until_complete(drive(window, bridge, reader))
            window.grab().save(str(outdir / "main-window.png"))
            window.docks["console"].grab().save(str(outdir / "console.png"))
            window.docks["atr"].grab().save(str(outdir / "atr.png"))
            loop.run_until_complete(show_trace(window))
            window.docks["trace"].grab().save(str(outdir / "trace.png"))
        window.manager.close_all()
        bridge.stop()
        window.close()

        # The same app with no PC/SC service: the embedded virtual reader.
        bed.stop()
        bridge, window, loop = open_window()
        with loop:
            loop.run_until_complete(drive_virtual(window, bridge))
            frame = window.frameGeometry()
            window.screen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(
                str(outdir / "virtual-reader.png"))
        window.virtual.hide()
        window.manager.close_all()
        bridge.stop()
        window.close()
        crash_dialog(app, outdir)
        script_panel(app, outdir)
        analysis_panel(app, outdir)
        passport_panel(app, outdir)
        print(f"saved main-window.png, console.png, atr.png, trace.png, virtual-reader.png, "
              f"crash-dialog.png, script-panel.png, analysis-panel.png and passport-analysis.png in {outdir}")
    finally:
        if link is not None:
            link.remove()
        bed.stop()
        xvfb.terminate()
        xvfb.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
