"""The Prefect flow: orchestration only. Tasks are coarse (a batch of documents each);
retries sit on the I/O tasks (listing and writing), not on cleaning."""

from __future__ import annotations

import errno
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.settings import PREFECT_API_URL
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner

from cleaners.clean import DEFAULT_MAX_DOCUMENT_BYTES, DEFAULT_MAX_PARAGRAPHS, CleanSettings
from cleaners.dedup import MIN_CROSS_DOC_CHARS, NEAR_DUP_THRESHOLD, DedupSettings
from cleaners.rundedup import History, RunDedup, SeenSource
from flows import pipeline, report, store
from flows.history import load_history
from flows.objstore import access_problem, shown_url
from flows.settings import (
    AUTO_WORKERS_FROM,
    DEFAULT_BATCH_SIZE,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_LOCK_TTL,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_EXPANSION,
    SETTINGS,
    check_settings,
    workers_for,
)
from flows.sources import Listing, count_inputs, scan

# Batches being cleaned (or cleaned and waiting their turn) at once.
DEFAULT_IN_FLIGHT = 4


def worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """Retry I/O that may pass on a second try, not what fails the same way every time
    (a missing folder, a partition of another schema, a full disk, no permission, an
    object store refusing the credentials); anything else is retried."""
    try:
        state.result()
    except (store.CuratedError, FileNotFoundError, NotADirectoryError, PermissionError):
        return False
    except Exception as exc:  # noqa: BLE001 - sorted below
        if access_problem(exc):
            return False
        if not isinstance(exc, OSError):
            return True
        return exc.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG)
    return True


IO_RETRIES = dict(retries=2, retry_delay_seconds=2, retry_condition_fn=worth_retrying)


@task(**IO_RETRIES, cache_policy=NONE)
def list_sources(raw_dir: str, storage_options: dict[str, Any] | None) -> Listing:
    return scan(raw_dir, storage_options)


# What a run reports as it goes, to whoever shows it (the command line sets it): called
# with the phase ("cleaning" or "writing"), batches done, batches in all, documents so far.
Progress = Callable[[str, int, int, int], None]
progress_hook: Progress | None = None


def _progress(phase: str, done: int, total: int, documents: int) -> None:
    if progress_hook is not None:
        progress_hook(phase, done, total, documents)


@task(**IO_RETRIES, cache_policy=NONE)
def read_history(curated: store.Curated, ingest_date: str, min_chars: int) -> History:
    return load_history(curated, exclude_date=ingest_date, min_chars=min_chars)


@task(cache_policy=NONE)
def clean_batch(
    raw_dir: str,
    paths: list[str],
    settings: CleanSettings,
    max_bytes: int,
    seen: dict[str, SeenSource],
    max_expansion: int,
    storage_options: dict[str, Any] | None = None,
) -> pipeline.BatchResult:
    return pipeline.process_paths(
        raw_dir, paths, settings, max_bytes, seen, max_expansion, storage_options
    )


@task(**IO_RETRIES, cache_policy=NONE)
def commit_curated(writer: store.PartitionWriter) -> dict[str, int]:
    return writer.commit()


