"""`make serve` / `make stop`: a local Prefect server and the deployments of prefect.yaml.

    python -m flows.serve start     # server on 127.0.0.1, then serve the deployments
    python -m flows.serve stop      # stop both, by the PIDs start recorded
    python -m flows.serve status
    python -m flows.serve deployments   # (what start runs) serve prefect.yaml's deployments

The server keeps its SQLite database under PREFECT_HOME (the project's ``.prefect/`` when
started by make), listens on 127.0.0.1 only, on PREFECT_SERVER_API_PORT (default 4200),
with telemetry off. Both processes run detached in their own process groups; their PIDs
go to PREFECT_HOME/thresher-*.pid and their logs to PREFECT_HOME/logs/.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PREFECT_YAML = ROOT / "prefect.yaml"
HOST = "127.0.0.1"
DEFAULT_PORT = 4200
START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
# Served flow runs are picked up this often (seconds); Prefect's default is 10.
RUNNER_POLL_SECONDS = "2"
QUIET = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME", ROOT / ".prefect")).resolve()


def port() -> int:
    return int(os.environ.get("PREFECT_SERVER_API_PORT", DEFAULT_PORT))


def api_url() -> str:
    return f"http://{HOST}:{port()}/api"


def _pidfile(name: str) -> Path:
    return prefect_home() / f"thresher-{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _running(name: str) -> int | None:
    path = _pidfile(name)
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _get(path: str) -> int:
    try:
        with urllib.request.urlopen(f"{api_url()}{path}", timeout=3) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


def _wait(what: str, check: Any, pid: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return
        if not _alive(pid):
            raise SystemExit(f"{what} exited during start-up; see {log}")
        time.sleep(0.5)
    raise SystemExit(f"{what} not ready after {START_TIMEOUT:.0f} s; see {log}")


def _spawn(name: str, cmd: list[str], env: dict[str, str]) -> int:
    logs = prefect_home() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
    _pidfile(name).write_text(f"{proc.pid}\n")
    return proc.pid


def deployment_specs(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The deployments declared in prefect.yaml."""
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(spec.get("deployments") or [])


def start() -> int:
    home = prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PREFECT_HOME=str(home), **QUIET)
    bin_dir = Path(sys.executable).parent
    server = _running("server")
    if server is None:
        cmd = [str(bin_dir / "prefect"), "server", "start", "--host", HOST, "--port", str(port())]
        server = _spawn("server", cmd, env)
        _wait("Prefect server", lambda: _get("/health") == 200, server, home / "logs/server.log")
    names = [d["name"] for d in deployment_specs()]
    serve = _running("serve")
    if serve is None:
        serve_env = dict(env, PREFECT_API_URL=api_url())
        serve_env.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", RUNNER_POLL_SECONDS)
        serve = _spawn("serve", [sys.executable, "-m", "flows.serve", "deployments"], serve_env)
        _wait(
            "deployment server",
            lambda: all(_get(f"/deployments/name/ingest/{n}") == 200 for n in names),
            serve,
            home / "logs/serve.log",
        )
    print(f"Prefect server: http://{HOST}:{port()} (pid {server}; UI and API)")
    print(f"serving: {', '.join('ingest/' + n for n in names)} (pid {serve})")
    print(f"logs: {home / 'logs'}; stop with: make stop")
    print(f"from another shell:  export PREFECT_API_URL={api_url()}")
    return 0


def stop() -> int:
    stopped = False
    for name in ("serve", "server"):  # the process that uses the server first
        pid = _running(name)
        if pid is not None:
            _stop_group(pid)
            print(f"stopped {name} (pid {pid})")
            stopped = True
        _pidfile(name).unlink(missing_ok=True)
    if not stopped:
        print("nothing to stop")
    return 0


def _stop_group(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.2)


def status() -> int:
    """Exit 0 only when both processes run and the API answers ``/health`` with 200."""
    state = {name: _running(name) for name in ("server", "serve")}
    health = _get("/health")
    print(json.dumps({"api": api_url(), "health": health, "pids": state}))
    problems = [f"{name} is not running" for name, pid in state.items() if pid is None]
    if health != 200:
        problems.append(
            f"the API at {api_url()} does not answer /health"
            + (f" (HTTP {health})" if health else " (no connection)")
        )
    for problem in problems:
        print(f"status: {problem}", file=sys.stderr)
    return 1 if problems else 0


def serve_deployments() -> None:
    """Serve every deployment of prefect.yaml from this process (blocks)."""
    from prefect import serve
    from prefect.schedules import Cron

    from flows.ingest import ingest

    deployments = []
    for spec in deployment_specs():
        if spec.get("entrypoint") != "flows/ingest.py:ingest":
            raise SystemExit(f"unknown entrypoint in prefect.yaml: {spec.get('entrypoint')}")
        schedules = [
            Cron(s["cron"], timezone=s.get("timezone"), active=s.get("active", True))
            for s in spec.get("schedules") or []
        ]
        deployments.append(
            ingest.to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                parameters=spec.get("parameters") or {},
                schedules=schedules,
            )
        )
    serve(*deployments)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m flows.serve", description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["start", "stop", "status", "deployments"])
    args = ap.parse_args(argv)
    if args.command == "deployments":
        serve_deployments()
        return 0
    return {"start": start, "stop": stop, "status": status}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
