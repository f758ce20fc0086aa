"""Finding and reading raw sources under RAW_DIR (the I/O half of ingest; no cleaning).

Inputs: ``*.txt`` (plain text), ``*.html`` / ``*.htm`` (pages), ``*.jsonl`` or ``*.ndjson``
(one record per line), each optionally gzipped (``.gz``). Nothing outside RAW_DIR is ever
read: a symlink whose target leaves the folder is refused. Compressed input is read with a
cap on both its decompressed size and its expansion ratio, so a decompression bomb is
refused.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from cleaners.document import (
    DocumentError,
    Prepared,
    load_json,
    prepare_document,
    prepare_html,
    prepare_record,
    validate_sidecar,
)
from flows.settings import DEFAULT_MAX_BYTES, DEFAULT_MAX_EXPANSION, is_url, local_path

if TYPE_CHECKING:
    from flows.objstore import Place

SIDECAR_SUFFIX = ".meta.json"
GZIP_SUFFIX = ".gz"


@dataclass(frozen=True)
class RawSource:
    path: str  # relative to RAW_DIR, POSIX separators
    data: bytes
    sidecar: dict[str, Any] | None


def whole_file(source: RawSource) -> Iterator[tuple[str, bytes]]:
    """One document: the file itself, named by its path."""
    yield source.path, source.data


def jsonl_records(source: RawSource) -> Iterator[tuple[str, bytes]]:
    """Each non-blank line a document named ``<file>:<line number>``."""
    for number, line in enumerate(source.data.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if line.strip():
            yield f"{source.path}:{number}", line


@dataclass(frozen=True)
class Reader:
    """One input format: the names it has, how a file splits into documents (name and
    bytes each), and the first stage of processing one (``cleaners.document``)."""

    suffixes: tuple[str, ...]
    documents: Callable[[RawSource], Iterator[tuple[str, bytes]]]
    prepare: Callable[..., Prepared]  # (bytes, sidecar, settings) -> Prepared


# The formats thresher reads: ingest and explain both go through this table, so a new
# format is a reader here (and its test).
READERS: dict[str, Reader] = {
    "text": Reader((".txt",), whole_file, prepare_document),
    "html": Reader((".html", ".htm"), whole_file, prepare_html),
    # .ndjson: the same format under its other common name
    "jsonl": Reader((".jsonl", ".ndjson"), jsonl_records, prepare_record),
}


def suffixes() -> list[str]:
    """The file names thresher reads, as suffixes (each also gzipped, ``.gz``)."""
    return [suffix for reader in READERS.values() for suffix in reader.suffixes]


# ...except that anything may expand to this much (a tiny file of repeated text).
EXPANSION_FLOOR_BYTES = 1024 * 1024
# A sidecar holds a few source fields: anything larger is refused unread.
MAX_SIDECAR_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024


def source_kind(path: str) -> str | None:
    """What a raw file is, from its name (``.gz`` looks at the name inside).

    >>> source_kind("a/story.HTML.gz"), source_kind("dump.ndjson"), source_kind("x.pdf")
    ('html', 'jsonl', None)
    """
    name = path.lower()
    if name.endswith(GZIP_SUFFIX):
        name = name[: -len(GZIP_SUFFIX)]
    suffix = os.path.splitext(name)[1]
    return next((kind for kind, r in READERS.items() if suffix in r.suffixes), None)


class InputError(NamedTuple):
    """An input that could not be ingested: an ``errors`` row without its run fields."""

    source_path: str
    code: str
    message: str


@dataclass(frozen=True)
class Listing:
    """What a walk of RAW_DIR found. Every entry is accounted for in one of three lists
    (sidecars aside: they belong to their file)."""

    paths: list[str]  # raw documents to read, sorted (the order that decides keepers)
    # Inputs that cannot be read; they go to ``errors``.
    problems: list[InputError] = field(default_factory=list)
    # (path, code): entries that are not inputs by design, counted and listed in the
    # summary: ``hidden`` (dot-files and dot-folders), ``folder_symlink`` (not followed),
    # ``unsupported_type`` (a name thresher does not read).
    ignored: list[tuple[str, str]] = field(default_factory=list)


def shown_name(path: str) -> str:
    r"""A path as it can be stored and printed: bytes that are not UTF-8 (which Python
    keeps as surrogate escapes) written as ``\xNN``.

    >>> print(shown_name(os.fsdecode(b"caf\xe9.txt")))
    caf\xe9.txt
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def scan(raw_dir: Path | str, storage_options: dict[str, Any] | None = None) -> Listing:
    """Walk ``raw_dir`` and sort what is there into documents to read, problems and
    ignored entries. An object-store URL is listed by ``flows.objstore.scan_objects``
    (with ``storage_options``); a local folder is walked here. Folders are opened one
    component at a time from RAW_DIR's descriptor, so paths longer than PATH_MAX are
    walked too and a folder swapped for a symlink is not followed. Folder symlinks are
    not followed; file symlinks are read if they stay inside RAW_DIR (``read_source``
    decides)."""
    from flows import objstore

    if is_url(raw_dir):
        return objstore.scan_objects(objstore.open_place(str(raw_dir), storage_options))
    root = local_path(raw_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"raw folder not found: {root}")
    paths: list[str] = []
    problems: list[InputError] = []
    ignored: list[tuple[str, str]] = []
    with RawRoot(root) as raw:
        pending = [""]
        while pending:
            folder = pending.pop()
            try:
                entries = raw.list_dir(folder)
            except (OSError, DocumentError) as exc:
                why = exc.message if isinstance(exc, DocumentError) else exc.strerror
                problems.append(
                    InputError(
                        shown_name(folder or "."), "unreadable_folder", f"cannot list it: {why}"
                    )
                )
                continue
            subfolders = []
            for name, is_dir, is_link in entries:
                rel = folder + name
                if name.startswith("."):
                    ignored.append((shown_name(rel + "/" if is_dir else rel), "hidden"))
                elif is_dir:
                    subfolders.append(rel + "/")
                elif is_link and raw.is_dir_link(rel):
                    ignored.append((shown_name(rel), "folder_symlink"))
                elif name.endswith(SIDECAR_SUFFIX):
                    continue
                elif source_kind(name) is None:
                    ignored.append((shown_name(rel), "unsupported_type"))
                elif not _is_utf8(rel):
                    problems.append(InputError(shown_name(rel), "bad_name", BAD_NAME))
                else:
                    paths.append(rel)
            pending.extend(reversed(subfolders))
    return Listing(sorted(paths), sorted(problems), sorted(ignored))