@flow(name="ingest", log_prints=False)
def ingest(
    raw_dir: str = "raw",
    curated_dir: str = "curated",
    ingest_date: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    disabled_reasons: list[str] | None = None,
    max_file_bytes: int = DEFAULT_MAX_BYTES,
    max_expansion: int = DEFAULT_MAX_EXPANSION,
    max_paragraphs: int = DEFAULT_MAX_PARAGRAPHS,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    uncurl_quotes: bool = False,
    min_dedup_chars: int = MIN_CROSS_DOC_CHARS,
    near_dup_threshold: float = NEAR_DUP_THRESHOLD,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    workers: int = 0,
    dask_address: str | None = None,
    retry_errors: bool = False,
    storage_options: dict[str, Any] | None = None,
    lock_ttl: float = DEFAULT_LOCK_TTL,
) -> report.RunSummary:
    """Ingest every raw document under ``raw_dir`` into the curated Parquet dataset.

    Files whose bytes an earlier ingest date already holds are skipped, and so are bytes
    that failed on an earlier date unless ``retry_errors``; the partition of
    ``ingest_date`` is replaced by this run's output. Runs on one ``curated_dir`` take
    turns: a run waits up to ``lock_timeout`` seconds for another to finish.

    ``workers`` > 1 runs the cleaning batches in that many processes, 1 in threads of this
    process; 0 (the default) uses one process per core when the run has at least
    ``AUTO_WORKERS_FROM`` input files, else threads, and ``dask_address`` (a Dask scheduler such as
    ``tcp://10.0.0.5:8786``) on a Dask cluster through prefect-dask. Dedup and writing
    stay in this process, in order, so every way gives the same curated data.

    ``raw_dir`` and ``curated_dir`` may be fsspec URLs (``s3://lake/raw``); credentials
    come from the environment, ``storage_options`` adds what is not secret (an endpoint,
    a region). On an object store the lock expires ``lock_ttl`` seconds after its run
    stops renewing it (a killed run)."""
    given = locals()  # the parameters, nothing else yet
    # A setting out of range stops the run before anything is touched.
    check_settings(**{s.name: given[s.name] for s in SETTINGS})
    day = ingest_date or datetime.now(UTC).date().isoformat()
    settings = CleanSettings.from_disabled(
        disabled_reasons or (),
        uncurl_quotes=uncurl_quotes,
        max_paragraphs=max_paragraphs,
        max_document_bytes=max_document_bytes,
    )
    dedup_settings = DedupSettings(min_dedup_chars, near_dup_threshold)
    limits = (max_file_bytes, max_expansion)
    args = (raw_dir, curated_dir, day, batch_size, settings, dedup_settings, limits)
    storage = Storage(storage_options, lock_timeout, lock_ttl)
    summary = _run_where(args, workers, dask_address, retry_errors, storage)
    get_run_logger().info("ingest summary: %s", summary)
    publish_report(summary)
    return summary


def _run_where(
    args: tuple[Any, ...],
    workers: int,
    dask_address: str | None,
    retry_errors: bool,
    storage: Storage,
) -> report.RunSummary:
    """The run in this process (threads), or with its cleaning on a pool of processes or
    a Dask cluster (a subflow with that task runner)."""
    if not dask_address:
        inputs = count_inputs(args[0], AUTO_WORKERS_FROM, storage.options)
        workers = workers_for(workers, inputs, os.cpu_count())
    if workers <= 1 and not dask_address:
        return _ingest_locked(*args, retry_errors=retry_errors, storage=storage)
    runner = task_runner(workers, dask_address)
    get_run_logger().info("cleaning on %s", dask_address or f"{workers} worker processes")
    subflow = ingest_batches.with_options(task_runner=runner, validate_parameters=False)
    return subflow(
        *args,
        in_flight=max(DEFAULT_IN_FLIGHT, 2 * max(1, workers)),
        retry_errors=retry_errors,
        storage=storage,
    )


def publish_report(summary: report.RunSummary) -> None:
    """The run's report as Prefect artifacts: a markdown summary and a table of removals."""
    create_markdown_artifact(
        report.report_markdown(summary),
        key="ingest-summary",
        description=f"thresher ingest {summary.ingest_date}",
    )
    create_table_artifact(
        report.report_table(summary) or [{"reason": "(none)", "paragraphs": 0, "share": 0}],
        key="ingest-removed-by-reason",
        description="paragraphs removed by reason",
    )


def task_runner(workers: int, dask_address: str | None) -> TaskRunner:
    """Where the cleaning tasks run: a Dask cluster, or a pool of local processes."""
    share_temporary_api()
    if dask_address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    return ProcessPoolTaskRunner(max_workers=workers)


def release_workers() -> None:
    """Stop this flow run's pool of cleaning processes once every batch is cleaned.
    Deciding the keepers and writing happen in this process; idle workers would hold
    their memory (about 600 MB each on real pages) through both, where a large run's
    peak was. The pool's own exit at the end of the subflow then has nothing left to
    stop. A Dask cluster is not the run's to stop, and threads hold no memory of their
    own."""
    context = FlowRunContext.get()
    runner = context.task_runner if context else None
    if isinstance(runner, ProcessPoolTaskRunner):
        runner.cancel_all()


