"""Input formats: HTML through trafilatura, JSONL records, gzip of any input, and one
mixed folder through the Prefect flow."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from cleaners.document import DocumentError, document_row, process_html, process_record
from flows.pipeline import process_paths
from flows.sources import discover, read_source

BODY = [
    "The Harbour Bridge in Northport reopened to traffic on Thursday after six months of "
    "repairs that cost the city 14 million euros, officials said.",
    "Engineers replaced the steel bearings under both approach spans and resurfaced the "
    "main deck, which had been closed to cars since May.",
    '"We finished two weeks ahead of schedule and under budget," said the city\'s chief '
    'engineer, Anna Brook. "The bridge is good for another forty years."',
    "Commuters who had faced detours of up to 40 minutes welcomed the news, and the bakery "
    "on the north side said trade had already picked up.",
]


def page(body: list[str] = BODY, charset: str = "utf-8", extra_head: str = "") -> str:
    paras = [f"<p>{p}</p>" for p in body]
    paras.insert(1, "<p>Subscribe to our morning newsletter for the latest local news.</p>")
    paras.insert(3, "<p>Share on Facebook</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="{charset}">
<title>Harbour bridge reopens after repairs - Northport Gazette</title>
<meta property="og:site_name" content="Northport Gazette">
<meta name="author" content="Maria Castell">
<meta property="article:published_time" content="2026-11-20T09:15:00+00:00">
<link rel="canonical" href="https://news.example.org/local/bridge">{extra_head}
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/local">Local news</a></li></ul></nav>
<article><h1>Harbour bridge reopens after repairs</h1>
{"".join(paras)}
</article>
<footer><p>Copyright 2026 Northport Gazette. All rights reserved.</p></footer>
</body></html>"""


# --- HTML ---------------------------------------------------------------------------------


def test_html_body_and_page_metadata() -> None:
    doc = process_html(page().encode(), "bridge.html")
    assert doc.text == "\n\n".join(BODY)
    meta = doc.metadata
    assert meta["title"] == "Harbour bridge reopens after repairs"
    assert meta["author"] == "Maria Castell"
    assert meta["site"] == "Northport Gazette"
    assert meta["url"] == "https://news.example.org/local/bridge"
    assert meta["language"] == "en"
    assert meta["published_at"].isoformat() == "2026-11-20T09:15:00+00:00"


def test_html_cleaners_remove_what_extraction_leaves() -> None:
    import trafilatura

    alone = trafilatura.extract(page())
    assert "Subscribe to our morning newsletter" in alone and "Share on Facebook" in alone
    reasons = {r for _, _, r, _ in process_html(page().encode(), "b.html").removed}
    assert {"promo", "share", "title"} <= reasons


def test_html_sidecar_wins_over_page_metadata() -> None:
    sidecar = {"author": "Desk Editor", "url": "https://mirror.example.net/b"}
    meta = process_html(page().encode(), "b.html", sidecar).metadata
    assert meta["author"] == "Desk Editor" and meta["url"] == "https://mirror.example.net/b"
    assert meta["site"] == "Northport Gazette"  # the page still fills what the sidecar lacks


LIBRARY = (
    '<html lang="en"><head><title>Opening hours</title>{head}</head><body><article>'
    "<h1>Opening hours</h1><p>The library is open from nine in the morning until eight in "
    "the evening on weekdays, and until four on Saturdays.</p><p>On Sundays and public "
    "holidays the reading room stays closed, but the return box at the entrance can be "
    "used at any time.</p></article><footer><p>© 2026 Northport Library</p></footer>"
    "</body></html>"
)


def test_html_page_without_a_date_gets_none_not_its_copyright_year() -> None:
    # htmldate's extensive search reads "© 2026" as 2026-01-01: no evidence of a day.
    doc = process_html(LIBRARY.format(head="").encode(), "hours.html")
    assert doc.metadata.get("published_at") is None


def test_html_page_published_on_new_years_day_keeps_its_date() -> None:
    head = '<meta property="article:published_time" content="2026-01-01T00:00:00Z">'
    doc = process_html(LIBRARY.format(head=head).encode(), "hours.html")
    assert doc.metadata["published_at"].isoformat() == "2026-01-01T00:00:00+00:00"


def test_html_declared_legacy_charset() -> None:
    body = [*BODY[:3], "Der Bürgermeister sagte: „Wir sind froh über die Straße.“ Das ist gut so."]
    doc = process_html(page(body, charset="windows-1252").encode("cp1252"), "de.html")
    assert doc.encoding == "cp1252"
    assert "Bürgermeister" in doc.text and "„Wir" in doc.text


def test_html_without_main_text() -> None:
    with pytest.raises(DocumentError) as info:
        process_html(b"<html><head><title>x</title></head><body></body></html>", "e.html")
    assert info.value.code == "empty"
    # A page of chrome only is a document with nothing kept, every line accounted for.
    doc = process_html(b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "n.html")
    assert doc.text == "" and [r[1:3] for r in doc.removed] == [("Home", "nav")]