BAD_NAME = "file name is not UTF-8 (its bytes are shown as \\xNN); rename it to UTF-8 to ingest it"


def count_inputs(
    raw_dir: Path | str, up_to: int, storage_options: dict[str, Any] | None = None
) -> int:
    """How many files under ``raw_dir`` have an input's name, counting no further than
    ``up_to`` (a quick look for deciding how to run, not the listing a run reads)."""
    from flows import objstore

    if is_url(raw_dir):
        return objstore.count_objects(objstore.open_place(str(raw_dir), storage_options), up_to)
    raw_dir = local_path(raw_dir)
    found = 0
    for _, dirnames, filenames in os.walk(raw_dir):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found += sum(1 for name in filenames if source_kind(name) is not None)
        if found >= up_to:
            break
    return min(found, up_to)


def discover(raw_dir: Path | str) -> list[str]:
    """Relative paths of every raw document under ``raw_dir``, sorted."""
    return scan(raw_dir).paths


def sidecar_path(path: str) -> str:
    """``a/b.txt`` -> ``a/b.meta.json``: the sidecar names the file without its suffixes
    (``.gz`` and the kind's own).

    >>> sidecar_path("2024/story.txt"), sidecar_path("2024/page.html.gz")
    ('2024/story.meta.json', '2024/page.meta.json')
    """
    if path.lower().endswith(GZIP_SUFFIX):
        path = path[: -len(GZIP_SUFFIX)]
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    return stem + SIDECAR_SUFFIX


