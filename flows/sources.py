"""Finding and reading raw sources under RAW_DIR (the I/O half of ingest; no cleaning).

Inputs: ``*.txt`` (plain text), ``*.html`` / ``*.htm`` (pages), ``*.jsonl`` (one record per
line), each optionally gzipped (``.gz``). Nothing outside RAW_DIR is ever read: a symlink
whose target leaves the folder is refused. Compressed input is read with a cap on both
its decompressed size and its expansion ratio, so a decompression bomb is refused.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cleaners.document import DocumentError, validate_sidecar

SIDECAR_SUFFIX = ".meta.json"
GZIP_SUFFIX = ".gz"
KINDS: dict[str, Literal["text", "html", "jsonl"]] = {
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
}
# Files larger than this (decompressed) are refused with a clear error (a flow setting).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# A compressed file may expand to at most this many times its size (text gzips 3-10x)...
DEFAULT_MAX_EXPANSION = 100
# ...except that anything may expand to this much (a tiny file of repeated text).
EXPANSION_FLOOR_BYTES = 1024 * 1024
_CHUNK = 1024 * 1024


def source_kind(path: str) -> Literal["text", "html", "jsonl"] | None:
    """What a raw file is, from its name (``.gz`` looks at the name inside).

    >>> source_kind("a/story.HTML.gz"), source_kind("dump.jsonl"), source_kind("x.pdf")
    ('html', 'jsonl', None)
    """
    name = path.lower()
    if name.endswith(GZIP_SUFFIX):
        name = name[: -len(GZIP_SUFFIX)]
    return KINDS.get(os.path.splitext(name)[1])


@dataclass(frozen=True)
class RawSource:
    path: str  # relative to RAW_DIR, POSIX separators
    data: bytes
    sidecar: dict[str, Any] | None


def discover(raw_dir: Path) -> list[str]:
    """Relative paths of every raw document under ``raw_dir``, sorted (the order that
    decides which document keeps a shared paragraph)."""
    root = Path(raw_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"raw folder not found: {root}")
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or name.endswith(SIDECAR_SUFFIX):
                continue
            if source_kind(name) is not None:
                found.append((Path(dirpath) / name).relative_to(root).as_posix())
    return sorted(found)


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


def _inside(root: Path, rel: str) -> Path:
    full = (root / rel).resolve()
    if not full.is_relative_to(root.resolve()):
        raise DocumentError("outside_raw_dir", f"{rel} points outside the raw folder; not read")
    return full


def read_gzip(path: Path, size: int, max_bytes: int, max_expansion: int) -> bytes:
    """Decompress a gzip file, stopping as soon as it passes either limit."""
    limit = min(max_bytes, max(EXPANSION_FLOOR_BYTES, max_expansion * size))
    chunks: list[bytes] = []
    total = 0
    try:
        with gzip.open(path, "rb") as fh:
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


def read_source(
    raw_dir: Path,
    rel: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_expansion: int = DEFAULT_MAX_EXPANSION,
) -> RawSource:
    """Read one raw file (decompressed) and its sidecar; raise DocumentError with a clear
    reason."""
    root = Path(raw_dir)
    full = _inside(root, rel)
    try:
        info = full.stat()
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(
                "unreadable", "not a regular file (a folder, FIFO or device); not read"
            )
        size = info.st_size
        if size > max_bytes:
            raise DocumentError("too_large", f"{size} bytes is over the limit of {max_bytes}")
        if rel.lower().endswith(GZIP_SUFFIX):
            data = read_gzip(full, size, max_bytes, max_expansion)
        else:
            data = full.read_bytes()
    except FileNotFoundError as exc:
        raise DocumentError("vanished", f"file disappeared before it was read: {exc}") from exc
    except OSError as exc:
        raise DocumentError("unreadable", f"cannot read file: {exc}") from exc
    sidecar = None
    side_rel = sidecar_path(rel)
    if (root / side_rel).exists() or (root / side_rel).is_symlink():
        side_full = _inside(root, side_rel)
        try:
            raw = json.loads(side_full.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DocumentError(
                "bad_sidecar", f"sidecar {side_rel} is not valid JSON: {exc}"
            ) from exc
        sidecar = validate_sidecar(raw)
    return RawSource(rel, data, sidecar)
