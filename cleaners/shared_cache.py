"""A folder of files computed once and shared by every later process (the language
model unpacked, the pattern database compiled): ``$THRESHER_CACHE_DIR``, else
``$XDG_CACHE_HOME/thresher`` or ``~/.cache/thresher``.

Each entry is a folder written all at once (into a fresh sibling, then one rename), so a
reader sees every file or none. A cache that cannot be written is skipped: the caller
computes its value again in each process.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

CACHE_ENV = "THRESHER_CACHE_DIR"
LOG = logging.getLogger(__name__)


def cache_root() -> Path:
    """The cache folder (RuntimeError when there is no home folder to put one in)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "thresher"


def entry(name: str) -> Path | None:
    """The folder of the cache entry ``name`` (None without a home folder)."""
    try:
        return cache_root() / name
    except RuntimeError:
        return None


def store(folder: Path, write: Callable[[Path], None], what: str) -> None:
    """Fill ``folder`` with ``write(staging)``, all at once. Another process that got there
    first wins; a failed write leaves nothing behind."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as exc:
        LOG.info("%s not cached (%s): made again in each process", what, exc)
        return
    try:
        write(staging)
        staging.rename(folder)  # fails if another process stored it meanwhile: it wins
    except OSError as exc:
        LOG.info("%s not cached (%s): made again in each process", what, exc)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone after the rename; a failed write
