"""Helpers more than one test module uses."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pyarrow as pa

from flows.report import RunSummary
from flows.store import PartitionWriter
from schemas.tables import TABLES

# The data-driven cleaning cases (label, input, expected), one JSON file per category.
CASES = Path(__file__).resolve().parent / "cases"
# A paragraph of article prose for the metadata pickers' written pages.
PROSE = (
    "The regional council voted on Tuesday to raise the school budget by four percent, "
    "after a long debate about teachers' pay and new classrooms."
)

NOUNS = ["council", "harbour", "school", "bridge", "library", "market", "festival", "clinic"]
PLACES = ["Northport", "Eastbay", "Millbrook", "Southend", "Kingsford", "Ashdale"]
VERBS = ["reopened", "expanded", "was inspected", "was criticised", "won funding"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
UNITS = ["months", "weeks", "years"]
FOOTER = (
    "The Northport Gazette is an independent newspaper owned by its readers and has "
    "served the harbour towns since 1884; letters to the editor are always welcome."
)


def story(seed: int, paragraphs: int = 5) -> list[str]:
    """Paragraphs of plausible news prose, different for every seed."""
    rng = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        sentences = [
            f"The {rng.choice(NOUNS)} in {rng.choice(PLACES)} {rng.choice(VERBS)} on "
            f"{rng.choice(DAYS)} after {rng.randint(2, 40)} {rng.choice(UNITS)} of work "
            f"on the {rng.choice(NOUNS)}, according to officials who spoke to reporters."
            for _ in range(rng.randint(2, 3))
        ]
        out.append(" ".join(sentences))
    return out


def write(raw: Path, name: str, paragraphs: list[str]) -> None:
    path = raw / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")


def run(raw: Path, curated: Path, day: str, **params) -> dict:
    from flows.ingest import ingest

    return ingest(raw_dir=str(raw), curated_dir=str(curated), ingest_date=day, **params)


def snapshot(curated: Path) -> dict[str, bytes]:
    """Every data file under curated/ (the lock file names its last holder: left out)."""
    return {
        str(p.relative_to(curated)): p.read_bytes()
        for p in sorted(curated.rglob("*"))
        if p.is_file() and p.name != ".thresher.lock"
    }


# The order write_run puts each table's rows in.
_SORT_KEYS = {
    "documents": [("source_path", "ascending")],
    "errors": [("source_path", "ascending")],
    "paragraphs": [("doc_id", "ascending"), ("position", "ascending")],
    "removed": [("doc_id", "ascending"), ("position", "ascending")],
}


def ingest_on_local_dask(**parameters: Any) -> tuple[RunSummary, list[dict[str, Any]]]:
    """Run the ``ingest`` flow with its cleaning batches on a Dask ``LocalCluster`` of two
    worker processes; returns the run's summary and the cluster's task stream (one entry
    per task, with the worker that ran it). The workers report to this process's Prefect
    API, and inherit its environment."""
    from distributed import Client, LocalCluster, get_task_stream
    from prefect.settings import PREFECT_API_URL

    from flows.ingest import ingest

    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    try:
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
            get_task_stream(client=client) as stream,
        ):
            summary = ingest(dask_address=cluster.scheduler_address, **parameters)
        return summary, list(stream.data)
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before


def write_run(
    curated_dir: Path, ingest_date: str, rows: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """Write one run's rows, held in memory, as the whole partition of ``ingest_date`` in
    every table (sorted: documents and errors by source path, paragraphs and removed
    lines by document and position). Returns row counts per table."""
    ordered = {
        name: pa.Table.from_pylist(rows.get(name, []), schema=schema)
        .sort_by(_SORT_KEYS[name])
        .to_pylist()
        for name, schema in TABLES.items()
    }
    writer = PartitionWriter(curated_dir, ingest_date)
    try:
        writer.append(ordered)
    except BaseException:
        writer.abort()
        raise
    return writer.commit()


def eval_subset(folder: Path, eval_set: Path, count: int) -> Path:
    """A training set of the first ``count`` articles of ``eval_set`` (wcxb-dev), linked
    into ``folder``, never copied, with a manifest of its own."""
    import json

    manifest = json.loads((eval_set / "manifest.json").read_text())
    subset = folder / "set"
    subset.mkdir()
    ids = manifest["article_ids"][:count]
    for i in ids:
        for suffix in (".txt", ".gold.txt", ".gold.json"):
            (subset / f"{i}{suffix}").symlink_to(eval_set / f"{i}{suffix}")
    (subset / "manifest.json").write_text(json.dumps({"ids": ids}))
    return subset
