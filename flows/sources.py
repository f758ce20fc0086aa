"""Finding and reading raw sources under RAW_DIR (the I/O half of ingest; no cleaning).

Nothing outside RAW_DIR is ever read: a symlink whose target leaves the folder is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleaners.document import DocumentError, validate_sidecar

SIDECAR_SUFFIX = ".meta.json"
TEXT_SUFFIXES = (".txt",)
# Files larger than this are refused with a clear error (a setting of the flow).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


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
            if name.lower().endswith(TEXT_SUFFIXES):
                found.append((Path(dirpath) / name).relative_to(root).as_posix())
    return sorted(found)


def sidecar_path(path: str) -> str:
    """``a/b.txt`` -> ``a/b.meta.json`` (the sidecar names the file without its suffix).

    >>> sidecar_path("2024/story.txt")
    '2024/story.meta.json'
    """
    stem = path.rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path
    return stem + SIDECAR_SUFFIX


def _inside(root: Path, rel: str) -> Path:
    full = (root / rel).resolve()
    if not full.is_relative_to(root.resolve()):
        raise DocumentError("outside_raw_dir", f"{rel} points outside the raw folder; not read")
    return full


def read_source(raw_dir: Path, rel: str, max_bytes: int = DEFAULT_MAX_BYTES) -> RawSource:
    """Read one raw file and its sidecar; raise DocumentError with a clear reason."""
    root = Path(raw_dir)
    full = _inside(root, rel)
    try:
        size = full.stat().st_size
        if size > max_bytes:
            raise DocumentError("too_large", f"{size} bytes is over the limit of {max_bytes}")
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