# --- JSONL ---------------------------------------------------------------------------------


def test_jsonl_records_text_and_html_and_a_bad_line(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "\n\n".join(BODY), "url": "https://a.example/1", "site": "A"}),
        "",
        "{not json",
        json.dumps({"html": page(), "fetched_at": "2026-11-21T06:00:00Z"}),
        json.dumps({"text": "\n\n".join(BODY[:2]), "fetched_at": "yesterday-ish"}),
        json.dumps({"url": "https://a.example/4"}),
        json.dumps(["a", "list"]),
    ]
    (tmp_path / "dump.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = process_paths(tmp_path, ["dump.jsonl"])
    assert [d.source_path for d in result.docs] == ["dump.jsonl:1", "dump.jsonl:4"]
    first, second = result.docs
    assert first.metadata["site"] == "A" and first.text == "\n\n".join(BODY)
    assert second.metadata["fetched_at"].isoformat() == "2026-11-21T06:00:00+00:00"
    assert second.metadata["author"] == "Maria Castell"  # from the page inside the record
    errors = {path: code for path, code, _ in result.errors}
    assert errors == {
        "dump.jsonl:3": "bad_record",
        "dump.jsonl:5": "bad_record",
        "dump.jsonl:6": "bad_record",
        "dump.jsonl:7": "bad_record",
    }
    messages = {path: msg for path, _, msg in result.errors}
    assert "not JSON" in messages["dump.jsonl:3"]
    assert "'fetched_at' is not a date" in messages["dump.jsonl:5"]
    assert "no 'text' or 'html'" in messages["dump.jsonl:6"]


def test_record_sha_is_the_line() -> None:
    import hashlib

    line = json.dumps({"text": BODY[0] + " " + BODY[1]}).encode()
    doc = process_record(line, "d.jsonl:1")
    assert doc.source_sha256 == hashlib.sha256(line).hexdigest()


# --- gzip ------------------------------------------------------------------------------------


def test_gzip_of_every_kind(tmp_path: Path) -> None:
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress("\n\n".join(BODY).encode()))
    (tmp_path / "b.html.gz").write_bytes(gzip.compress(page().encode()))
    (tmp_path / "c.jsonl.gz").write_bytes(gzip.compress(json.dumps({"text": BODY[0]}).encode()))
    (tmp_path / "a.meta.json").write_text(json.dumps({"site": "Sidecar site"}))
    names = discover(tmp_path)
    assert names == ["a.txt.gz", "b.html.gz", "c.jsonl.gz"]
    result = process_paths(tmp_path, names)
    assert result.errors == []
    by_path = {d.source_path: d for d in result.docs}
    assert set(by_path) == {"a.txt.gz", "b.html.gz", "c.jsonl.gz:1"}
    assert by_path["a.txt.gz"].metadata["site"] == "Sidecar site"
    assert by_path["b.html.gz"].text == "\n\n".join(BODY)


def test_corrupt_and_truncated_gzip_are_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.txt.gz").write_bytes(b"not gzip at all")
    numbers = " ".join(map(str, range(50_000))).encode()
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(numbers)[:2000])
    result = process_paths(tmp_path, ["bad.txt.gz", "cut.txt.gz"])
    assert [(p, c) for p, c, _ in result.errors] == [
        ("bad.txt.gz", "unreadable"),
        ("cut.txt.gz", "unreadable"),
    ]


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024), compresslevel=9)  # ~20 KB -> 20 MB
    (tmp_path / "bomb.txt.gz").write_bytes(bomb)
    with pytest.raises(DocumentError) as info:
        read_source(tmp_path, "bomb.txt.gz", max_expansion=100)
    assert info.value.code == "expansion_limit"
    assert "decompression bomb" in info.value.message
    with pytest.raises(DocumentError) as info:
        read_source(tmp_path, "bomb.txt.gz", max_bytes=4 * 1024 * 1024, max_expansion=10_000)
    assert info.value.code == "too_large"


# --- one mixed folder through the flow ------------------------------------------------------


