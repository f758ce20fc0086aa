"""End to end, the Prefect way, as the README tells a user: `make serve` starts a real
`prefect server start` (on a free loopback port, with a temporary PREFECT_HOME) and serves
prefect.yaml's deployments; `prefect deployment run ... --watch` triggers ingests; the
curated Parquet and the run's artifacts are checked; `make stop` stops everything by PID.
Whatever happens, the fixture stops every process it started, by PID."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # end-to-end: `pytest -m 'not slow'` skips it

ROOT = Path(__file__).resolve().parent.parent
PREFECT = Path(sys.executable).parent / "prefect"
NAMES = ("serve", "server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pids(home: Path) -> dict[str, int]:
    out = {}
    for name in NAMES:
        path = home / f"thresher-{name}.pid"
        if path.exists():
            out[name] = int(path.read_text())
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    env = dict(
        os.environ,
        PREFECT_HOME=str(home),
        PREFECT_PROFILES_PATH=str(home / "profiles.toml"),
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        PREFECT_LOGGING_LEVEL="INFO",
    )
    started: dict[str, int] = {}
    t0 = time.monotonic()
    try:
        proc = subprocess.run(
            ["make", "-s", "serve"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        started = _pids(home)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert set(started) == set(NAMES)
        yield env, home, time.monotonic() - t0
        stop = subprocess.run(
            ["make", "-s", "stop"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert "stopped serve" in stop.stdout and "stopped server" in stop.stdout
        assert not any(_alive(pid) for pid in started.values())
    finally:  # whatever failed above: nothing this test started keeps running
        for pid in {**started, **_pids(home)}.values():
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if _alive(pid):
                    try:
                        os.killpg(pid, sig)
                    except ProcessLookupError:
                        break
                    time.sleep(2)


def _run(env: dict, deployment: str, **params: str) -> subprocess.CompletedProcess:
    args = [str(PREFECT), "deployment", "run", deployment, "--watch"]
    for key, value in params.items():
        args += ["--param", f"{key}={value}"]
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def _api(env: dict, path: str, body: dict | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        env["PREFECT_API_URL"] + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_triggered_run_writes_curated_and_publishes_its_report(served, tmp_path: Path) -> None:
    env, _, _ = served
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    shutil.copytree(ROOT / "raw", raw)
    t0 = time.monotonic()
    proc = _run(
        env, "ingest/adhoc", raw_dir=str(raw), curated_dir=str(curated), ingest_date="2026-11-21"
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(f"triggered run: {time.monotonic() - t0:.1f} s")
    docs = pd.read_parquet(curated / "documents")
    assert len(docs) == 9 and set(docs["ingest_date"].astype(str)) == {"2026-11-21"}
    assert len(pd.read_parquet(curated / "errors")) == 2
    adhoc = _api(env, "/deployments/name/ingest/adhoc")
    query = {"deployments": {"id": {"any_": [adhoc["id"]]}}, "sort": "END_TIME_DESC", "limit": 1}
    (run,) = _api(env, "/flow_runs/filter", query)
    assert run["state"]["type"] == "COMPLETED"
    run_id = run["id"]
    arts = _api(env, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})
    by_key = {a["key"]: a for a in arts}
    assert set(by_key) == {"ingest-summary", "ingest-removed-by-reason"}
    summary = by_key["ingest-summary"]["data"]
    assert "documents written: **9**" in summary and "failed: **2**" in summary
    assert "Most removed lines" in summary
    table = json.loads(by_key["ingest-removed-by-reason"]["data"])
    assert {row["reason"] for row in table} >= {"cookie_banner", "promo", "caption"}


def test_nightly_is_scheduled_at_two_and_takes_only_what_is_new(served, tmp_path: Path) -> None:
    env, _, _ = served
    nightly = _api(env, "/deployments/name/ingest/nightly")
    (schedule,) = nightly["schedules"]
    assert schedule["schedule"]["cron"] == "0 2 * * *"
    assert schedule["schedule"]["timezone"] == "UTC" and schedule["active"]
    assert nightly["parameters"]["raw_dir"] == "raw"
    assert _api(env, "/deployments/name/ingest/adhoc")["schedules"] == []

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    shutil.copytree(ROOT / "raw" / "2026-11-20", raw / "2026-11-20")
    params = {"raw_dir": str(raw), "curated_dir": str(curated)}
    assert _run(env, "ingest/nightly", **params, ingest_date="2026-11-20").returncode == 0
    # a missed night, then new files: the next run takes exactly what is new
    shutil.copytree(ROOT / "raw" / "2026-11-21", raw / "2026-11-21")
    assert _run(env, "ingest/nightly", **params, ingest_date="2026-11-22").returncode == 0
    docs = pd.read_parquet(curated / "documents")
    assert docs["source_path"].is_unique
    by_day = docs.groupby(docs["ingest_date"].astype(str))["source_path"].apply(set).to_dict()
    assert all(p.startswith("2026-11-20/") for p in by_day["2026-11-20"])
    assert all(p.startswith("2026-11-21/") for p in by_day["2026-11-22"])
    assert len(by_day["2026-11-22"]) == 6  # 4 files, one of them a dump of 2 good records
