"""Every bad input the reliability issue names, in one raw folder with good files, through
the Prefect flow: each is recorded in ``errors`` with its code and a clear message, the
good files are written, and every input is accounted for (written, skipped or failed).

The README's bad-input table lists the same cases."""

from __future__ import annotations

import gzip
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from flows.pipeline import process_paths
from flows.sources import discover

GOOD = (
    "The regional council met on Tuesday to discuss the budget for next year, and members "
    "voted to raise spending on schools by four percent.\n\nOpposition members said the "
    "increase did not go far enough, but the measure passed after a long debate."
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06" + bytes(64)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<</Length 5>>\nstream\nx\x9c\x0b\x0c\x0d\x00\x01\x02"


def _big_line(raw: Path) -> None:
    chunk = b"word " * 200_000  # 1 MB, no newline anywhere
    with open(raw / "bigline.txt", "wb") as fh:
        for _ in range(200):
            fh.write(chunk)


def _write(name: str, data: bytes | str) -> Callable[[Path], None]:
    def setup(raw: Path) -> None:
        path = raw / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())

    return setup


def _with_sidecar(name: str, sidecar: str) -> Callable[[Path], None]:
    def setup(raw: Path) -> None:
        (raw / name).write_text(GOOD)
        (raw / name.replace(".txt", ".meta.json")).write_text(sidecar)

    return setup


def _symlink_out(raw: Path) -> None:
    outside = raw.parent / "secret.txt"
    outside.write_text("a file outside the raw folder that must never be read")
    (raw / "escape.txt").symlink_to(outside)


def _sidecar_out(raw: Path) -> None:
    outside = raw.parent / "outside.meta.json"
    outside.write_text(json.dumps({"site": "leaked"}))
    (raw / "side.txt").write_text(GOOD)
    (raw / "side.meta.json").symlink_to(outside)


def _many_paragraphs(raw: Path) -> None:
    (raw / "listing.txt").write_text("\n\n".join(f"Item {i} of the listing" for i in range(10_001)))


# (label, setup, source_path in errors, error code, words the message must contain)
CASES = [
    ("empty file", _write("empty.txt", b""), "empty.txt", "empty", "empty"),
    ("only white space", _write("blank.txt", " \n\t\n"), "blank.txt", "empty", "white space"),
    ("image saved as .txt", _write("image.txt", PNG), "image.txt", "undecodable", "binary"),
    ("PDF saved as .txt", _write("doc.txt", PDF), "doc.txt", "undecodable", "binary"),
    (
        "random bytes",
        _write("noise.txt", random.Random(7).randbytes(4096)),
        "noise.txt",
        "undecodable",
        "binary",
    ),
    ("a single 200 MB line", _big_line, "bigline.txt", "too_large", "over the limit"),
    ("malformed sidecar", _with_sidecar("a.txt", "{not json"), "a.txt", "bad_sidecar", "JSON"),
    (
        "sidecar date that is not a date",
        _with_sidecar("b.txt", json.dumps({"published_at": "last Tuesday-ish"})),
        "b.txt",
        "bad_sidecar",
        "not a date",
    ),
    (
        "sidecar field of the wrong type",
        _with_sidecar("c.txt", json.dumps({"url": 42})),
        "c.txt",
        "bad_sidecar",
        "must be a string",
    ),
    (
        "JSONL line that is not JSON",
        _write("dump.jsonl", json.dumps({"text": GOOD}) + "\n{oops\n"),
        "dump.jsonl:2",
        "bad_record",
        "not JSON",
    ),
    ("symlink out of RAW_DIR", _symlink_out, "escape.txt", "outside_raw_dir", "outside"),
    ("sidecar symlink out of RAW_DIR", _sidecar_out, "side.txt", "outside_raw_dir", "outside"),
    (
        "decompression bomb",
        _write("bomb.txt.gz", gzip.compress(b" " * (30 * 1024 * 1024), compresslevel=9)),
        "bomb.txt.gz",
        "expansion_limit",
        "decompression bomb",
    ),
    (
        "corrupt gzip",
        _write("bad.txt.gz", b"\x1f\x8b" + bytes(40)),
        "bad.txt.gz",
        "unreadable",
        "gzip",
    ),
    ("too many paragraphs", _many_paragraphs, "listing.txt", "too_many_paragraphs", "limit"),
]


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory, prefect_harness) -> tuple[Path, dict]:
    from flows.ingest import ingest

    base = tmp_path_factory.mktemp("bad")
    raw, curated = base / "raw", base / "curated"
    raw.mkdir()
    for _, setup, *_ in CASES:
        setup(raw)
    (raw / "good-1.txt").write_text(GOOD)
    (raw / "good-2.html").write_text(f"<html><body><article><p>{GOOD}</p></article></body></html>")
    if hasattr(os, "mkfifo"):
        os.mkfifo(raw / "pipe.txt")  # would block a naive reader forever
    summary = ingest(raw_dir=str(raw), curated_dir=str(curated), ingest_date="2026-11-21")
    (raw / "bigline.txt").unlink()  # 200 MB: not kept around
    return curated, summary


@pytest.mark.parametrize(
    ("label", "path", "code", "words"), [pytest.param(c[0], *c[2:], id=c[0]) for c in CASES]
)
def test_bad_input_is_recorded(bad_run, label: str, path: str, code: str, words: str) -> None:
    curated, _ = bad_run
    errors = pd.read_parquet(curated / "errors").set_index("source_path")
    assert path in errors.index, f"{label}: not in errors"
    assert errors.loc[path, "error"] == code
    assert words in errors.loc[path, "message"]


def test_nothing_is_lost(bad_run) -> None:
    curated, summary = bad_run
    docs = pd.read_parquet(curated / "documents")
    errors = pd.read_parquet(curated / "errors")
    assert {"good-1.txt", "good-2.html", "dump.jsonl:1"} <= set(docs["source_path"])
    accounted = set(docs["source_path"]) | set(errors["source_path"])
    expected = {c[2] for c in CASES} | {"good-1.txt", "good-2.html", "dump.jsonl:1"}
    if hasattr(os, "mkfifo"):
        expected.add("pipe.txt")
    assert accounted == expected
    assert summary.documents_written + summary.documents_failed == len(expected)
    assert "leaked" not in set(docs["site"].dropna())


def test_fifo_is_refused_not_read(bad_run) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    errors = pd.read_parquet(bad_run[0] / "errors").set_index("source_path")
    assert errors.loc["pipe.txt", "error"] == "unreadable"


def test_file_vanishing_or_turning_unreadable_mid_run(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(GOOD)
    listed = discover(tmp_path)
    (tmp_path / "a.txt").unlink()  # gone between listing and reading
    (tmp_path / "b.txt").unlink()
    (tmp_path / "b.txt").mkdir()  # replaced by something that is not a file
    result = process_paths(tmp_path, listed)
    assert [(p, c) for p, c, _ in result.errors] == [("a.txt", "vanished"), ("b.txt", "unreadable")]
    assert [d.source_path for d in result.docs] == ["c.txt"]
