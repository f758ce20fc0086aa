"""End-to-end ingest benchmark on synthetic articles (benchmarks/corpus.py).

    .venv/bin/python benchmarks/ingest_bench.py --docs 1000 10000 100000 [--workers 2]

For each corpus size it reports, from real runs of ``thresher ingest`` (Prefect flow,
Parquet and all, in a fresh process):

- documents/s and MB/s of raw input, wall time, and the cost per document;
- seconds per stage (read, decode, clean, dedup, write) as the flow measured them;
- peak memory: the resident set of the whole process tree (the ingest and its worker
  processes), sampled every 0.2 s, and the run's own dedup state (its share of history);
- Prefect's share of the wall time: for the sizes up to ``--plain-up-to``, the flow is
  also run on one core (``--workers 1``) and the same batches are run without Prefect
  (the same functions called in a plain loop, one core); the share is the difference
  over the flow's wall time, temporary API start-up included.

Once per invocation, on the first 2,000 pages: cleaning alone (``process_document`` in
one process, one core), and trafilatura's extraction speed on the HTML of the same pages,
as a ratio. Corpora are generated once into WORK (hard links for the smaller sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import article, as_html, write_corpus  # noqa: E402

EXE = Path(sys.executable).parent / "thresher"
SAMPLE = 2000


def corpus(work: Path, docs: int, largest: int) -> Path:
    """A raw folder of ``docs`` articles: the largest generated once, others linked."""
    full = work / f"corpus-{largest}"
    if not (full / ".done").exists():
        shutil.rmtree(full, ignore_errors=True)
        t0 = time.perf_counter()
        size = write_corpus(full, largest)
        (full / ".done").write_text(str(size))
        took = time.perf_counter() - t0
        print(f"generated {largest} articles ({size / 1e6:.0f} MB) in {took:.0f} s")
    if docs == largest:
        return full
    part = work / f"corpus-{docs}"
    if not (part / ".done").exists():
        shutil.rmtree(part, ignore_errors=True)
        for n in range(docs):
            src = full / f"{n // 1000:03d}" / f"a{n:07d}.txt"
            dst = part / src.parent.name / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.link(src, dst)
        (part / ".done").write_text("linked")
    return part


def raw_bytes(raw: Path) -> int:
    return sum(f.stat().st_size for f in raw.rglob("*.txt"))


def clean_alone(raw: Path) -> dict[str, float]:
    files = sorted(raw.rglob("*.txt"))[:SAMPLE]
    return time_cleaning([f.read_bytes() for f in files])


def time_cleaning(datas: list[bytes], disabled: tuple[str, ...] = ()) -> dict[str, float]:
    """``process_document`` over preloaded documents in this process (one core), with the
    reason codes in ``disabled`` turned off."""
    from cleaners.clean import CleanSettings
    from cleaners.document import process_document

    settings = CleanSettings.from_disabled(disabled)
    process_document(datas[0], "warm-up.txt", settings=settings)
    t0 = time.perf_counter()
    for i, data in enumerate(datas):
        process_document(data, f"{i}.txt", settings=settings)
    dt = time.perf_counter() - t0
    return {
        "pages": len(datas),
        "docs_per_s": len(datas) / dt,
        "mb_per_s": sum(map(len, datas)) / dt / 1e6,
        "kb_per_page": sum(map(len, datas)) / len(datas) / 1e3,
    }


def trafilatura_alone(pages: int) -> dict[str, float]:
    import trafilatura

    html = [as_html(article(n)) for n in range(pages)]
    trafilatura.extract(html[0])
    t0 = time.perf_counter()
    for page in html:
        trafilatura.extract(page)
    dt = time.perf_counter() - t0
    return {"pages": pages, "pages_per_s": pages / dt}


def _role(proc: psutil.Process, root: psutil.Process) -> str:
    """What a process of the run's tree is: the command, the run, its API server or a
    cleaning worker."""
    if proc.pid == root.pid:
        return "supervisor"
    line = " ".join(proc.cmdline())
    if "flows.cli" in line:
        return "run"
    if "uvicorn" in line:
        return "api server"
    if "resource_tracker" in line:
        return "resource tracker"
    return "worker" if "spawn_main" in line else "other"


def _sample_tree(pid: int, peak: dict[str, Any], stop: threading.Event) -> None:
    """Every 0.2 s, the RSS of the process tree under ``pid``; keeps the largest sum in
    ``peak["bytes"]`` and what each process held at that moment in ``peak["parts"]``."""
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
            held = [(_role(p, root), p.memory_info().rss) for p in procs if p.is_running()]
            rss = sum(b for _, b in held)
            if rss > peak["bytes"]:
                peak["bytes"], peak["parts"] = rss, held
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        stop.wait(0.2)


def ingest(
    raw: Path, curated: Path, workers: int, env: dict[str, str], defaults: bool = False
) -> dict:
    """One ``thresher ingest`` run; ``defaults``: no option but the date."""
    cmd = [str(EXE), "ingest", str(raw), str(curated), "--json", "--ingest-date", "2026-11-21"]
    if not defaults:
        cmd += ["--workers", str(workers), "--batch-size", "1000"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    peak: dict[str, Any] = {"bytes": 0, "parts": []}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_tree, args=(proc.pid, peak, stop), daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed ({proc.returncode})")
    summary = json.loads(out)
    parts = sorted(peak["parts"], key=lambda part: -part[1])
    return {
        "wall_s": wall,
        "peak_rss_mb": peak["bytes"] / 1e6,
        "peak_parts_mb": [[role, round(b / 1e6)] for role, b in parts],
        "summary": summary,
    }


def run_env(work: Path) -> dict[str, str]:
    """The environment of the measured runs: offline, quiet, Prefect state under WORK."""
    return dict(
        os.environ,
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_HOME=str(work / "prefect"),
        PREFECT_LOGGING_LEVEL="WARNING",
    )


def plain(raw: Path, curated: Path) -> float:
    """The same batches without Prefect: read and clean, dedup, write, in one loop."""
    from cleaners.rundedup import RunDedup
    from flows import pipeline, store
    from flows.history import load_history
    from flows.sources import discover

    t0 = time.perf_counter()
    history = load_history(curated, exclude_date="2026-11-21")
    paths = discover(raw)
    run = RunDedup(history)
    writer = store.PartitionWriter(curated, "2026-11-21")
    now = datetime.now(UTC)
    aside = store.BatchSpill(curated)
    for i in range(0, len(paths), 1000):
        result = pipeline.process_paths(raw, paths[i : i + 1000], seen=history.sources)
        docs, _ = run.feed(result.docs)
        aside.put((docs, result.errors))
    run.finish()
    for docs, errors in aside.take():
        run.apply(docs)
        writer.append(pipeline.table_rows(docs, errors, now))
    aside.close()
    writer.commit()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--work", type=Path, help="keep corpora here between runs")
    ap.add_argument("--plain-up-to", type=int, default=10_000, help="sizes to run without Prefect")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="thresher-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    largest = max(args.docs)
    env = run_env(work)

    first = corpus(work, min(args.docs), largest)
    alone = clean_alone(first)
    traf = trafilatura_alone(min(300, SAMPLE))
    print(
        f"cleaning alone (1 core, {alone['pages']} pages of {alone['kb_per_page']:.1f} KB): "
        f"{alone['docs_per_s']:.0f} docs/s, {alone['mb_per_s']:.2f} MB/s"
    )
    print(
        f"trafilatura.extract on the same pages' HTML: {traf['pages_per_s']:.0f} pages/s; "
        f"cleaning is {alone['docs_per_s'] / traf['pages_per_s']:.1f}x its speed"
    )

    rows = []
    for docs in sorted(args.docs):
        raw = corpus(work, docs, largest)
        mb = raw_bytes(raw) / 1e6
        curated = work / f"curated-{docs}"
        shutil.rmtree(curated, ignore_errors=True)
        run = ingest(raw, curated, args.workers, env)
        s = run["summary"]
        row = {
            "docs": docs,
            "raw_mb": round(mb, 1),
            "wall_s": round(run["wall_s"], 1),
            "docs_per_s": round(docs / run["wall_s"], 1),
            "mb_per_s": round(mb / run["wall_s"], 2),
            "ms_per_doc": round(run["wall_s"] / docs * 1000, 2),
            "peak_rss_mb": round(run["peak_rss_mb"]),
            "dedup_state_mb": s.get("dedup_state_mb"),
            "stage_seconds": s.get("stage_seconds"),
            "written": s["documents_written"],
        }
        if docs <= args.plain_up_to:
            # Prefect's share: the flow on one core against the same work without Prefect.
            shutil.rmtree(curated, ignore_errors=True)
            one = ingest(raw, curated, 1, env)
            shutil.rmtree(curated, ignore_errors=True)
            plain_s = plain(raw, curated)
            row["flow_1core_s"] = round(one["wall_s"], 1)
            row["plain_1core_s"] = round(plain_s, 1)
            row["prefect_share"] = round(1 - plain_s / one["wall_s"], 3)
        rows.append(row)
        print(json.dumps(row), flush=True)
    (work / "results.json").write_text(
        json.dumps({"alone": alone, "trafilatura": traf, "runs": rows}, indent=1)
    )
    print(f"results: {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
