"""RAW_DIR and CURATED_DIR on object storage: any fsspec URL (``s3://``, ``gs://``,
``az://``/``abfs://``, ``memory://``...). Plain paths and ``file://`` URLs stay on the
local code (``flows.sources``, ``flows.store``), with its POSIX guarantees.

Credentials come from where each ecosystem keeps them (for S3 the ``AWS_*`` variables,
``AWS_ENDPOINT_URL`` included, and profiles; fsspec's own configuration), plus
``storage_options``: a run setting for what is not secret (an endpoint, a region), and the
environment variable ``THRESHER_STORAGE_OPTIONS`` (JSON) for anything, secrets included.
A run setting is stored with the flow run by Prefect, so a secret there is refused.

On an object store a PUT (or a multipart upload's completion, or a server-side copy)
makes a whole object visible at once, and there is no rename. So curated partitions are
committed this way (``ObjectCurated``): each table's file is written locally, uploaded to
a hidden temporary key in its partition folder (``pandas`` and ``pyarrow`` skip names
starting with ``.``), a commit journal naming the four keys is put, each is copied over
its partition's ``part-0.parquet`` in one server-side step and deleted, and the journal is
deleted. A crash before the journal leaves the old partitions; after it, the next run
rolls the commit forward before reading anything, as locally.

Runs take turns through a lock object (``ObjectLock``) created only if absent, with an
expiry that a thread renews while the run lives; a killed run's lock is taken over once
it has expired.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cleaners.document import DocumentError
from flows.settings import (
    DEFAULT_LOCK_TTL,
    SECRETS_FROM,
    URL_SCHEME,
    storage_options_problems,
)
from flows.sources import (
    BAD_NAME,
    GZIP_SUFFIX,
    MAX_SIDECAR_BYTES,
    SIDECAR_SUFFIX,
    InputError,
    Listing,
    RawSource,
    parse_sidecar,
    read_gzip,
    sidecar_path,
    source_kind,
)
from flows.store import (
    JOURNAL_NAME,
    LOCK_NAME,
    PART_NAME,
    BatchSpill,
    CuratedError,
    CuratedLocked,
    read_columns,
)
from schemas.tables import PARTITION_KEY, SCHEMA_VERSION, TABLES

ENV_OPTIONS = "THRESHER_STORAGE_OPTIONS"
_CHUNK = 1024 * 1024
# Extras that bring each protocol's file system (the README's "Object storage").
EXTRAS = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "adl": "azure",
}


class StorageError(CuratedError):
    """An object-store URL that cannot be used (no file system for it, a secret in a
    setting, a store that cannot be locked); the message says what to do."""


def shown_url(url: str) -> str:
    """A URL as it may be logged: user information and query strings (which can hold a
    key or a SAS token) replaced by ``***``.

    >>> shown_url("s3://AKIA:SECRET@lake/raw"), shown_url("az://c/raw?sig=abc"), shown_url("gs://b/x")
    ('s3://***@lake/raw', 'az://c/raw?***', 'gs://b/x')
    """
    match = URL_SCHEME.match(url)
    if not match:
        return url
    rest = url[match.end() :]
    host, sep, path = rest.partition("/")
    if "@" in host:
        host = "***@" + host.rsplit("@", 1)[1]
    path = re.sub(r"\?.*$", "?***", path)
    host = re.sub(r"\?.*$", "?***", host)
    return f"{match.group(0)}{host}{sep}{path}"


def check_storage_options(options: dict[str, Any] | None) -> None:
    """Refuse a ``storage_options`` setting that holds a secret (``flows.settings``)."""
    problems = storage_options_problems(options) if options is not None else []
    if problems:
        raise StorageError("; ".join(problems))


def env_options() -> dict[str, Any]:
    """``THRESHER_STORAGE_OPTIONS``: fsspec options (JSON) from the environment."""
    raw = os.environ.get(ENV_OPTIONS, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise StorageError(f"{ENV_OPTIONS} is not JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(value, dict):
        raise StorageError(f"{ENV_OPTIONS} must be a JSON object")
    return value


def access_problem(exc: BaseException) -> str | None:
    """One line saying why, when ``exc`` is an object store refusing a run (no or bad
    credentials, no such bucket, an endpoint that does not answer); None for other
    errors. Retrying does not help these."""
    name = type(exc).__name__
    module = type(exc).__module__.split(".")[0]
    if "Credential" in name or "Auth" in name:
        return (
            f"no usable credentials ({name}: {exc}); give them in the environment: {SECRETS_FROM}"
        )
    if module in ("botocore", "aiobotocore", "google", "azure") or "Endpoint" in name:
        return f"the object store refused or did not answer ({name}: {exc})"
    return None


@dataclass(frozen=True)
class Place:
    """A folder on an fsspec file system: ``fs`` and the ``root`` path in it (no
    protocol, no trailing slash); ``url`` is what messages show (credentials hidden)."""

    fs: Any
    root: str
    url: str

    def key(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root


def open_place(url: str, storage_options: dict[str, Any] | None = None) -> Place:
    """The file system and root of an object-store URL, with options from the
    environment (``THRESHER_STORAGE_OPTIONS``) and the setting, the setting winning."""
    import fsspec

    check_storage_options(storage_options)
    if shown_url(url) != url and "@" in url.split("/", 3)[2]:
        raise StorageError(
            f"{shown_url(url)}: credentials in a URL are stored with the flow run; give them "
            f"through the environment: {SECRETS_FROM}"
        )
    options = {**env_options(), **(storage_options or {})}
    scheme = URL_SCHEME.match(url).group(1).lower() if URL_SCHEME.match(url) else ""
    try:
        # A file system of its own (not fsspec's shared instance): listings another
        # process changed are never answered from an old instance's cache.
        fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True, **options)
    except ImportError as exc:
        extra = EXTRAS.get(scheme)
        hint = f"pip install 'thresher[{extra}]'" if extra else "install its fsspec package"
        raise StorageError(
            f"{shown_url(url)}: no file system for {scheme}:// is installed ({hint})"
        ) from exc
    except ValueError as exc:
        if "Protocol not known" in str(exc):
            raise StorageError(f"{shown_url(url)}: {scheme}:// is not an fsspec protocol") from exc
        raise
    return Place(fs, root.rstrip("/"), shown_url(url))


def _fresh_info(place: Place, key: str) -> dict[str, Any]:
    place.fs.invalidate_cache(key)
    return place.fs.info(key)


def _version(info: dict[str, Any]) -> tuple:
    """What changes when an object is replaced: size, and ETag or mtime where known."""
    return (
        info.get("size"),
        info.get("ETag")
        or info.get("etag")
        or info.get("md5Hash")
        or info.get("mtime")
        or info.get("LastModified")
        or info.get("last_modified")
        or info.get("created"),
    )


# --- raw input -------------------------------------------------------------------------------


def scan_objects(place: Place) -> Listing:
    """Every object under RAW_DIR's prefix, sorted into documents, problems and ignored
    entries as ``flows.sources.scan`` does a local folder (an object whose path has a
    component starting with ``.`` is hidden; the first such component is listed)."""
    fs = place.fs
    try:
        found = fs.find(place.root, withdirs=False, detail=True)
    except FileNotFoundError:
        found = {}
    prefix = place.root + "/"
    found = {
        k: v for k, v in found.items() if k.startswith(prefix) and v.get("type") != "directory"
    }
    if not found and not fs.isdir(place.root):
        raise FileNotFoundError(f"raw folder not found: {place.url} (no objects under it)")
    paths: list[str] = []
    ignored: set[tuple[str, str]] = set()
    problems: list[InputError] = []
    for key in found:
        rel = key[len(prefix) :]
        parts = rel.split("/")
        hidden = next((i for i, p in enumerate(parts) if p.startswith(".")), None)
        if hidden is not None:
            shown = "/".join(parts[: hidden + 1]) + ("/" if hidden < len(parts) - 1 else "")
            ignored.add((shown, "hidden"))
        elif not rel or rel.endswith("/") or "" in parts:
            problems.append(
                InputError(rel or "(empty)", "bad_name", "an object name with empty parts")
            )
        elif rel.endswith(SIDECAR_SUFFIX):
            continue
        elif source_kind(rel) is None:
            ignored.add((rel, "unsupported_type"))
        elif "\ufffd" in rel:
            problems.append(InputError(rel, "bad_name", BAD_NAME))
        else:
            paths.append(rel)
    return Listing(sorted(paths), sorted(problems), sorted(ignored))


def count_objects(place: Place, up_to: int) -> int:
    """How many objects under RAW_DIR have an input's name, at most ``up_to``."""
    try:
        keys = place.fs.find(place.root, withdirs=False)
    except FileNotFoundError:
        return 0
    return min(up_to, sum(1 for k in keys if source_kind(k) is not None))


