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


def test_a_bench_waits_while_another_run_holds_the_bed(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    """Another checkout's pcscd answering is not this run's to use: a bench waits for the lock
    (only a bench that `make test` runs, under the lock its parent holds, uses it at once)."""
    import subprocess
    import sys
    import threading

    from tests import testbed

    lock = tmp_path / "bed.lock"
    monkeypatch.setattr(testbed, "LOCK_FILE", lock)
    monkeypatch.delenv(testbed.HELD_ENV, raising=False)
    other = PcscBed(workdir=tmp_path)  # stands for the other run's pcscd, which answers
    monkeypatch.setattr(testbed, "running_bed", lambda: other)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\nsys.stdin.read()\n", str(lock)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "held"
    got: list[PcscBed] = []
    done = threading.Event()

    def bench() -> None:
        with testbed.bench_bed() as bed:
            got.append(bed)
        done.set()

    thread = threading.Thread(target=bench, name="bench")
    thread.start()
    try:
        assert not done.wait(1.5), "the bench used another run's bed instead of waiting"
    finally:
        holder.stdin.close()
        holder.wait(10)
    assert done.wait(10)
    thread.join(10)
    assert got == [other]
    monkeypatch.setenv(testbed.HELD_ENV, "1")  # a child of the run that holds it: no waiting
    with testbed.bench_bed() as bed:
        assert bed is other
