"""The command line, run as a user runs it (a real process, Prefect's local mode)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from cleaners.scorer import feature_names

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).parent / "thresher"


def _run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_PROFILES_PATH=str(home / "p.toml"))
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env, timeout=300)


def test_explain_marks_every_paragraph(tmp_path: Path) -> None:
    r = _run("explain", str(ROOT / "raw" / "2026-11-20" / "harbour-bridge.txt"), home=tmp_path)
    assert r.returncode == 0, r.stderr
    for reason in (
        "cookie_banner",
        "title",
        "byline",
        "dateline",
        "section",
        "caption",
        "promo",
        "related_link",
        "attribution",
        "share",
    ):
        assert f"- {reason}" in r.stdout
    assert "kept" in r.stdout and '"author": "Maria Castell"' in r.stdout
    # The line scorer's probability: a number for the lines it decided, blank for rules.
    lines = r.stdout.splitlines()
    assert "p(body)" in lines[0]
    kept = [line for line in lines if "  kept  " in line]
    assert kept and all(0.0 <= float(line.split()[1]) <= 1.0 for line in kept)
    cookie = next(line for line in lines if "- cookie_banner" in line)
    assert cookie.split()[1] == "-"
    # Every lifted field says which line it came from.
    # A field a learned picker chose shows its probability: "title line 4 (p 0.83)".
    lifted = next(line for line in lines if line.startswith("lifted from:"))
    by_field = dict(
        part.split(" line ") for part in lifted.removeprefix("lifted from: ").split(", ")
    )
    line_of = {name: value.split(" (p ")[0] for name, value in by_field.items()}
    author_line = next(line for line in lines if "- byline" in line)
    assert line_of["author"] == author_line.split()[0]
    title_line = next(line for line in lines if "- title" in line)
    assert line_of["title"] == title_line.split()[0]
    picked = [name for name, value in by_field.items() if " (p " in value]
    assert "title" in picked
    for name in picked:
        assert 0.0 <= float(by_field[name].split(" (p ")[1].rstrip(")")) <= 1.0


def test_explain_says_which_features_moved_the_line_scorer(tmp_path: Path) -> None:
    """Under each line the scorer removed, the three features that moved its log-odds
    most, signed; with --why, under every line it decided (issue 16)."""
    case = json.loads((ROOT / "tests" / "cases" / "not_body.json").read_text())[0]
    page = tmp_path / "page.txt"
    page.write_text(case["input"], encoding="utf-8")

    def reasons(out: str, decision: str) -> list[list[str]]:
        lines = out.splitlines()
        found = []
        for line, below in pairwise(lines):
            if f" {decision} " in line:
                assert below.strip().startswith("why: "), line
                found.append(below.split("why: ")[1].split(", "))
        return found

    plain = _run("explain", str(page), home=tmp_path)
    assert plain.returncode == 0, plain.stderr
    removed = reasons(plain.stdout, "- not_body")
    assert len(removed) >= len(case["removed"])
    for named in removed:
        assert len(named) == 3
        for part in named:
            name, moved = part.rsplit(" ", 1)
            assert name in feature_names() and moved[0] in "+-" and abs(float(moved)) < 100
    assert all(line.split()[1] != "why:" for line in plain.stdout.splitlines() if "kept" in line)
    every = _run("explain", "--why", str(page), home=tmp_path)
    assert len(reasons(every.stdout, "kept")) == every.stdout.count(" kept ") >= len(case["kept"])


def test_explain_reports_an_unreadable_file(tmp_path: Path) -> None:
    r = _run("explain", str(ROOT / "raw" / "broken" / "photo-saved-as.txt"), home=tmp_path)
    assert r.returncode == 1 and "undecodable" in r.stderr


def test_ingest_command_prints_summary_and_writes(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", raw)
    r = _run(
        "ingest",
        str(raw),
        str(tmp_path / "curated"),
        "--ingest-date",
        "2026-11-21",
        home=tmp_path / "prefect",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "files: 9 found; documents: 9 written, 0 skipped, 2 failed" in r.stdout
    assert "caption" in r.stdout
    docs = pd.read_parquet(tmp_path / "curated" / "documents")
    assert len(docs) == 9


def test_explain_html_and_a_jsonl_record(tmp_path: Path) -> None:
    page = ROOT / "raw" / "2026-11-21" / "council-budget.html"
    r = _run("explain", str(page), home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "- promo" in r.stdout and '"site": "Eastbay Courier"' in r.stdout
    assert "read from the page: author from the markup;" in r.stdout
    assert "title from <h1>" in r.stdout
    dump = ROOT / "raw" / "2026-11-21" / "wire-dump.jsonl.gz"
    r = _run("explain", f"{dump}:1", home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "- related_link" in r.stdout and "wire.example.net" in r.stdout
    r = _run("explain", str(dump), home=tmp_path)
    assert r.returncode == 1 and "FILE:LINE" in r.stderr
    r = _run("explain", f"{dump}:3", home=tmp_path)
    assert r.returncode == 1 and "bad_record" in r.stderr


def test_version_and_help_name_defaults_and_reason_codes(tmp_path: Path) -> None:
    """Issue 17, finding 7."""
    version = _run("--version", home=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("thresher 0.")
    helped = _run("ingest", "--help", home=tmp_path)
    assert "(default 500)" in helped.stdout and "cookie_banner" in helped.stdout
    assert "cookie_banner" in _run("explain", "--help", home=tmp_path).stdout


@pytest.mark.parametrize(
    ("url", "code", "says"),
    [
        # a protocol whose file system is not installed names the extra that brings it
        ("gcs-not-installed", 4, "pip install 'thresher[gcs]'"),
        ("nosuch://b/raw", 4, "nosuch:// is not an fsspec protocol"),
        ("file:///nonexistent-thresher/raw", 2, "RAW_DIR /nonexistent-thresher/raw is not a"),
    ],
)
def test_a_url_that_cannot_be_used_is_one_line(
    tmp_path: Path, url: str, code: int, says: str
) -> None:
    if url == "gcs-not-installed":
        if importlib.util.find_spec("gcsfs") is not None:
            pytest.skip("gcsfs is installed here")
        url = "gs://b/raw"
    r = _run("ingest", url, str(tmp_path / "out"), home=tmp_path)
    assert r.returncode == code and says in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "out").exists()
    assert not Path("s3:").exists() and not Path("gs:").exists()


def test_explain_refuses_what_it_cannot_explain(tmp_path: Path) -> None:
    txt = ROOT / "raw" / "2026-11-20" / "harbour-bridge.txt"
    missing = _run("explain", str(tmp_path / "nope.txt"), home=tmp_path)
    assert missing.returncode == 1 and "not_found" in missing.stderr
    line_of_text = _run("explain", f"{txt}:3", home=tmp_path)
    assert line_of_text.returncode == 1 and "is not one" in line_of_text.stderr
    other = tmp_path / "log.csv"
    other.write_text("a,b\n")
    assert "not an input thresher reads" in _run("explain", str(other), home=tmp_path).stderr
    bad = _run("explain", str(txt), "--disable", "captions", home=tmp_path)
    assert bad.returncode == 2 and "unknown reason codes" in bad.stderr


def test_explain_takes_the_cleaning_settings_of_ingest(tmp_path: Path) -> None:
    txt = str(ROOT / "raw" / "2026-11-20" / "harbour-bridge.txt")
    default = _run("explain", txt, home=tmp_path)
    no_captions = _run("explain", txt, "--disable", "caption", home=tmp_path)
    assert "- caption" in default.stdout and "- caption" not in no_captions.stdout
    small = _run("explain", txt, "--max-paragraphs", "3", home=tmp_path)
    assert small.returncode == 1 and "too_many_paragraphs" in small.stderr


def test_prefect_state_goes_to_the_project_not_the_home_folder(tmp_path: Path) -> None:
    """Issue 17, finding 11: a direct `thresher ingest` wrote into ~/.prefect."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["HOME"] = str(tmp_path)
    code = "import os, flows.cli; print(os.environ['PREFECT_HOME'])"
    home = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert home.stdout.strip() == str(ROOT / ".prefect"), home.stderr
    env["PREFECT_HOME"] = str(tmp_path / "mine")
    mine = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert mine.stdout.strip() == str(tmp_path / "mine")