def _inside(rel: str) -> bool:
    return not rel.startswith("/") and ".." not in rel.split("/")


def _read_object(place: Place, rel: str, max_bytes: int) -> bytes:
    """One object's bytes, at most ``max_bytes`` (checked on its listed size before
    reading and again while reading); an object replaced while read is refused."""
    if not _inside(rel):
        raise DocumentError("outside_raw_dir", f"{rel} points outside the raw folder; not read")
    key = place.key(rel)
    before = _fresh_info(place, key)
    if (before.get("size") or 0) > max_bytes:
        raise DocumentError("too_large", f"{before['size']} bytes is over the limit of {max_bytes}")
    chunks: list[bytes] = []
    total = 0
    try:
        with place.fs.open(key, "rb") as fh:
            while chunk := fh.read(min(_CHUNK, max_bytes + 1 - total)):
                chunks.append(chunk)
                total += len(chunk)
                if total > max_bytes:
                    raise DocumentError(
                        "too_large", f"over the limit of {max_bytes} bytes (it grew while read)"
                    )
    except OSError as exc:  # s3fs reads with If-Match: a replaced object fails the read
        if "pre-condition" in str(exc).lower() or "precondition" in str(exc).lower():
            raise _changed() from exc
        raise
    data = b"".join(chunks)
    if _version(_fresh_info(place, key)) != _version(before) or len(data) != before.get(
        "size", len(data)
    ):
        raise _changed()
    return data