# Symlinks followed while resolving one path (Linux's own limit is 40).
MAX_SYMLINK_HOPS = 40
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO that raced in after the check must not wait for a writer.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class RawRoot:
    """RAW_DIR opened once. Every file under it is reached from this descriptor one path
    component at a time (``openat`` with ``O_NOFOLLOW``); a symlink on the way is read
    and resolved here, and refused if it leaves RAW_DIR. So swapping a folder for a
    symlink while a run reads cannot make it read outside RAW_DIR, and only regular
    files are opened (a FIFO or a device is refused before any read)."""

    def __init__(self, raw_dir: Path) -> None:
        self.path = Path(raw_dir)
        self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._prefixes = {
            os.path.abspath(self.path).rstrip("/") + "/",
            os.path.realpath(self.path).rstrip("/") + "/",
        }

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> RawRoot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self, rel: str) -> int:
        """A read-only descriptor of the regular file at ``rel``; DocumentError (or
        FileNotFoundError / OSError from the system) otherwise."""
        parts = deque(rel.split("/"))
        dirs = [self.fd]
        hops = 0
        try:
            while parts:
                name = parts.popleft()
                if name in ("", "."):
                    continue
                if name == "..":
                    if len(dirs) == 1:
                        raise _outside(rel)
                    os.close(dirs.pop())
                    continue
                info = os.stat(name, dir_fd=dirs[-1], follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    hops += 1
                    if hops > MAX_SYMLINK_HOPS:
                        raise DocumentError(
                            "symlink_loop", f"more than {MAX_SYMLINK_HOPS} symlinks (a loop?)"
                        )
                    target = os.readlink(name, dir_fd=dirs[-1])
                    if target.startswith("/"):
                        inner = self._inner(target)
                        if inner is None:
                            raise _outside(rel)
                        for fd in dirs[1:]:
                            os.close(fd)
                        dirs = [self.fd]
                        target = inner
                    parts.extendleft(reversed(target.split("/")))
                    continue
                if parts:
                    dirs.append(os.open(name, _DIR_FLAGS, dir_fd=dirs[-1]))
                    continue
                if not stat.S_ISREG(info.st_mode):
                    raise _not_regular()
                fd = os.open(name, _FILE_FLAGS, dir_fd=dirs[-1])
                if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since the check
                    os.close(fd)
                    raise _not_regular()
                return fd
            raise _not_regular()
        finally:
            for fd in dirs[1:]:
                os.close(fd)

    def list_dir(self, rel: str) -> list[tuple[str, bool, bool]]:
        """(name, is a folder, is a symlink) of each entry of the folder at ``rel`` ("" is
        RAW_DIR itself), sorted by name; the folder is reached without following
        symlinks, one component at a time."""
        fd = os.open(".", _DIR_FLAGS, dir_fd=self.fd)
        try:
            for name in rel.split("/"):
                if name:
                    sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                    os.close(fd)
                    fd = sub
            with os.scandir(fd) as found:
                return sorted(
                    (e.name, e.is_dir(follow_symlinks=False), e.is_symlink()) for e in found
                )
        finally:
            os.close(fd)

    def is_dir_link(self, rel: str) -> bool:
        """Whether the symlink at ``rel`` points at a folder (a loop or a dangling link
        is not one: reading it reports the problem)."""
        try:
            return stat.S_ISDIR(os.stat(self.path / rel).st_mode)
        except (OSError, RuntimeError):
            return False

    def _inner(self, target: str) -> str | None:
        for prefix in self._prefixes:
            if target.startswith(prefix) or target + "/" == prefix:
                return target[len(prefix) :] or "."
        return None


def _outside(rel: str) -> DocumentError:
    return DocumentError("outside_raw_dir", f"{rel} points outside the raw folder; not read")


def _not_regular() -> DocumentError:
    return DocumentError("unreadable", "not a regular file (a folder, FIFO or device); not read")


def read_at_most(fd: int, limit: int) -> bytes:
    """Read a descriptor to its end, or raise ``too_large`` as soon as it gives more than
    ``limit`` bytes: a file that grows while it is read cannot pass the limit."""
    chunks: list[bytes] = []
    total = 0
    while chunk := os.read(fd, min(_CHUNK, limit + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise DocumentError(
                "too_large", f"over the limit of {limit} bytes (it grew while read)"
            )
    return b"".join(chunks)


def read_gzip(data: bytes, max_bytes: int, max_expansion: int) -> bytes:
    """Decompress gzip bytes, stopping as soon as it passes either limit."""
    size = len(data)
    limit = min(max_bytes, max(EXPANSION_FLOOR_BYTES, max_expansion * size))
    chunks: list[bytes] = []
    total = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > limit:
                    if limit == max_bytes:
                        msg = f"decompresses to over {max_bytes} bytes, the limit"
                        raise DocumentError("too_large", msg)
                    raise DocumentError(
                        "expansion_limit",
                        f"decompresses to over {max_expansion} times its {size} bytes; "
                        "refused as a possible decompression bomb",
                    )
                chunks.append(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DocumentError("unreadable", f"not a readable gzip file: {exc}") from exc
    return b"".join(chunks)


def _read_file(root: RawRoot, rel: str, max_bytes: int) -> bytes:
    """The bytes of one file, at most ``max_bytes``; a file that changes while it is read
    (a scraper still writing it) is refused, not ingested torn."""
    fd = root.open(rel)
    try:
        before = os.fstat(fd)
        if before.st_size > max_bytes:
            raise DocumentError(
                "too_large", f"{before.st_size} bytes is over the limit of {max_bytes}"
            )
        data = read_at_most(fd, max_bytes)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise DocumentError(
            "changed_while_read",
            "the file changed while it was read (still being written?); a later run takes it",
        )
    return data


def _read_sidecar(root: RawRoot, side_rel: str) -> dict[str, Any] | None:
    try:
        data = _read_file(root, side_rel, MAX_SIDECAR_BYTES)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:  # no such name can exist: no sidecar
            return None
        raise DocumentError("bad_sidecar", f"sidecar {side_rel} cannot be read: {exc}") from exc
    except DocumentError as exc:
        if exc.code == "outside_raw_dir":
            raise
        raise DocumentError("bad_sidecar", f"sidecar {side_rel}: {exc.message}") from exc
    return parse_sidecar(data, side_rel)


def parse_sidecar(data: bytes, side_rel: str) -> dict[str, Any]:
    """A sidecar's source fields from its bytes (UTF-8 JSON), checked; ``bad_sidecar``
    otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError("bad_sidecar", f"sidecar {side_rel} is not UTF-8 JSON: {exc}") from exc
    return validate_sidecar(load_json(text, f"sidecar {side_rel}", "bad_sidecar"))


def read_source(
    raw_dir: Path | RawRoot | Place,
    rel: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_expansion: int = DEFAULT_MAX_EXPANSION,
) -> RawSource:
    """Read one raw file (decompressed) and its sidecar; raise DocumentError with a clear
    reason. ``raw_dir`` may be a ``RawRoot`` already open (a batch opens RAW_DIR once), or
    an object-store folder (``flows.objstore.Place``)."""
    if not isinstance(raw_dir, Path | RawRoot | str):
        from flows.objstore import read_object

        return read_object(raw_dir, rel, max_bytes, max_expansion)
    opened = nullcontext(raw_dir) if isinstance(raw_dir, RawRoot) else RawRoot(raw_dir)
    with opened as root:
        try:
            data = _read_file(root, rel, max_bytes)
        except FileNotFoundError as exc:
            raise DocumentError("vanished", f"file disappeared before it was read: {exc}") from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # became a symlink between check and open
                raise DocumentError(
                    "unreadable", "turned into a symlink while being read; not followed"
                ) from exc
            raise DocumentError("unreadable", f"cannot read file: {exc}") from exc
        if rel.lower().endswith(GZIP_SUFFIX):
            data = read_gzip(data, max_bytes, max_expansion)
        return RawSource(rel, data, _read_sidecar(root, sidecar_path(rel)))
