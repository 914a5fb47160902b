"""The work of `card-explorer analyze` (explorer.cli.analyze has the parser)."""

from __future__ import annotations

import argparse
import json
import sys

from explorer.apps.analysis import Analysis, run_analyzers
from explorer.apps.session import AnalysisSession
from explorer.cli.run_targets import (
    NoService,
    Target,
    Usage,
    command_line_access,
    pcsc_target,
    virtual_target,
)
from explorer.core import card_errors as ce
from explorer.core.exchange import Origin, TransmitOptions
from explorer.core.link_modes import Protocol, ShareMode
from explorer.link.connection import WorkerSession
from explorer.services.card_access import CardAccess

PROG = "card-explorer analyze"


def _target(args: argparse.Namespace, access: CardAccess) -> Target:
    return virtual_target(args.profile, access) if args.profile else pcsc_target(args.reader, access)


def _scan(text: str | None) -> range | None:
    """The FIDs of --scan ("0100-02FF"), checked."""
    if not text:
        return None
    first, dash, last = text.partition("-")
    try:
        low, high = int(first, 16), int(last, 16)
    except ValueError:
        raise Usage(f"--scan {text}: FROM-TO in hex expected, e.g. 0100-02FF") from None
    if not dash or not 0 <= low <= high <= 0xFFFF or high - low >= 4096:
        raise Usage(f"--scan {text}: FROM-TO in hex, FROM <= TO, at most 4096 identifiers")
    return range(low, high + 1)


def _mrz(text: str | None) -> str | None:
    """The MRZ information of --mrz (number, birth, expiry; or the whole MRZ), checked."""
    if text is None:
        return None
    from explorer.apps.emrtd.entry import mrz_information_from

    try:
        return mrz_information_from(text)
    except ValueError as exc:
        raise Usage(f"--mrz: {exc}") from None


def _write_capture(analysis: Analysis, path: str) -> bool:
    from explorer.apps.capture import capture
    from explorer.private_files import open_private

    captured = capture(analysis)
    try:
        with open_private(path, "w") as out:
            json.dump(captured.profile, out, indent=1, ensure_ascii=False)
            out.write("\n")
    except OSError as exc:
        print(f"{PROG}: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return False
    for what in captured.missing:
        print(f"{PROG}: not captured: {what}", file=sys.stderr)
    return True


def run_analyze(args: argparse.Namespace) -> int:
    from explorer.apps.registry import Choices, analyzers
    from explorer.cli import EXIT_CARD_ERROR, EXIT_INTERRUPTED, EXIT_NO_SERVICE, EXIT_OK, EXIT_USAGE

    try:
        keys = [k.strip() for k in args.only.split(",") if k.strip()] if args.only else None
        chosen = analyzers(keys, Choices(mrz_information=_mrz(args.mrz), scan=_scan(args.scan)))
        access = command_line_access()
        target = _target(args, access)
    except (Usage, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NoService as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_NO_SERVICE
    conn = access.manager.open(target.reader)
    session: AnalysisSession | None = None

    def job(worker: WorkerSession) -> Analysis:
        nonlocal session
        options = TransmitOptions()
        session = AnalysisSession(lambda apdu: worker.send(apdu, options, False, "analyze"),
                                  allow_changes=args.allow_gpo,
                                  secure_transmit=lambda apdu, channel: worker.send(
                                      apdu, options, False, "analyze", channel=channel))
        return run_analyzers(session, chosen, target.reader, atr)

    try:
        atr = conn.connect(Protocol.ANY, ShareMode.SHARED).result().atr
        analysis = conn.run_job(job, Origin.ANALYZER).result()
    except ce.CardError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_NO_SERVICE if isinstance(exc, ce.ServiceGone) else EXIT_CARD_ERROR
    except KeyboardInterrupt:
        if session is not None:
            session.cancel()
        return EXIT_INTERRUPTED
    finally:
        access.close(timeout=1.0)
    from explorer.apps.report import analysis_html, analysis_json, analysis_text

    if args.json:
        print(json.dumps(analysis_json(analysis, args.reveal), ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(analysis_text(analysis, args.reveal))
    if args.capture and not _write_capture(analysis, args.capture):
        return EXIT_USAGE
    if args.html:
        from explorer.private_files import open_private

        try:
            with open_private(args.html, "w") as out:
                out.write(analysis_html(analysis, args.reveal))
        except OSError as exc:
            print(f"{PROG}: cannot write {args.html}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    if analysis.lost is not None:
        # What was read is written out above; the status says it is not the whole card, as
        # `run` does for a card pulled mid-script.
        print(f"{PROG}: {analysis.lost} (the analysis stopped: what was read before is shown)",
              file=sys.stderr)
        return EXIT_NO_SERVICE if isinstance(analysis.lost, ce.ServiceGone) else EXIT_CARD_ERROR
    return EXIT_OK