def _changed() -> DocumentError:
    return DocumentError(
        "changed_while_read",
        "the object changed while it was read (still being written?); a later run takes it",
    )


def _read_sidecar(place: Place, rel: str) -> dict[str, Any] | None:
    side = sidecar_path(rel)
    try:
        data = _read_object(place, side, MAX_SIDECAR_BYTES)
    except FileNotFoundError:
        return None
    except DocumentError as exc:
        raise DocumentError("bad_sidecar", f"sidecar {side}: {exc.message}") from exc
    except OSError as exc:
        raise DocumentError("bad_sidecar", f"sidecar {side} cannot be read: {exc}") from exc
    return parse_sidecar(data, side)


def read_object(place: Place, rel: str, max_bytes: int, max_expansion: int) -> RawSource:
    """Read one raw object (decompressed) and its sidecar; DocumentError with a clear
    reason otherwise, as ``flows.sources.read_source`` does for a local file."""
    try:
        data = _read_object(place, rel, max_bytes)
    except FileNotFoundError as exc:
        raise DocumentError("vanished", f"object disappeared before it was read: {rel}") from exc
    except OSError as exc:
        raise DocumentError("unreadable", f"cannot read object: {exc}") from exc
    if rel.lower().endswith(GZIP_SUFFIX):
        data = read_gzip(data, max_bytes, max_expansion)
    return RawSource(rel, data, _read_sidecar(place, rel))


