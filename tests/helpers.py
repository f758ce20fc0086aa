"""Helpers more than one test module uses."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pyarrow as pa

from flows.store import PartitionWriter
from schemas.tables import TABLES

# The order write_run puts each table's rows in.
_SORT_KEYS = {
    "documents": [("source_path", "ascending")],
    "errors": [("source_path", "ascending")],
    "paragraphs": [("doc_id", "ascending"), ("position", "ascending")],
    "removed": [("doc_id", "ascending"), ("position", "ascending")],
}


def ingest_on_local_dask(**parameters: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
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
