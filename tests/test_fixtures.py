"""The test bed's own guards must be able to fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.testbed import BedError, PcscBed

ROOT = str(Path(__file__).resolve().parent.parent)


def test_leftover_thread_fails_the_test(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", ROOT)
    pytester.makeconftest("from tests.conftest import no_leftovers  # noqa: F401\n")
    pytester.makepyfile(
        """
        import threading
        stop = threading.Event()

        def test_leaves_a_thread():
            threading.Thread(target=stop.wait, name="left-behind", daemon=True).start()

        def test_after():
            stop.set()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rootdir", str(pytester.path))
    result.assert_outcomes(passed=2, errors=1)  # the body passes, teardown fails
    result.stdout.fnmatch_lines(["*test left threads running:*left-behind*"])


def test_leftover_process_fails_the_test(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", ROOT)
    pytester.makeconftest("from tests.conftest import no_leftovers  # noqa: F401\n")
    pytester.makepyfile(
        """
        import subprocess
        procs = []

        def test_leaves_a_process():
            procs.append(subprocess.Popen(["sleep", "30"]))

        def test_after():
            procs[0].kill(); procs[0].wait()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rootdir", str(pytester.path))
    result.assert_outcomes(passed=2, errors=1)  # the body passes, teardown fails
    result.stdout.fnmatch_lines(["*test left processes running*sleep*"])


@pytest.mark.pcsc
def test_second_pcscd_is_refused_with_a_clear_message(bed: PcscBed) -> None:
    with pytest.raises(BedError, match=r"another pcscd already holds /run/pcscd/pcscd.comm \(\d+"):
        PcscBed().start()