# --- the lock --------------------------------------------------------------------------------


class ObjectLock:
    """The exclusive lock of a CURATED_DIR on an object store: an object created only if
    absent (S3's ``If-None-Match: *``; ``mode="create"`` elsewhere), holding its owner and
    an expiry that a thread renews every third of ``ttl`` while the run lives. A lock
    whose expiry has passed (its run was killed) is taken over. On S3 renewal, takeover
    and release are conditional on the object's ETag, so a run never removes or extends
    another run's lock; a run that lost its lock (stalled past its expiry) is stopped
    before its commit."""

    def __init__(self, place: Place, ttl: float = DEFAULT_LOCK_TTL) -> None:
        self.place = place
        self.key = place.key(LOCK_NAME)
        self.ttl = ttl
        self.owner = uuid.uuid4().hex
        self._etag: str | None = None
        self._lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._s3 = hasattr(place.fs, "call_s3")
        self._renewed_at = 0.0

    def _body(self) -> bytes:
        now = time.time()
        return json.dumps(
            {
                "owner": self.owner,
                "holder": f"pid {os.getpid()} on {socket.gethostname()}",
                "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "expires": now + self.ttl,
            }
        ).encode()

    def _put(self, condition: dict[str, str]) -> None:
        """Put the lock body under a condition; FileExistsError if it does not hold."""
        fs = self.place.fs
        if self._s3:
            bucket, key, _ = fs.split_path(self.key)
            try:
                out = fs.call_s3(
                    "put_object", Bucket=bucket, Key=key, Body=self._body(), **condition
                )
            except OSError as exc:
                if isinstance(exc, FileExistsError) or "condition" in str(exc).lower():
                    raise FileExistsError(self.key) from exc
                raise
            fs.invalidate_cache(self.key)
            self._etag = out.get("ETag")
            self._renewed_at = time.monotonic()
            return
        if condition.get("IfNoneMatch") == "*":
            try:
                fs.pipe_file(self.key, self._body(), mode="create")
            except (NotImplementedError, TypeError, ValueError) as exc:
                raise StorageError(
                    f"{self.place.url}: this file system cannot create an object only if it is "
                    "absent, so two runs could not be kept apart; thresher does not write here"
                ) from exc
        else:  # renewal without conditions: check the owner first (best effort)
            if self._holder().get("owner") != self.owner:
                raise FileExistsError(self.key)
            fs.pipe_file(self.key, self._body())
        self._renewed_at = time.monotonic()

    def _holder(self) -> dict[str, Any]:
        try:
            self.place.fs.invalidate_cache(self.key)
            body = self.place.fs.cat_file(self.key)
            info = _fresh_info(self.place, self.key)
        except FileNotFoundError:
            return {}
        try:
            found = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            found = {}
        return {**(found if isinstance(found, dict) else {}), "etag": info.get("ETag")}

    def acquire(self, timeout: float, on_wait: Callable[[str], None] | None = None) -> None:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                self._put({"IfNoneMatch": "*"})
                break
            except FileExistsError:
                holder = self._holder()
            if not holder:
                continue  # released meanwhile: try again at once
            if float(holder.get("expires", 0)) < time.time() and self._take_over(holder):
                break
            expires = time.strftime("%H:%M:%S", time.localtime(float(holder.get("expires", 0))))
            msg = (
                f"another ingest is writing {self.place.url} ({holder.get('holder', 'unknown')}, "
                f"its lock expires at {expires} unless renewed)"
            )
            if time.monotonic() >= deadline:
                raise CuratedLocked(
                    f"{msg}; gave up after {timeout:g} s. Runs on one curated folder take turns: "
                    "retry when it finishes, or raise lock_timeout. A killed run's lock expires "
                    "by itself."
                )
            if on_wait is not None and not told:
                on_wait(f"{msg}; waiting up to {timeout:g} s for it")
                told = True
            time.sleep(min(1.0, max(0.05, self.ttl / 10)))
        self._thread = threading.Thread(target=self._renew, name="thresher-lock", daemon=True)
        self._thread.start()

    def _take_over(self, holder: dict[str, Any]) -> bool:
        """Replace an expired lock, only if it is still the one read (S3: If-Match)."""
        try:
            if self._s3 and holder.get("etag"):
                self._put({"IfMatch": holder["etag"]})
            else:
                self.place.fs.rm_file(self.key)
                self._put({"IfNoneMatch": "*"})
        except (FileExistsError, FileNotFoundError):
            return False
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3) and self._renew_once():
            pass

    def _renew_once(self) -> bool:
        """Extend the lock once; False, with the lock marked lost, once it is not ours
        (taken over) or could not be renewed before it expired."""
        try:
            self._put({"IfMatch": self._etag} if self._s3 and self._etag else {})
        except FileExistsError:
            self._lost = "another run took the lock over after it expired"
            return False
        except Exception as exc:  # noqa: BLE001 - a failed renewal is tried again
            if time.monotonic() - self._renewed_at > self.ttl:
                self._lost = f"the lock could not be renewed before it expired ({exc})"
                return False
        return True

    def verify(self) -> None:
        """Raise CuratedLocked if this run no longer holds the lock."""
        if self._lost:
            raise CuratedLocked(
                f"{self.place.url}: this run lost its lock ({self._lost}); it stops before "
                "its commit, and the curated data is as the other run leaves it"
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._lost:
            return
        fs = self.place.fs
        try:
            if self._s3 and self._etag:
                bucket, key, _ = fs.split_path(self.key)
                fs.call_s3("delete_object", Bucket=bucket, Key=key, IfMatch=self._etag)
            elif self._holder().get("owner") == self.owner:
                fs.rm_file(self.key)
        except OSError:
            pass  # not ours any more, or gone: nothing to release
        fs.invalidate_cache(self.key)


# --- curated output --------------------------------------------------------------------------


class ObjectCurated:
    """CURATED_DIR on an object store: the same layout, tables and guarantees as a local
    folder (``flows.store.LocalCurated``), committed as this module's docstring says."""

    def __init__(self, place: Place, lock_ttl: float = DEFAULT_LOCK_TTL) -> None:
        self.place = place
        self.url = place.url
        self.lock_ttl = lock_ttl
        self._lock: ObjectLock | None = None
        self._staging: Path | None = None

    def _key(self, rel: str) -> str:
        return self.place.key(rel)

    def _exists(self, rel: str) -> bool:
        self.place.fs.invalidate_cache(self._key(rel))
        return bool(self.place.fs.exists(self._key(rel)))

    @contextmanager
    def lock(
        self, timeout: float = 0.0, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[None]:
        lock = ObjectLock(self.place, self.lock_ttl)
        lock.acquire(timeout, on_wait)
        self._lock = lock
        try:
            yield
        finally:
            self._lock = None
            lock.release()

    def verify_lock(self) -> None:
        if self._lock is not None:
            self._lock.verify()

    # reading
    def committed_dates(self) -> list[str]:
        days = set()
        for table in TABLES:
            for key in self.place.fs.glob(self._key(f"{table}/{PARTITION_KEY}=*/{PART_NAME}")):
                days.add(key.rsplit("/", 2)[-2].split("=", 1)[1])
        return sorted(days)

    def partitions(self, table: str, exclude_date: str | None) -> list[tuple[str, str]]:
        out = []
        for key in sorted(self.place.fs.glob(self._key(f"{table}/{PARTITION_KEY}=*/*.parquet"))):
            day = key.rsplit("/", 2)[-2].split("=", 1)[1]
            if day != exclude_date:
                out.append((day, key))
        return out

    def partition_file(self, table: str, day: str) -> str | None:
        rel = f"{table}/{PARTITION_KEY}={day}/{PART_NAME}"
        return self._key(rel) if self._exists(rel) else None

    def read_columns(self, ref: str, table: str, columns: list[str]) -> pa.Table:
        return read_columns(ref, table, columns, filesystem=self.place.fs)

    def partition_rows(self, ref: str) -> int:
        return pq.read_metadata(ref, filesystem=self.place.fs).num_rows

    def pending_commit(self) -> str | None:
        if not self._exists(JOURNAL_NAME):
            return None
        return str(json.loads(self.place.fs.cat_file(self._key(JOURNAL_NAME)))["ingest_date"])

    # a run's start, under the lock
    def recover(self) -> str | None:
        if not self._exists(JOURNAL_NAME):
            return None
        journal = json.loads(self.place.fs.cat_file(self._key(JOURNAL_NAME)))
        for rel in journal["files"].values():
            if self._exists(rel):
                self.move_into_place(rel)
        self.end_journal()
        return str(journal["ingest_date"])

    def clean_stale(self) -> None:
        """Remove temporary objects a killed run left (only under the lock, after
        ``recover``: no commit is pending then)."""
        fs = self.place.fs
        for table in TABLES:
            for key in fs.glob(self._key(f"{table}/{PARTITION_KEY}=*/.{PART_NAME}.*.tmp")):
                fs.rm_file(key)

    def spill(self) -> BatchSpill:
        """Batches set aside go to a local temporary folder: the store is not a scratch
        disk (a killed run's folder is left in the system's temporary space)."""
        return BatchSpill(Path(tempfile.mkdtemp(prefix="thresher-spill-")), own_folder=True)

    # a run's commit (``flows.store.PartitionWriter`` calls these)
    def stage(self, table: str, day: str, token: str) -> Path:
        """The local file a table's rows are written to before upload."""
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="thresher-stage-"))
        folder = self._staging / table / f"{PARTITION_KEY}={day}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f".{PART_NAME}.{token}.tmp"

    def seal(self, files: dict[str, Path]) -> dict[str, str]:
        """Upload each finished file to its hidden temporary key (one object each);
        returns the keys relative to CURATED_DIR, for the journal."""
        assert self._staging is not None
        out = {}
        for name, path in files.items():
            rel = path.relative_to(self._staging).as_posix()
            self.place.fs.put_file(str(path), self._key(rel))
            out[name] = rel
        shutil.rmtree(self._staging, ignore_errors=True)
        self._staging = None
        return out

    def write_journal(self, day: str, files: dict[str, str]) -> None:
        self.verify_lock()  # a run that lost its lock must not decide a commit
        body = {"schema_version": SCHEMA_VERSION, "ingest_date": day, "files": files}
        self.place.fs.pipe_file(self._key(JOURNAL_NAME), json.dumps(body, sort_keys=True).encode())

    def move_into_place(self, rel: str) -> None:
        """Copy a temporary object over its partition's file (one server-side step: a
        reader sees the old file or the new one), remove any other file of the
        partition, then the temporary object."""
        fs = self.place.fs
        folder = rel.rsplit("/", 1)[0]
        fs.copy(self._key(rel), self._key(f"{folder}/{PART_NAME}"))
        for key in fs.glob(self._key(f"{folder}/*.parquet")):
            if key.rsplit("/", 1)[-1] != PART_NAME:
                fs.rm_file(key)
        fs.rm_file(self._key(rel))
        fs.invalidate_cache(self._key(folder))

    def end_journal(self) -> None:
        self.place.fs.rm_file(self._key(JOURNAL_NAME))
        self.place.fs.invalidate_cache(self._key(JOURNAL_NAME))

    def discard(self, files: dict[str, Path], sealed: dict[str, str] | None) -> None:
        """Drop a run's files, staged or uploaded (before its journal)."""
        for rel in (sealed or {}).values():
            try:
                self.place.fs.rm_file(self._key(rel))
            except FileNotFoundError:
                pass
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
