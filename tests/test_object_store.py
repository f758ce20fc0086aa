"""Object storage: raw in and curated out on ``s3://``, against a real S3 API server on
loopback (moto's standalone server, started by ``conftest.s3_endpoint``), through the
command line and the Prefect flow, with credentials from the environment only.

The same guarantees as local folders: every file accounted for, bad input recorded and
the run going on, a reader never seeing a partial file, a killed run's work completed by
the next with the result of an uninterrupted run, and runs taking turns."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from flows.store import CuratedLocked
from schemas.tables import TABLES
from tests.helpers import FOOTER, ingest_on_local_dask, story, write

pytestmark = pytest.mark.slow

EXE = Path(sys.executable).parent / "thresher"
ROOT = Path(__file__).resolve().parent.parent
DAY1, DAY2 = "2026-11-20", "2026-11-21"
# A secret only the environment holds: it must not appear in any output or file.
SECRET = "thresher-test-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def aws(s3_endpoint: str, tmp_path_factory) -> dict[str, str]:
    """The AWS variables a user sets: keys, region and endpoint; no config files."""
    home = tmp_path_factory.mktemp("aws")
    return {
        "AWS_ACCESS_KEY_ID": "thresher-test-key",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
    }


@pytest.fixture
def s3(aws: dict[str, str], monkeypatch):
    """An S3 file system for the test's own checks, and the variables set in-process."""
    import s3fs

    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    return s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)


@pytest.fixture
def bucket(s3) -> str:
    name = f"lake-{uuid.uuid4().hex[:12]}"
    s3.mkdir(name)
    return name


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    """raw_a: the shipped sample plus generated stories; raw_b: the same plus more."""
    base = tmp_path_factory.mktemp("corpus")
    raw_a, raw_b = base / "raw_a", base / "raw_b"
    shutil.copytree(ROOT / "raw", raw_a)
    for i in range(12):
        write(raw_a, f"gen/{i:03d}.txt", story(4000 + i, 5) + [FOOTER])
    shutil.copytree(raw_a, raw_b)
    for i in range(12):
        write(raw_b, f"more/{i:03d}.txt", story(5000 + i, 5) + [FOOTER])
    return raw_a, raw_b


@pytest.fixture
def uploaded(corpus, s3, bucket: str) -> str:
    """A bucket holding the two corpora as ``raw_a/`` and ``raw_b/``; its name."""
    for name, local in zip(("raw_a", "raw_b"), corpus, strict=True):
        for path in sorted(local.rglob("*")):
            if path.is_file():
                s3.put_file(str(path), f"{bucket}/{name}/{path.relative_to(local)}")
    return bucket


def _run_env(env: dict[str, str], aws: dict[str, str], tmp: Path, **extra: str) -> dict:
    # TMPDIR: a killed run's local staging stays in the test's folder.
    return {**env, **aws, "TMPDIR": str(tmp), **extra}