def share_temporary_api() -> None:
    """In local mode (no PREFECT_API_URL), point worker processes started from here at
    this process's temporary API; otherwise each would start a server of its own (about
    200 MB and several seconds each)."""
    if os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value():
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    if server.running:
        os.environ["PREFECT_API_URL"] = server.api_url


@dataclass(frozen=True)
class Storage:
    """How a run reaches its folders beyond their paths: fsspec options (nothing secret:
    they are a flow parameter) and the lock's timings."""

    options: dict[str, Any] | None = None
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    lock_ttl: float = DEFAULT_LOCK_TTL


def _ingest_locked(
    raw_dir: str,
    curated_dir: str,
    day: str,
    batch_size: int,
    settings: CleanSettings,
    dedup_settings: DedupSettings,
    limits: tuple[int, int],
    in_flight: int = DEFAULT_IN_FLIGHT,
    retry_errors: bool = False,
    storage: Storage = Storage(),
) -> report.RunSummary:
    """The run, holding CURATED_DIR's lock from the history read to the last write, so
    two runs never interleave a partition or dedup against half a run."""
    log = get_run_logger()
    curated = store.open_curated(curated_dir, storage.options, storage.lock_ttl)
    with curated.lock(storage.lock_timeout, on_wait=log.warning):
        return _ingest_run(
            raw_dir,
            curated,
            day,
            batch_size,
            settings,
            dedup_settings,
            limits,
            in_flight,
            retry_errors,
            storage.options,
        )


def _ingest_run(
    raw_dir: str,
    curated: store.Curated,
    day: str,
    batch_size: int,
    settings: CleanSettings,
    dedup_settings: DedupSettings,
    limits: tuple[int, int],
    in_flight: int,
    retry_errors: bool,
    storage_options: dict[str, Any] | None,
) -> report.RunSummary:
    ingested_at = datetime.now(UTC).replace(microsecond=0)
    history = _start(curated, day, dedup_settings.min_cross_doc_chars)
    listing, batches = _batches(raw_dir, storage_options, batch_size)
    max_bytes, max_expansion = limits
    # Bytes ingested before are skipped; bytes that failed before too, unless asked.
    seen = history.sources if retry_errors else {**history.failures, **history.sources}

    def submit(batch: list[str]) -> PrefectFuture:
        return clean_batch.submit(
            raw_dir, batch, settings, max_bytes, seen, max_expansion, storage_options
        )

    run = RunDedup(history, dedup_settings)
    stats = report.RunStats()
    writer = store.PartitionWriter(curated, day)
    aside: store.BatchSpill | None = None
    try:
        aside = curated.spill()
        if listing.problems:  # found but unreadable: errors rows, like a file that fails
            writer.append(pipeline.table_rows([], listing.problems, ingested_at))
            stats.add([], listing.problems, [])
        # Batches are cleaned concurrently (at most ``in_flight`` at once, so memory holds
        # a few batches, not the run), fed to dedup in order and set aside on disk; once
        # every keeper is known, they are read back in order, deduplicated and written.
        _clean(submit, batches, in_flight, run, stats, aside)
        _write(aside, len(batches), run, writer, stats, ingested_at)
        dropped = writer.dropped_documents()
        _warn_dropped(day, dropped)
        started = time.perf_counter()
        counts = commit_curated(writer)
        stats.timings["write"] += time.perf_counter() - started
    except BaseException:
        writer.abort()
        raise
    finally:
        if aside is not None:
            aside.close()
    stats.near_dup += len(run.late_heads)
    return stats.summary(
        day,
        curated.url,
        len(listing.paths) + len(listing.problems),
        listing.ignored,
        rows_in_partition=counts,
        documents_dropped_from_date=len(dropped),
        dropped_from_date=dropped[: report.SKIPPED_SHOWN],
        dedup_state_mb=round(run.state_bytes() / 1e6, 1),
    )


def _batches(
    raw_dir: str, storage_options: dict[str, Any] | None, batch_size: int
) -> tuple[Listing, list[list[str]]]:
    """RAW_DIR's listing, and its inputs in batches of ``batch_size``, in source order."""
    listing = list_sources(raw_dir, storage_options)
    paths = listing.paths
    batches = [paths[i : i + batch_size] for i in range(0, len(paths), batch_size)]
    get_run_logger().info(
        "found %d raw files in %s, %d batches; %d cannot be read, %d ignored",
        len(paths),
        shown_url(raw_dir),
        len(batches),
        len(listing.problems),
        len(listing.ignored),
    )
    return listing, batches


