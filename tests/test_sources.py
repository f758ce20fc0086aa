"""Reading raw files and sidecars: what is found, what is refused and why."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cleaners.document import DocumentError
from flows.pipeline import process_paths
from flows.sources import discover, read_source

BODY = "The regional council met on Tuesday to discuss the budget and voted to raise spending."


def test_discover_is_recursive_sorted_and_skips_sidecars(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text(BODY)
    (tmp_path / "a.txt").write_text(BODY)
    (tmp_path / "a.meta.json").write_text("{}")
    (tmp_path / "notes.md").write_text("x")
    assert discover(tmp_path) == ["a.txt", "b/z.txt"]


def test_sidecar_fields_win_and_are_typed(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A headline that the text gives\n\n" + BODY)
    (tmp_path / "a.meta.json").write_text(
        json.dumps(
            {
                "title": "The sidecar title",
                "url": "https://x.org/a",
                "fetched_at": "2026-11-20T10:00:00Z",
            }
        )
    )
    doc = process_paths(tmp_path, ["a.txt"]).docs[0]
    assert doc.metadata["title"] == "The sidecar title"
    assert doc.metadata["fetched_at"].isoformat() == "2026-11-20T10:00:00+00:00"


@pytest.mark.parametrize(
    ("sidecar", "code"),
    [
        ("{not json", "bad_sidecar"),
        (json.dumps({"published_at": "not a date"}), "bad_sidecar"),
        (json.dumps({"url": 42}), "bad_sidecar"),
        (json.dumps(["a", "list"]), "bad_sidecar"),
    ],
)
def test_bad_sidecar_is_an_error_not_a_crash(tmp_path: Path, sidecar: str, code: str) -> None:
    (tmp_path / "a.txt").write_text(BODY)
    (tmp_path / "a.meta.json").write_text(sidecar)
    (tmp_path / "b.txt").write_text(BODY)
    result = process_paths(tmp_path, ["a.txt", "b.txt"])
    assert [e[:2] for e in result.errors] == [("a.txt", code)]
    assert [d.source_path for d in result.docs] == ["b.txt"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"  \n\n \t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "undecodable"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<\x00\x01\x02\x03\x04\x05\x06>>", "undecodable"),
    ],
)
def test_bad_files_are_recorded(tmp_path: Path, content: bytes, code: str) -> None:
    (tmp_path / "bad.txt").write_bytes(content)
    result = process_paths(tmp_path, ["bad.txt"])
    assert result.docs == [] and [e[1] for e in result.errors] == [code]


def test_symlink_outside_raw_dir_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text(BODY)
    raw = tmp_path / "raw"
    raw.mkdir()
    os.symlink(outside, raw / "link.txt")
    with pytest.raises(DocumentError) as err:
        read_source(raw, "link.txt")
    assert err.value.code == "outside_raw_dir"


def test_too_large_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text(BODY * 10)
    result = process_paths(tmp_path, ["big.txt"], max_bytes=100)
    assert [e[1] for e in result.errors] == ["too_large"]


def test_count_inputs_counts_input_names_and_stops_at_the_bound(tmp_path: Path) -> None:
    """What decides automatic workers: inputs by name, hidden folders and other types
    left out, and no further than asked."""
    from flows.settings import workers_for
    from flows.sources import count_inputs

    for i in range(7):
        (tmp_path / f"a{i}.txt").write_text(BODY)
    (tmp_path / "b.jsonl.gz").write_bytes(b"")
    (tmp_path / "notes.csv").write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "c.txt").write_text(BODY)
    assert count_inputs(tmp_path, up_to=100) == 8
    assert count_inputs(tmp_path, up_to=3) == 3
    assert workers_for(0, count_inputs(tmp_path, up_to=2000), cores=4) == 1


def test_one_reader_table_serves_ingest_and_explain(tmp_path: Path, monkeypatch) -> None:
    """Issue 20, finding 2: a format is one entry of ``READERS``; listing, ingest's
    batches and ``thresher explain`` all follow it."""
    from cleaners.document import prepare_document
    from flows import sources
    from flows.cli import _explained
    from flows.pipeline import process_paths

    raw = tmp_path / "raw"
    raw.mkdir()
    body = "The council met on Tuesday and voted to raise the school budget by ten percent."
    (raw / "note.md").write_text(body + "\n\nSubscribe to our newsletter for more news.\n")
    records = [json.dumps({"text": body}), "", json.dumps({"text": body + " Twice."})]
    (raw / "x.jsonl").write_text("\n".join(records) + "\n")
    assert sources.scan(raw).paths == ["x.jsonl"]  # .md is not a format yet
    reader = sources.Reader((".md",), sources.whole_file, prepare_document)
    monkeypatch.setitem(sources.READERS, "markdown", reader)
    assert sources.scan(raw).paths == ["note.md", "x.jsonl"]
    batch = process_paths(raw, ["note.md", "x.jsonl"])
    assert [d.source_path for d in batch.docs] == ["note.md", "x.jsonl:1", "x.jsonl:3"]
    assert batch.errors == []
    explained = _explained(str(raw / "note.md"))
    assert [p.text for p in explained.paragraphs] == [body]
    assert _explained(f"{raw / 'x.jsonl'}:3").paragraphs[0].text == body + " Twice."
