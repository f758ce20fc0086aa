"""A terminated run takes its children with it.

``thresher ingest`` starts processes of its own: Prefect's temporary API server (about
250 MB) and, with ``--workers``, a pool of worker processes. Killed on its own (SIGKILL,
the OOM killer, SIGTERM from a scheduler), a plain Python process leaves them running
under PID 1 for ever. So on Linux the command is a small supervisor: the run itself is a
child process in a process group of its own, with a parent-death signal (``prctl
PR_SET_PDEATHSIG``), and everything the run starts joins that group. Whichever way the
supervisor ends, the kernel tells the run, and the run kills its whole group at once: a
stop is a crash, which the commit protocol makes safe (the next run completes or redoes
the work). Exit codes and signals of the run are passed through unchanged.

Elsewhere (no ``prctl``) the run happens in the command's own process, as before.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from types import FrameType

# Set in the run's environment by the supervisor: its PID.
ENV = "THRESHER_SUPERVISOR_PID"
_PR_SET_PDEATHSIG = 1
_STOPS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def available() -> bool:
    return sys.platform.startswith("linux") and not os.environ.get("THRESHER_NO_SUPERVISOR")


def run_supervised(argv: list[str]) -> int:
    """Run ``thresher`` with ``argv`` as a supervised child; return its exit code (a run
    killed by a signal kills this process with the same signal)."""
    env = dict(os.environ, **{ENV: str(os.getpid())})
    child = subprocess.Popen([sys.executable, "-m", "flows.cli", *argv], env=env, process_group=0)

    received: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        try:
            os.kill(child.pid, signal.SIGTERM)  # the run then stops its whole group
        except ProcessLookupError:
            pass

    for signum in _STOPS:
        signal.signal(signum, forward)
    code = child.wait()
    try:  # whatever the run left (it may have been killed on its own): gone with it
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    # End as the run ended (or as this process was told to), so callers see what happened.
    fate = received[0] if received else -code if code < 0 else 0
    if fate:
        if fate not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(fate, signal.SIG_DFL)
        os.kill(os.getpid(), fate)
    return code


def become_supervised() -> None:
    """In the run (a child of the supervisor): die with the supervisor, and on any stop
    signal take every process of the group (server, workers) along at once."""
    parent = int(os.environ.pop(ENV))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    for signum in _STOPS:
        signal.signal(signum, _stop_group)
    _watch_for_stops()
    if os.getppid() != parent:  # the supervisor died before the signal was armed
        _stop_group(signal.SIGTERM, None)


def _watch_for_stops() -> None:
    """Act on a stop signal at once, whichever thread the kernel gives it to.

    Python runs a signal handler in the main thread only, when that thread next runs
    Python code; a signal the kernel hands to another thread (Prefect's, the pool's) waits
    until the main thread wakes, which during a run is when the next batch comes back
    (20 s and more were measured on real pages). The interpreter's own C handler also
    writes the signal's number to the wakeup file descriptor from any thread, so a thread
    that only waits on that pipe stops the group as soon as the signal arrives."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            got = os.read(read_end, 1)
            if got and got[0] in _STOPS:
                _stop_group(got[0], None)

    threading.Thread(target=watch, name="thresher-stop-watch", daemon=True).start()


def _stop_group(signum: int, frame: FrameType | None) -> None:
    print(
        f"thresher: stopped by {signal.Signals(signum).name}; the run and its processes end "
        "now. Nothing half-written is visible: the next run completes or redoes the work.",
        file=sys.stderr,
        flush=True,
    )
    os.killpg(os.getpgrp(), signal.SIGKILL)