def test_mixed_folder_in_one_run(tmp_path: Path, prefect_harness) -> None:
    from flows.ingest import ingest

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    (raw / "plain.txt").write_text("Cookie settings\n\nAccept all\n\n" + "\n\n".join(BODY[:3]))
    (raw / "page.html").write_text(page(BODY[1:]), encoding="utf-8")
    (raw / "page.meta.json").write_text(json.dumps({"site": "Gazette via sidecar"}))
    records = [
        {
            "text": "Another story about the library opening hours, which now run until "
            "midnight during the exam season, the city said on Wednesday.",
            "site": "L",
        },
        {"html": page([BODY[3], "A new closing paragraph written only for this copy."])},
        "oops",
    ]
    dump = "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records)
    (raw / "dump.jsonl.gz").write_bytes(gzip.compress(dump.encode()))
    summary = ingest(raw_dir=str(raw), curated_dir=str(curated), ingest_date="2026-11-21")
    assert summary.files_found == 3
    assert summary.documents_written == 4  # documents, one per JSONL record
    docs = pd.read_parquet(curated / "documents").set_index("source_path")
    assert sorted(docs.index) == ["dump.jsonl.gz:1", "dump.jsonl.gz:2", "page.html", "plain.txt"]
    assert docs.loc["page.html", "site"] == "Gazette via sidecar"
    assert docs.loc["page.html", "author"] == "Maria Castell"
    errors = pd.read_parquet(curated / "errors")
    assert list(errors["source_path"]) == ["dump.jsonl.gz:3"]
    removed = pd.read_parquet(curated / "removed")
    assert {"cookie_banner", "promo", "share", "duplicate"} <= set(removed["reason"])


# --- records as data engineers write them ---------------------------------------------------


def test_ndjson_is_jsonl_and_other_files_are_accounted_for(tmp_path: Path, prefect_harness) -> None:
    """Issue 17, finding 2: ``.ndjson`` was silently ignored, like any unknown file."""
    from flows.ingest import ingest

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    (raw / "dumps").mkdir(parents=True)
    (raw / "story.txt").write_text("\n\n".join(BODY))
    (raw / "dumps" / "extra.ndjson").write_text(
        json.dumps({"text": "\n\n".join(BODY[:3]), "url": "https://n.example/1"}) + "\n"
    )
    (raw / "crawl-log.csv").write_text("url,status\nhttps://n.example/1,200\n")
    summary = ingest(raw_dir=str(raw), curated_dir=str(curated), ingest_date="2026-11-21")
    assert summary.files_found == 2
    assert summary.ignored_by_code == {"unsupported_type": 1}
    assert [entry.source_path for entry in summary.ignored] == ["crawl-log.csv"]
    docs = pd.read_parquet(curated / "documents")
    assert sorted(docs["source_path"]) == ["dumps/extra.ndjson:1", "story.txt"]


def test_record_with_a_list_of_authors_and_unknown_fields_is_kept() -> None:
    """Issue 17, finding 3: a list of authors made the whole record a bad_record, and
    fields thresher does not know were dropped without a word."""
    record = {
        "text": "\n\n".join(BODY),
        "author": ["Laura Chen", " Peter Novak ", ""],
        "crawl_id": "c-2026-11-21-07",
        "tags": ["bridges", "northport"],
        "fetched_at": "2026-11-21T06:00:00Z",
    }
    doc = process_record(json.dumps(record).encode(), "d.jsonl:1")
    assert doc.metadata["author"] == "Laura Chen; Peter Novak"
    row = document_row(doc, datetime(2026, 11, 21, tzinfo=UTC))
    assert json.loads(row["extra_fields"]) == {
        "crawl_id": "c-2026-11-21-07",
        "tags": ["bridges", "northport"],
    }
    assert (
        document_row(
            process_record(json.dumps({"text": BODY[0]}).encode(), "d:2"),
            datetime(2026, 11, 21, tzinfo=UTC),
        )["extra_fields"]
        is None
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("author", ["Laura Chen", 7], "must hold names"),
        ("author", {"name": "Laura Chen"}, "must be a string"),
        ("url", ["https://a", "https://b"], "must be a string"),
    ],
)
def test_record_fields_that_cannot_be_read_are_refused(field: str, value, message: str) -> None:
    line = json.dumps({"text": "\n\n".join(BODY), field: value}).encode()
    with pytest.raises(DocumentError) as info:
        process_record(line, "d.jsonl:1")
    assert info.value.code == "bad_record" and message in str(info.value)


def test_sidecar_and_record_extra_fields_merge_record_first(tmp_path: Path) -> None:
    (tmp_path / "dump.jsonl").write_text(
        json.dumps({"text": "\n\n".join(BODY), "tags": ["record"], "lang_hint": "en"}) + "\n"
    )
    (tmp_path / "dump.meta.json").write_text(json.dumps({"tags": ["sidecar"], "feed": "rss"}))
    result = process_paths(tmp_path, ["dump.jsonl"])
    (doc,) = result.docs
    assert doc.metadata["extra_fields"] == {"tags": ["record"], "lang_hint": "en", "feed": "rss"}


def test_extra_fields_reach_parquet(tmp_path: Path, prefect_harness) -> None:
    from flows.ingest import ingest

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    (raw / "story.txt").write_text("\n\n".join(BODY))
    (raw / "story.meta.json").write_text(json.dumps({"site": "G", "crawl": {"id": 3}}))
    ingest(raw_dir=str(raw), curated_dir=str(curated), ingest_date="2026-11-21")
    docs = pd.read_parquet(curated / "documents")
    assert pd.api.types.is_string_dtype(docs["extra_fields"])
    assert json.loads(docs.loc[0, "extra_fields"]) == {"crawl": {"id": 3}}
