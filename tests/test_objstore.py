"""The object-store pieces on their own: URLs, secrets, the lock (on fsspec's in-memory
file system and on the S3 server of ``conftest.s3_endpoint``), listing and reading raw
objects. End-to-end runs are in ``test_object_store.py``."""

from __future__ import annotations

import gzip
import json
import time
import uuid

import pytest

from cleaners.document import DocumentError
from flows import objstore
from flows.settings import SettingsError, check_settings
from flows.store import CuratedLocked


@pytest.fixture
def memory() -> objstore.Place:
    place = objstore.open_place(f"memory://thresher-{uuid.uuid4().hex}/curated")
    yield place
    place.fs.rm(place.root.split("/")[0], recursive=True)


@pytest.fixture
def s3_place(s3_endpoint: str, monkeypatch) -> objstore.Place:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    bucket = f"lock-{uuid.uuid4().hex[:12]}"
    place = objstore.open_place(f"s3://{bucket}/curated")
    place.fs.mkdir(bucket)
    return place


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"endpoint_url": "http://minio:9000"}, None),
        ({"client_kwargs": {"region_name": "eu-west-1"}}, None),
        ({"anon": True}, None),
        ({"key": "AKIA"}, "key"),
        ({"secret": "x"}, "secret"),
        ({"token": "x"}, "token"),
        ({"account_key": "x"}, "account_key"),
        ({"sas_token": "x"}, "sas_token"),
        ({"connection_string": "x"}, "connection_string"),
        ({"client_kwargs": {"aws_secret_access_key": "x"}}, "client_kwargs.aws_secret_access_key"),
    ],
)
def test_storage_options_with_a_credential_are_refused(options: dict, refused: str | None) -> None:
    if refused is None:
        check_settings(storage_options=options)
        return
    with pytest.raises(SettingsError, match=f"holds credentials \\({refused}\\)"):
        check_settings(storage_options=options)


def test_urls_are_shown_without_credentials_and_refused_with_them() -> None:
    assert objstore.shown_url("s3://AKIA:SECRET@lake/raw") == "s3://***@lake/raw"
    assert objstore.shown_url("az://c/raw?sv=1&sig=abc") == "az://c/raw?***"
    with pytest.raises(objstore.StorageError, match="credentials in a URL") as caught:
        objstore.open_place("s3://AKIA:hunter2@lake/raw")
    assert "hunter2" not in str(caught.value)


def test_environment_options_must_be_a_json_object(monkeypatch) -> None:
    monkeypatch.setenv(objstore.ENV_OPTIONS, "[1, 2]")
    with pytest.raises(objstore.StorageError, match="must be a JSON object"):
        objstore.open_place("memory://x/raw")
    monkeypatch.setenv(objstore.ENV_OPTIONS, "{nope")
    with pytest.raises(objstore.StorageError, match="is not JSON"):
        objstore.open_place("memory://x/raw")


@pytest.mark.parametrize("where", ["memory", "s3_place"])
def test_the_lock_keeps_a_second_run_out_and_renews_while_held(request, where: str) -> None:
    place = request.getfixturevalue(where)
    first = objstore.ObjectLock(place, ttl=1.5)
    first.acquire(timeout=0)
    try:
        time.sleep(2.5)  # past the first expiry: the renewal thread must have extended it
        second = objstore.ObjectLock(place, ttl=1.5)
        with pytest.raises(CuratedLocked, match="another ingest is writing"):
            second.acquire(timeout=0.3)
        first.verify()
    finally:
        first.release()
    assert not place.fs.exists(first.key)
    again = objstore.ObjectLock(place, ttl=1.5)
    again.acquire(timeout=0)  # free once released
    again.release()


@pytest.mark.parametrize("where", ["memory", "s3_place"])
def test_an_expired_lock_is_taken_over_and_its_old_holder_stops(request, where: str) -> None:
    place = request.getfixturevalue(where)
    stale = {"owner": "killed", "holder": "pid 1 on gone", "expires": time.time() - 1}
    place.fs.pipe_file(place.key(".thresher.lock"), json.dumps(stale).encode())
    lock = objstore.ObjectLock(place, ttl=30)
    lock.acquire(timeout=0)
    assert json.loads(place.fs.cat_file(lock.key))["owner"] == lock.owner
    lock.release()

    stalled = objstore.ObjectLock(place, ttl=1.0)
    stalled.acquire(timeout=0)
    stalled._stop.set()  # as if the process stalled: no renewal
    stalled._thread.join()
    time.sleep(1.2)
    taker = objstore.ObjectLock(place, ttl=30)
    taker.acquire(timeout=0)
    stalled._stop.clear()
    stalled._renew_once()
    with pytest.raises(CuratedLocked, match="lost its lock"):
        stalled.verify()
    stalled.release()  # must not remove the new holder's lock
    assert json.loads(place.fs.cat_file(taker.key))["owner"] == taker.owner
    taker.release()


def test_a_run_that_lost_its_lock_writes_no_journal(memory) -> None:
    curated = objstore.ObjectCurated(memory, lock_ttl=30)
    with curated.lock():
        curated._lock._lost = "test"
        with pytest.raises(CuratedLocked):
            curated.write_journal("2026-11-20", {})
    assert not memory.fs.exists(memory.key(".thresher-commit.json"))


def _raw(place: objstore.Place, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        place.fs.pipe_file(place.key(rel), data)


def test_listing_accounts_for_every_object_and_stays_under_the_prefix() -> None:
    place = objstore.open_place(f"memory://raw-{uuid.uuid4().hex}/raw")
    _raw(
        place,
        {
            "a.txt": b"x",
            "b/c.html.gz": b"x",
            "b/c.meta.json": b"{}",
            "d.ndjson": b"x",
            ".git/config": b"x",
            "e/.cache/f.txt": b"x",
            "notes.pdf": b"x",
        },
    )
    place.fs.pipe_file(place.root + "2/outside.txt", b"x")  # raw2/: next to RAW_DIR
    listing = objstore.scan_objects(place)
    assert listing.paths == ["a.txt", "b/c.html.gz", "d.ndjson"]
    assert listing.ignored == [
        (".git/", "hidden"),
        ("e/.cache/", "hidden"),
        ("notes.pdf", "unsupported_type"),
    ]
    assert listing.problems == []
    with pytest.raises(FileNotFoundError, match="raw folder not found"):
        objstore.scan_objects(objstore.open_place(f"memory://none-{uuid.uuid4().hex}/raw"))


def test_reading_checks_sizes_gzip_sidecars_and_the_prefix() -> None:
    place = objstore.open_place(f"memory://read-{uuid.uuid4().hex}/raw")
    _raw(
        place,
        {
            "ok.txt.gz": gzip.compress(b"hello"),
            "ok.meta.json": json.dumps({"url": "https://example.org/a"}).encode(),
            "big.txt": b"x" * 101,
            "bomb.txt.gz": gzip.compress(b"a" * 2_000_000),
            "side.txt": b"x",
            "side.meta.json": b"{nope",
        },
    )
    source = objstore.read_object(place, "ok.txt.gz", 100, 100)
    assert source.data == b"hello" and source.sidecar["url"] == "https://example.org/a"
    for rel, code in [
        ("big.txt", "too_large"),
        ("bomb.txt.gz", "expansion_limit"),
        ("side.txt", "bad_sidecar"),
        ("gone.txt", "vanished"),
        ("../raw2/outside.txt", "outside_raw_dir"),
    ]:
        with pytest.raises(DocumentError) as caught:
            objstore.read_object(place, rel, 100 if rel == "big.txt" else 10_000_000, 100)
        assert caught.value.code == code, rel