def test_progress_lines_quiet_and_a_bar_on_a_terminal(tmp_path: Path, env) -> None:
    """Issue 17, finding 8: per-batch lines when not on a terminal, nothing with --quiet,
    a bar with rate and time left on a terminal; Prefect's INFO lines only with --verbose.
    (Runs against the session's Prefect test API: no temporary server per run.)"""
    raw = tmp_path / "raw"
    shutil.copytree(ROOT / "raw" / "2026-11-20", raw)

    def args(out: str) -> list[str]:
        return [str(EXE), "ingest", str(raw), str(tmp_path / out), "--batch-size", "1"]

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)

    plain = run(*args("plain"))
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert "cleaning: batch 3/3, 3 documents" in plain.stderr
    assert "writing: batch 3/3" in plain.stderr
    assert "Beginning flow run" not in plain.stderr + plain.stdout  # Prefect INFO hidden
    quiet = run(*args("quiet"), "--quiet")
    assert quiet.returncode == 0 and "batch" not in quiet.stderr
    assert "documents: 3 written" in quiet.stdout
    command = " ".join(args("tty"))
    on_tty = subprocess.run(
        ["script", "-qec", command, "/dev/null"],
        capture_output=True,
        text=True,
        env=dict(env, COLUMNS="160"),
        timeout=300,
    )
    assert on_tty.returncode == 0, on_tty.stdout[-2000:]
    assert "cleaning" in on_tty.stdout and "docs/s" in on_tty.stdout and "left" in on_tty.stdout
    assert "━" in on_tty.stdout  # the bar itself


def test_make_status_fails_when_the_api_does_not_answer(tmp_path: Path) -> None:
    """Issue 17, finding 11: `make status` printed health 0 and exited 0."""
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        for name in ("server", "serve"):
            (tmp_path / f"thresher-{name}.pid").write_text(str(sleeper.pid))
        env = dict(os.environ, PREFECT_HOME=str(tmp_path), PREFECT_SERVER_API_PORT="9")
        status = subprocess.run(
            [sys.executable, "-m", "flows.serve", "status"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert status.returncode == 1 and "does not answer /health" in status.stderr
    finally:
        sleeper.kill()
        sleeper.wait()
    gone = subprocess.run(
        [sys.executable, "-m", "flows.serve", "status"], capture_output=True, text=True, env=env
    )
    assert gone.returncode == 1 and "server is not running" in gone.stderr