def _cli(
    env: dict, *args: str, failpoint: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    run_env = dict(env, THRESHER_FAILPOINT=failpoint) if failpoint else env
    return subprocess.run(
        [str(EXE), *args], env=run_env, capture_output=True, text=True, timeout=timeout
    )


def _last_line(proc: subprocess.CompletedProcess) -> str:
    """The line a run ends on (Prefect logs the flow's exception above it)."""
    return proc.stderr.strip().splitlines()[-1]


def _contents(curated: str | Path, options: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every table as pandas reads it, minus ingested_at (a run's wall-clock time)."""
    out = {}
    for name in TABLES:
        df = pd.read_parquet(f"{curated}/{name}", storage_options=options)
        df = df.drop(columns=[c for c in ("ingested_at",) if c in df.columns])
        df["ingest_date"] = df["ingest_date"].astype(str)
        out[name] = df.sort_values(list(df.columns[:2])).reset_index(drop=True)
    return out


def _assert_same(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)


def _options(aws: dict[str, str]) -> dict:
    """What a reader passes to pandas (here from the test's variables). A reader that
    lives across runs lists afresh (s3fs caches listings per instance otherwise)."""
    return {
        "key": aws["AWS_ACCESS_KEY_ID"],
        "secret": aws["AWS_SECRET_ACCESS_KEY"],
        "endpoint_url": aws["AWS_ENDPOINT_URL"],
        "use_listings_cache": False,
    }


def _assert_readable(s3, curated: str, options: dict) -> None:
    """pandas reads every table, and every visible Parquet object is complete."""
    for name in TABLES:
        if s3.exists(f"{curated}/{name}"):
            pd.read_parquet(f"s3://{curated}/{name}", storage_options=options)
    for key in s3.find(curated):
        parts = key[len(curated) + 1 :].split("/")
        if key.endswith(".parquet") and not any(p.startswith(".") for p in parts):
            with s3.open(key, "rb") as fh:
                pq.read_metadata(fh)


@pytest.fixture(scope="module")
def local_curated(corpus, tmp_path_factory, prefect_harness) -> Path:
    """The two dates ingested from local folders into a local one."""
    from flows.ingest import ingest

    raw_a, raw_b = corpus
    curated = tmp_path_factory.mktemp("reference")
    ingest(raw_dir=str(raw_a), curated_dir=str(curated), ingest_date=DAY1)
    ingest(raw_dir=str(raw_b), curated_dir=str(curated), ingest_date=DAY2)
    return curated


@pytest.fixture(scope="module")
def reference(local_curated: Path) -> dict[str, pd.DataFrame]:
    """The local result of the two dates: what every object-store run must equal."""
    return _contents(local_curated)


def test_cli_ingests_s3_to_s3_like_a_local_run(
    uploaded, reference, local_curated, env, aws, s3, tmp_path: Path
) -> None:
    bucket = uploaded
    run_env = _run_env(env, aws, tmp_path)
    curated = f"s3://{bucket}/curated"
    from flows.ingest import ingest  # the first date in this process, the second by the CLI

    ingest(raw_dir=f"s3://{bucket}/raw_a", curated_dir=curated, ingest_date=DAY1)
    # --verbose: Prefect's own log lines too, none of which may show the secret
    second = _cli(
        {**run_env, "PREFECT_LOGGING_LEVEL": "INFO"},
        "ingest",
        f"s3://{bucket}/raw_b",
        curated,
        "--ingest-date",
        DAY2,
        "--json",
        "--verbose",
    )
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["curated_dir"] == curated and "INFO" in second.stderr
    assert summary["documents_skipped"] > 0  # yesterday's files, found in the history on S3
    got = _contents(curated, _options(aws))
    _assert_same(got, reference)
    # a reader gets the same dtypes from S3 as from a local folder
    for name in TABLES:
        remote = pd.read_parquet(f"{curated}/{name}", storage_options=_options(aws))
        assert remote.dtypes.to_dict() == pd.read_parquet(local_curated / name).dtypes.to_dict()
    assert not [k for k in s3.find(bucket) if k.endswith(".tmp") or "thresher-commit" in k]
    assert not s3.exists(f"{bucket}/curated/.thresher.lock")  # released
    assert SECRET not in second.stdout + second.stderr
    # re-running a date rewrites the same bytes (rows keep their first ingested_at)
    before = {k: s3.cat_file(k) for k in s3.find(f"{bucket}/curated")}
    ingest(raw_dir=f"s3://{bucket}/raw_b", curated_dir=curated, ingest_date=DAY2)
    assert {k: s3.cat_file(k) for k in s3.find(f"{bucket}/curated")} == before
    stats = _cli(run_env, "stats", curated, "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["documents"] == len(reference["documents"])


def test_the_flow_reads_and_writes_s3_and_dask_workers_read_objects_directly(
    uploaded, reference, aws, prefect_harness
) -> None:
    """Through the Prefect flow in this process; the second date's batches run on a Dask
    cluster of two worker processes, which read the raw objects themselves (with the
    credentials of their own environment: no shared file system)."""
    from flows.ingest import ingest

    curated = f"s3://{uploaded}/curated"
    ingest(raw_dir=f"s3://{uploaded}/raw_a", curated_dir=curated, ingest_date=DAY1)
    summary, tasks = ingest_on_local_dask(
        raw_dir=f"s3://{uploaded}/raw_b", curated_dir=curated, ingest_date=DAY2, batch_size=8
    )
    assert len({t["worker"] for t in tasks}) == 2  # batches ran on both workers
    assert summary.curated_dir == curated and summary.documents_failed == 0
    _assert_same(_contents(curated, _options(aws)), reference)


def test_bad_objects_are_recorded_and_the_run_goes_on(s3, aws, bucket, prefect_harness) -> None:
    raw = f"{bucket}/raw"
    s3.pipe_file(f"{raw}/good.txt", "\n\n".join(story(7000, 5)).encode())
    s3.pipe_file(f"{raw}/binary.txt", b"\x89PNG\r\n\x1a\n" + bytes(200))
    s3.pipe_file(f"{raw}/bomb.txt.gz", gzip.compress(b"a" * 3_000_000))
    s3.pipe_file(f"{raw}/broken.txt.gz", b"\x1f\x8b not really gzip")
    s3.pipe_file(f"{raw}/side.txt", "\n\n".join(story(7001, 5)).encode())
    s3.pipe_file(f"{raw}/side.meta.json", b"{not json")
    s3.pipe_file(f"{raw}/big.txt", b"x" * 5000)
    s3.pipe_file(f"{raw}/notes.pdf", b"%PDF")
    s3.pipe_file(f"{raw}/.hidden/x.txt", b"hidden")
    record = b'{"text": "' + b"A fine line of text. " * 20 + b'"}'
    s3.pipe_file(f"{raw}/records.jsonl", record + b"\n{oops\n")
    s3.pipe_file(f"{bucket}/raw2/outside.txt", b"next to RAW_DIR, not under it")
    from flows.ingest import ingest

    summary = ingest(
        raw_dir=f"s3://{raw}",
        curated_dir=f"s3://{bucket}/curated",
        ingest_date=DAY1,
        max_file_bytes=4000,
        max_expansion=100,
    )
    errors = pd.read_parquet(f"s3://{bucket}/curated/errors", storage_options=_options(aws))
    codes = dict(zip(errors["source_path"], errors["error"], strict=True))
    assert codes == {
        "big.txt": "too_large",
        "binary.txt": "undecodable",
        "bomb.txt.gz": "too_large",
        "broken.txt.gz": "unreadable",
        "records.jsonl:2": "bad_record",
        "side.txt": "bad_sidecar",
    }
    docs = pd.read_parquet(f"s3://{bucket}/curated/documents", storage_options=_options(aws))
    assert sorted(docs["source_path"]) == ["good.txt", "records.jsonl:1"]
    # every object under RAW_DIR is a document, an error or ignored; raw2/ is never read
    assert summary.files_found == len(docs) + len(errors) - 1  # the JSONL file holds two


def test_kills_mid_commit_then_a_rerun_equals_an_uninterrupted_run(
    uploaded, reference, env, aws, s3, tmp_path, prefect_harness
) -> None:
    """Killed on either side of the commit journal: with the four files uploaded but
    undecided (the old partitions stay), then, in the run that cleans that up, with the
    journal written and one table moved (the next run rolls it forward). ``mid_file`` and
    ``before_rename`` run the same code as locally, where test_crash.py kills at each."""
    from flows.ingest import ingest

    bucket = uploaded
    curated = f"s3://{bucket}/curated"
    ingest(raw_dir=f"s3://{bucket}/raw_a", curated_dir=curated, ingest_date=DAY1)
    args = [f"s3://{bucket}/raw_b", curated, "--ingest-date", DAY2, "--lock-ttl", "3"]
    for failpoint in ("before_commit", "after_documents"):
        killed = _cli(_run_env(env, aws, tmp_path), "ingest", *args, failpoint=failpoint)
        assert killed.returncode == -9, killed.stderr
        _assert_readable(s3, f"{bucket}/curated", _options(aws))
        assert s3.exists(f"{bucket}/curated/.thresher.lock")  # a killed run's lock stays
    journal = json.loads(s3.cat_file(f"{bucket}/curated/.thresher-commit.json"))
    assert journal["ingest_date"] == DAY2
    # ...until it expires; the next run takes it over and completes the commit first
    ingest(raw_dir=f"s3://{bucket}/raw_b", curated_dir=curated, ingest_date=DAY2, lock_timeout=60)
    _assert_same(_contents(curated, _options(aws)), reference)
    assert not [k for k in s3.find(bucket) if k.endswith(".tmp") or "thresher-commit" in k]


def test_a_second_writer_waits_then_stops_with_a_clear_message(s3, bucket, prefect_harness) -> None:
    """In the flow (the command line turns CuratedLocked into exit 3, as test_crash.py
    checks for a local folder)."""
    s3.pipe_file(f"{bucket}/raw/a.txt", "\n\n".join(story(7100, 5)).encode())
    lock = {"owner": "other", "holder": "pid 1 on elsewhere", "expires": time.time() + 600}
    s3.pipe_file(f"{bucket}/curated/.thresher.lock", json.dumps(lock).encode())
    from flows.ingest import ingest

    with pytest.raises(CuratedLocked, match="another ingest is writing") as caught:
        ingest(raw_dir=f"s3://{bucket}/raw", curated_dir=f"s3://{bucket}/curated", lock_timeout=2)
    assert "pid 1 on elsewhere" in str(caught.value) and "lock_timeout" in str(caught.value)
    assert not s3.exists(f"{bucket}/curated/documents")
    assert json.loads(s3.cat_file(f"{bucket}/curated/.thresher.lock"))["owner"] == "other"


def test_secrets_stay_out_of_settings_urls_and_output(env, aws, s3, bucket, tmp_path) -> None:
    run_env = _run_env(env, aws, tmp_path)
    out = f"s3://{bucket}/curated"
    in_setting = _cli(
        run_env, "ingest", f"s3://{bucket}/raw", out, "--storage-options", '{"secret": "x"}'
    )
    assert in_setting.returncode == 2 and "holds credentials (secret)" in in_setting.stderr
    in_url = _cli(run_env, "ingest", f"s3://AKIA:{SECRET}@{bucket}/raw", out)
    assert in_url.returncode == 4 and "credentials in a URL" in in_url.stderr
    assert SECRET not in in_url.stderr + in_url.stdout
    no_keys = {k: v for k, v in run_env.items() if not k.startswith("AWS_ACCESS")}
    no_keys.pop("AWS_SECRET_ACCESS_KEY")
    s3.pipe_file(f"{bucket}/raw/a.txt", b"text")
    refused = _cli(no_keys, "ingest", f"s3://{bucket}/raw", out)
    assert refused.returncode == 6 and "no usable credentials" in refused.stderr
    assert _last_line(refused).startswith("thresher: no usable credentials")
    assert not s3.exists(f"{bucket}/curated/documents")


def test_a_missing_raw_prefix_is_one_clear_line(env, aws, bucket, tmp_path) -> None:
    run_env = _run_env(env, aws, tmp_path)
    missing = _cli(run_env, "ingest", f"s3://{bucket}/nothing-here", f"s3://{bucket}/c")
    assert missing.returncode == 2 and "raw folder not found" in missing.stderr
    assert _last_line(missing).startswith("thresher: raw folder not found")
    assert not Path("s3:").exists()
