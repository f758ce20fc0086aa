"""Helpers more than one test module uses."""

from __future__ import annotations

import os
from typing import Any


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
