"""Crashes and concurrent runs: an ingest killed with SIGKILL at any moment leaves
curated/ readable with no partial file visible, and the next run completes the work with
the result of an uninterrupted run; two runs on one curated folder take turns.

Killed runs are real processes (``thresher ingest``) talking to the session's Prefect test
API. ``THRESHER_FAILPOINT`` makes the writer SIGKILL itself at a named point of a write
(inside a file, before its rename, between tables); other kills land at random times."""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from flows import store
from schemas.tables import TABLES
from tests.helpers import FOOTER, story, write

pytestmark = pytest.mark.slow  # end-to-end: `pytest -m 'not slow'` skips it

EXE = Path(sys.executable).parent / "thresher"
DAY1, DAY2 = "2026-11-20", "2026-11-21"


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> tuple[Path, Path]:
    """raw_a: yesterday's files; raw_b: the same plus today's."""
    base = tmp_path_factory.mktemp("corpora")
    raw_a, raw_b = base / "raw_a", base / "raw_b"
    for i in range(40):
        write(raw_a, f"old/{i:03d}.txt", story(1000 + i, 6) + [FOOTER])
    shutil.copytree(raw_a, raw_b)
    for i in range(120):
        write(raw_b, f"new/{i:03d}.txt", story(2000 + i, 6) + [FOOTER])
    (raw_b / "new" / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    return raw_a, raw_b


def _cmd(raw: Path, curated: Path, day: str, *extra: str) -> list[str]:
    return [str(EXE), "ingest", str(raw), str(curated), "--ingest-date", day, *extra]


def _ingest(raw: Path, curated: Path, day: str, env: dict, failpoint: str | None = None) -> int:
    run_env = dict(env, THRESHER_FAILPOINT=failpoint) if failpoint else env
    proc = subprocess.run(_cmd(raw, curated, day), env=run_env, capture_output=True, timeout=300)
    return proc.returncode


def _contents(curated: Path) -> dict[str, pd.DataFrame]:
    """Every table as pandas reads it, minus ingested_at (the wall-clock time of a run)."""
    out = {}
    for name in TABLES:
        df = pd.read_parquet(curated / name)
        df = df.drop(columns=[c for c in ("ingested_at",) if c in df.columns])
        df["ingest_date"] = df["ingest_date"].astype(str)
        out[name] = df.sort_values(list(df.columns[:2])).reset_index(drop=True)
    return out


def _assert_same(curated: Path, reference: dict[str, pd.DataFrame]) -> None:
    """Every table equals the uninterrupted run's."""
    got = _contents(curated)
    for name, df in reference.items():
        pd.testing.assert_frame_equal(got[name], df, obj=name)


def _assert_readable(curated: Path) -> None:
    """pandas reads every table, and every visible file is a complete Parquet file."""
    for name in TABLES:
        if (curated / name).is_dir():
            pd.read_parquet(curated / name)
    for f in curated.rglob("*.parquet"):
        if not any(part.startswith(".") for part in f.relative_to(curated).parts):
            pq.read_metadata(f)


@pytest.fixture(scope="module")
def reference(corpora, tmp_path_factory, prefect_harness) -> dict[str, pd.DataFrame]:
    from flows.ingest import ingest

    raw_a, raw_b = corpora
    curated = tmp_path_factory.mktemp("reference")
    ingest(raw_dir=str(raw_a), curated_dir=str(curated), ingest_date=DAY1)
    ingest(raw_dir=str(raw_b), curated_dir=str(curated), ingest_date=DAY2)
    return _contents(curated)


def test_kill_at_every_write_point_then_rerun(corpora, env, reference, tmp_path: Path) -> None:
    raw_a, raw_b = corpora
    curated = tmp_path / "curated"
    assert _ingest(raw_a, curated, DAY1, env) == 0
    day1 = {f: f.read_bytes() for f in curated.rglob("*.parquet")}
    for point in ("mid_file", "before_rename", "after_documents", "after_removed"):
        assert _ingest(raw_b, curated, DAY2, env, failpoint=point) == -signal.SIGKILL, point
        _assert_readable(curated)
        assert {f: f.read_bytes() for f in day1} == day1, f"yesterday changed after {point}"
    assert _ingest(raw_b, curated, DAY2, env) == 0
    _assert_readable(curated)
    assert not list(curated.rglob(".*.tmp")), "temporary files left behind"
    _assert_same(curated, reference)


def test_kill_during_a_same_day_rerun_keeps_the_old_partition(corpora, env, tmp_path: Path) -> None:
    _, raw_b = corpora
    curated = tmp_path / "curated"
    assert _ingest(raw_b, curated, DAY2, env) == 0
    before = {f: f.read_bytes() for f in curated.rglob("*.parquet")}
    for point in ("mid_file", "before_rename"):
        assert _ingest(raw_b, curated, DAY2, env, failpoint=point) == -signal.SIGKILL
        after = {
            f: f.read_bytes() for f in curated.rglob("*.parquet") if not f.name.startswith(".")
        }
        assert after == before, point


def test_kill_at_random_moments_then_rerun(corpora, env, reference, tmp_path: Path) -> None:
    raw_a, raw_b = corpora
    curated = tmp_path / "curated"
    assert _ingest(raw_a, curated, DAY1, env) == 0
    t0 = time.monotonic()
    assert _ingest(raw_b, curated, DAY2, env) == 0
    duration = time.monotonic() - t0
    rng = random.Random(20261121)
    for _ in range(3):
        proc = subprocess.Popen(
            _cmd(raw_b, curated, DAY2),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Well inside the run (a rerun takes about as long as the timed one), so the kill
        # lands; a run that ended first would test nothing.
        time.sleep(rng.uniform(0.15, 0.7) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, "the run ended before the kill landed"
        _assert_readable(curated)
    assert _ingest(raw_b, curated, DAY2, env) == 0
    _assert_same(curated, reference)


# --- concurrent runs -------------------------------------------------------------------------


def test_a_run_waits_for_the_lock_and_then_says_why_it_stops(
    corpora, tmp_path: Path, prefect_harness
) -> None:
    from flows.ingest import ingest

    raw_a, _ = corpora
    curated = tmp_path / "curated"
    with store.curated_lock(curated), pytest.raises(store.CuratedLocked) as info:
        ingest(raw_dir=str(raw_a), curated_dir=str(curated), ingest_date=DAY1, lock_timeout=1)
    assert "another ingest is writing" in str(info.value)
    assert f"pid {os.getpid()}" in str(info.value)
    assert not (curated / "documents").exists()  # nothing was written while it waited
    ingest(raw_dir=str(raw_a), curated_dir=str(curated), ingest_date=DAY1, lock_timeout=1)
    assert len(pd.read_parquet(curated / "documents")) == 40


def test_two_runs_started_at_once_take_turns(corpora, env, reference, tmp_path: Path) -> None:
    _, raw_b = corpora
    curated = tmp_path / "curated"
    procs = [
        subprocess.Popen(
            _cmd(raw_b, curated, DAY2),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    _assert_readable(curated)
    got = _contents(curated)
    expected = reference["documents"]
    assert set(got["documents"]["source_path"]) == set(
        expected[expected["ingest_date"] == DAY1]["source_path"]
    ) | set(expected[expected["ingest_date"] == DAY2]["source_path"])
    assert got["documents"]["source_path"].is_unique


def test_cli_stops_with_a_clear_message_when_the_lock_stays_taken(
    corpora, env, tmp_path: Path
) -> None:
    raw_a, _ = corpora
    curated = tmp_path / "curated"
    with store.curated_lock(curated):
        proc = subprocess.run(
            _cmd(raw_a, curated, DAY1, "--lock-timeout", "0"),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 3
    assert "another ingest is writing" in proc.stderr and "lock_timeout" in proc.stderr


# --- reliability, round two (issue 14) -------------------------------------------------------


def test_a_kill_between_table_commits_is_completed_by_the_next_nights_run(
    corpora, env, reference, tmp_path: Path
) -> None:
    """Killed after the documents table of DAY1 moved into place and before the others:
    a reader can tell (the commit journal names DAY1), and the next night's run (DAY2)
    completes DAY1 before it reads the history, so no document is skipped against a date
    whose paragraphs never landed."""
    raw_a, raw_b = corpora
    curated = tmp_path / "curated"
    assert _ingest(raw_a, curated, DAY1, env, failpoint="after_documents") == -signal.SIGKILL
    assert store.pending_commit(curated) == DAY1
    assert _ingest(raw_b, curated, DAY2, env) == 0
    assert store.pending_commit(curated) is None
    _assert_same(curated, reference)


def test_a_kill_before_the_commit_leaves_no_table_of_the_date(corpora, env, tmp_path: Path) -> None:
    raw_a, _ = corpora
    curated = tmp_path / "curated"
    assert _ingest(raw_a, curated, DAY1, env, failpoint="before_commit") == -signal.SIGKILL
    assert store.pending_commit(curated) is None
    assert not list(curated.rglob("part-0.parquet"))  # all four tables or none


def test_a_kill_with_batches_set_aside_leaves_nothing_behind(env, tmp_path: Path) -> None:
    """Cleaned batches wait in CURATED_DIR/.thresher-spill while dedup decides the keepers;
    a kill while they are written out leaves them, and the next run removes them. A head
    of a near-duplicate group fed in an earlier batch is marked before it is written (this
    once needed a rewrite of the documents file at commit)."""
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    original = story(77, 8)
    write(raw, "a.txt", original)
    write(raw, "b.txt", original[:-1] + ["A closing line the copy adds about the weather."])
    cmd = [*_cmd(raw, curated, DAY1), "--batch-size", "1"]
    killed = subprocess.run(
        cmd, env=dict(env, THRESHER_FAILPOINT="mid_file"), capture_output=True, timeout=300
    )
    assert killed.returncode == -signal.SIGKILL
    assert list((curated / ".thresher-spill").iterdir()), "the kill did not hit the write-out"
    assert subprocess.run(cmd, env=env, capture_output=True, timeout=300).returncode == 0
    assert not [p for p in curated.rglob(".*") if ".tmp" in p.name], "temporary files left"
    assert not (curated / ".thresher-spill").exists()
    docs = pd.read_parquet(curated / "documents").set_index("source_path")
    head = docs.loc["a.txt", "doc_id"]
    assert docs.loc["a.txt", "near_dup_cluster"] == head == docs.loc["b.txt", "near_dup_cluster"]


def _descendants(pid: int) -> dict[int, str]:
    """{pid: command line} of every living process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                try:
                    cmdline = (Path("/proc") / str(child) / "cmdline").read_bytes()
                except OSError:
                    continue
                found[child] = cmdline.replace(b"\0", b" ").decode(errors="replace")
                frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="supervision uses prctl")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_run_takes_its_server_and_workers_with_it(
    corpora, tmp_path: Path, signum: int
) -> None:
    """Local mode (no PREFECT_API_URL): the run starts Prefect's temporary API server and,
    with --workers 2, worker processes. Killing `thresher ingest` must not leave them
    running under PID 1."""
    _, raw_b = corpora
    home = tmp_path / "prefect"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(home), PREFECT_PROFILES_PATH=str(home / "profiles.toml"))
    proc = subprocess.Popen(
        [*_cmd(raw_b, tmp_path / "curated", DAY1), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        seen: dict[int, str] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            seen.update(_descendants(proc.pid))
            if any("uvicorn" in cmd for cmd in seen.values()):
                break
            time.sleep(0.2)
        assert any("uvicorn" in cmd for cmd in seen.values()), "the temporary API never started"
        time.sleep(1.0)
        seen.update(_descendants(proc.pid))
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == -signum
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(p) for p in seen):
            time.sleep(0.2)
        left = {p: c for p, c in seen.items() if _alive(p)}
        assert not left, f"left running after {signal.Signals(signum).name}: {left}"
    finally:
        for pid in [proc.pid, *_descendants(proc.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# A supervised run whose main thread cannot take the signal: it blocks the stop signals
# in itself only (another thread keeps them open) and sleeps, as a run's main thread
# waits for its next batch while the kernel hands the signal to another thread.
_BUSY_RUN = """
import os, signal, sys, threading, time
from flows import supervise
supervise.become_supervised()
threading.Thread(target=time.sleep, args=(120,), daemon=True).start()
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGHUP, signal.SIGINT})
print("ready", flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="supervision uses prctl")
def test_a_stop_signal_ends_the_run_while_its_main_thread_waits(tmp_path: Path) -> None:
    """Python runs signal handlers in the main thread, when it next runs Python code; a
    run waiting for a batch would stop only once the batch came back (20 s and more on
    real pages). The run stops its group as soon as any of its threads gets the signal."""
    from flows import supervise

    env = dict(os.environ, **{supervise.ENV: str(os.getpid())})
    proc = subprocess.Popen(
        [sys.executable, "-c", _BUSY_RUN],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0,  # the run kills its own group, never the test's
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        # Without the watcher the run sleeps on for two minutes.
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert "stopped by SIGTERM" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def _no_bigger_files_than(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past it fail with EFBIG instead


def test_a_write_the_system_refuses_ends_with_one_clear_line(corpora, env, tmp_path: Path) -> None:
    """A full disk (here: the kernel's file-size limit, so writes fail with EFBIG as they
    do with ENOSPC): exit code 5, one line saying why, yesterday's data untouched, no
    temporary file or empty partition folder left."""
    raw_a, raw_b = corpora
    curated = tmp_path / "curated"
    assert _ingest(raw_a, curated, DAY1, env) == 0
    before = {p: p.read_bytes() for p in curated.rglob("*.parquet")}
    proc = subprocess.run(
        _cmd(raw_b, curated, DAY2),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: _no_bigger_files_than(20_000),
    )
    assert proc.returncode == 5, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("thresher: ") and "too large" in last.lower(), last
    assert {p: p.read_bytes() for p in curated.rglob("*.parquet")} == before
    assert not [p for p in curated.rglob(f"*{DAY2}*")], "partition folders left for DAY2"
    assert not [p for p in curated.rglob(".*") if ".tmp" in p.name]