def _start(curated: store.Curated, day: str, min_chars: int) -> History:
    """A run's first steps under the lock: finish a commit an earlier run left, remove
    its leftovers, refuse a backfill, and read the history."""
    log = get_run_logger()
    completed = curated.recover()
    if completed:
        log.warning("completed the commit of %s that an earlier run left unfinished", completed)
    curated.clean_stale()
    store.refuse_backfill(curated, day)
    history = read_history(curated, day, min_chars)
    log.info(
        "history: %d earlier partitions, %d documents, %d paragraph fingerprints (%.1f MB)",
        len(history.partitions),
        len(history.sources),
        history.paragraph_count,
        history.fingerprint_bytes() / 1e6,
    )
    return history


def _clean(
    submit: Callable[[list[str]], PrefectFuture],
    batches: list[list[str]],
    in_flight: int,
    run: RunDedup,
    stats: report.RunStats,
    aside: store.BatchSpill,
) -> None:
    """Clean every batch, feed it to dedup in order and set it aside; then stop the
    cleaning processes and decide the run's keepers."""
    log = get_run_logger()
    cleaned = 0
    _progress("cleaning", 0, len(batches), 0)
    for n, result in enumerate(in_order(submit, batches, in_flight), start=1):
        started = time.perf_counter()
        docs, report = run.feed(result.docs)
        result.docs = []  # set aside once, as ``docs``
        aside.put((docs, result, report))
        cleaned += len(docs)
        _progress("cleaning", n, len(batches), cleaned)
        stats.timings.update({**result.timings, "dedup": time.perf_counter() - started})
        log.info(
            "batch %d/%d cleaned: %d documents, %d skipped, %d failed",
            n,
            len(batches),
            len(docs),
            len(result.skipped) + len(report.skipped) + len(result.still_failing),
            len(result.errors),
        )
    release_workers()
    started = time.perf_counter()
    run.finish()
    stats.timings["dedup"] += time.perf_counter() - started


def _write(
    aside: store.BatchSpill,
    total: int,
    run: RunDedup,
    writer: store.PartitionWriter,
    stats: report.RunStats,
    ingested_at: datetime,
) -> None:
    """Read the batches back in order, deduplicate each and append its rows."""
    written = 0
    for n, (docs, result, dedup_report) in enumerate(aside.take(), start=1):
        started = time.perf_counter()
        run.apply(docs)
        deduped = time.perf_counter()
        errors = sorted(result.errors)
        writer.append(pipeline.table_rows(docs, errors, ingested_at, result.error_sha))
        stats.timings.update({"dedup": deduped - started, "write": time.perf_counter() - deduped})
        stats.add(
            docs,
            errors,
            result.skipped + dedup_report.skipped,
            dedup_report.near_dup_documents,
            result.still_failing,
        )
        written += len(docs)
        _progress("writing", n, total, written)


def _warn_dropped(day: str, dropped: list[str]) -> None:
    if dropped:
        get_run_logger().warning(
            "%s is re-run: %d documents its partition held are not in this run (their "
            "inputs are gone or now fail) and leave the date: %s%s",
            day,
            len(dropped),
            ", ".join(dropped[: report.SKIPPED_SHOWN]),
            " ..." if len(dropped) > report.SKIPPED_SHOWN else "",
        )


# The body of ``ingest`` as a subflow, for when it runs with another task runner.
ingest_batches = flow(name="ingest-batches", log_prints=False)(_ingest_locked)


def in_order(
    submit: Callable[[list[str]], PrefectFuture],
    batches: list[list[str]],
    in_flight: int,
) -> Iterator[pipeline.BatchResult]:
    """Results of ``submit(batch)`` for every batch, in batch order, keeping at most
    ``in_flight`` batches submitted and not yet handed out."""
    queue: deque[PrefectFuture] = deque()
    upcoming = iter(batches)
    for batch in islice(upcoming, max(1, in_flight)):
        queue.append(submit(batch))
    while queue:
        result = queue.popleft().result()
        following = next(upcoming, None)
        if following is not None:
            queue.append(submit(following))
        yield result
