"""Dedup: inside a document, across the batch, against earlier runs; same-bytes skipping;
near-duplicate documents; and re-runs that leave curated/ exactly as one run does."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from cleaners.dedup import MIN_CROSS_DOC_CHARS, DedupSettings, normalise_for_hash
from cleaners.document import process_document
from cleaners.rundedup import dedup
from flows.history import load_history
from flows.pipeline import process_paths
from tests.helpers import FOOTER, run, snapshot, story, write

# --- within one document -----------------------------------------------------------------


def test_captions_repeated_in_one_page_go_and_the_body_stays() -> None:
    body = story(1)
    caption = "Workers repair the harbour bridge on Thursday morning. /Jane Roe/Reuters"
    alt = "Workers repair the harbour bridge on Thursday morning."
    text = "\n\n".join([body[0], alt, caption, body[1], body[2], caption, body[3]])
    doc = process_document(text.encode(), "a.txt")
    assert [p.text for p in doc.paragraphs] == body[:4]
    assert {t for _, t, _, _ in doc.removed} == {alt, caption}


def test_repeated_body_paragraph_keeps_the_first_copy() -> None:
    body = story(1, 6)
    text = "\n\n".join([*body, body[1], body[2].upper()])
    doc = process_document(text.encode(), "a.txt")
    assert [p.text for p in doc.paragraphs] == body
    assert [(pos, reason) for pos, _, reason, _ in doc.removed] == [
        (6, "duplicate"),
        (7, "duplicate"),
    ]


# --- across the batch -----------------------------------------------------------------


def _docs(raw: Path, names: list[str]):
    batch = process_paths(raw, names)
    assert batch.errors == []
    return batch.docs


def test_site_footer_across_five_pages_is_kept_once(tmp_path: Path) -> None:
    names = [f"site/page-{i}.txt" for i in range(5)]
    for i, name in enumerate(reversed(names)):  # written in reverse: order is by path
        write(tmp_path, name, story(10 + i) + [FOOTER])
    docs, report = dedup(_docs(tmp_path, names))
    with_footer = [d.source_path for d in docs if FOOTER in d.text]
    assert with_footer == ["site/page-0.txt"]
    first = docs[0].doc_id
    for doc in docs[1:]:
        assert [(r, dup) for _, t, r, dup in doc.removed if t == FOOTER] == [("duplicate", first)]
        assert len(doc.paragraphs) == 5  # every body paragraph stays
    assert report.paragraphs_removed == 4


def test_short_common_lines_are_never_deduplicated_across_documents(tmp_path: Path) -> None:
    short = "He said the council would decide."
    assert len(normalise_for_hash(short)) < MIN_CROSS_DOC_CHARS
    write(tmp_path, "a.txt", story(1)[:2] + [short] + story(1)[2:])
    write(tmp_path, "b.txt", story(2)[:2] + [short] + story(2)[2:])
    docs, _ = dedup(_docs(tmp_path, ["a.txt", "b.txt"]))
    assert all(short in d.text for d in docs)


def test_order_is_by_source_path_not_input_order(tmp_path: Path) -> None:
    shared = story(99, 1)[0]
    write(tmp_path, "z.txt", story(1) + [shared])
    write(tmp_path, "a.txt", story(2) + [shared])
    for names in (["z.txt", "a.txt"], ["a.txt", "z.txt"]):
        docs, _ = dedup(_docs(tmp_path, names))
        holder = [d.source_path for d in docs if shared in d.text]
        assert holder == ["a.txt"]


def test_same_story_from_two_sources_is_flagged_and_both_are_kept(tmp_path: Path) -> None:
    body = story(7, 8)
    edited = list(body)
    edited[2] = edited[2].replace("according to officials", "a spokesperson confirmed")
    edited.append("The agency contributed reporting from the harbour.")
    banner = (
        "We use cookies to improve your experience. By continuing you accept our use of cookies."
    )
    write(tmp_path, "site-a/story.txt", [banner, "Accept all", *body])
    write(
        tmp_path, "site-b/story.txt", ["Subscribe to our newsletter", *edited, "Share on Facebook"]
    )
    docs, report = dedup(_docs(tmp_path, ["site-a/story.txt", "site-b/story.txt"]))
    a, b = docs
    assert a.near_dup_cluster == b.near_dup_cluster == a.doc_id
    assert report.near_dup_documents == 2
    assert a.text == "\n\n".join(body)  # the first copy keeps the whole story
    assert edited[2] in b.text  # the edit survives in the second


def test_different_stories_are_not_near_duplicates(tmp_path: Path) -> None:
    for i in range(6):
        write(tmp_path, f"{i}.txt", story(100 + i, 6))
    docs, report = dedup(_docs(tmp_path, [f"{i}.txt" for i in range(6)]))
    assert report.near_dup_documents == 0
    assert all(d.near_dup_cluster is None for d in docs)


def test_identical_bytes_under_two_names_are_written_once(tmp_path: Path) -> None:
    write(tmp_path, "a/copy.txt", story(3))
    write(tmp_path, "b/copy.txt", story(3))
    docs, report = dedup(_docs(tmp_path, ["b/copy.txt", "a/copy.txt"]))
    assert [d.source_path for d in docs] == ["a/copy.txt"]
    assert report.skipped == [("b/copy.txt", "same bytes as a/copy.txt in this run")]


def test_seeds_lose_no_body_line_to_cross_document_dedup(seeds_dir: Path) -> None:
    names = sorted(p.name for p in seeds_dir.glob("*.txt"))
    docs = _docs(seeds_dir, names)
    before = {d.doc_id: d.text for d in docs}
    docs, report = dedup(docs)
    assert report.paragraphs_removed == 0
    assert report.near_dup_documents == 0  # same event, different words: not copies
    assert {d.doc_id: d.text for d in docs} == before


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="near_dup_threshold"):
        DedupSettings(near_dup_threshold=1.5)
    with pytest.raises(ValueError, match="min_cross_doc_chars"):
        DedupSettings(min_cross_doc_chars=0)


# --- against earlier runs, through the Prefect flow ---------------------------------------


def test_second_run_adds_only_todays_files(tmp_path: Path, prefect_harness) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    write(raw, "2026-11-20/a.txt", story(1) + [FOOTER])
    write(raw, "2026-11-20/b.txt", story(2))
    first = run(raw, curated, "2026-11-20")
    assert first.documents_written == 2
    write(raw, "2026-11-21/c.txt", story(3) + [FOOTER])
    second = run(raw, curated, "2026-11-21")
    assert second.documents_written == 1
    assert second.documents_skipped == 2
    assert {s.why for s in second.skipped} == {"same bytes already ingested on 2026-11-20"}
    docs = pd.read_parquet(curated / "documents")
    assert sorted(docs["source_path"]) == [
        "2026-11-20/a.txt",
        "2026-11-20/b.txt",
        "2026-11-21/c.txt",
    ]
    assert docs["source_path"].is_unique
    removed = pd.read_parquet(curated / "removed")
    footer = removed[removed["text"] == FOOTER]
    a_id = docs.set_index("source_path").loc["2026-11-20/a.txt", "doc_id"]
    assert list(footer["dup_of"]) == [a_id]
    assert list(footer["ingest_date"].astype(str)) == ["2026-11-21"]


def test_history_is_read_back_from_curated(tmp_path: Path, prefect_harness) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    write(raw, "a.txt", story(1) + [FOOTER])
    run(raw, curated, "2026-11-20")
    history = load_history(curated, exclude_date="2026-11-21")
    assert history.partitions == ["2026-11-20"]
    assert history.paragraph_count == 6
    assert history.signatures.shape == (1, 64)
    assert load_history(curated, exclude_date="2026-11-20").paragraph_count == 0
    assert 0 < history.fingerprint_bytes() / history.paragraph_count < 64


def test_history_keeps_the_order_a_run_read_records_in(tmp_path: Path) -> None:
    """Issue 20, finding 1: ``x.jsonl:2`` comes before ``x.jsonl:10`` in the history, as
    in the run that read them (not in the order of the strings)."""
    from flows.pipeline import table_rows
    from tests.helpers import write_run

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    records = [json.dumps({"text": "\n\n".join(story(600 + i))}) for i in range(12)]
    (raw / "x.jsonl").write_text("\n".join(records) + "\n")
    batch = process_paths(raw, ["x.jsonl"])
    write_run(curated, "2026-11-20", table_rows(batch.docs, batch.errors, datetime.now(UTC)))
    history = load_history(curated, exclude_date="2026-11-21")
    by_id = {d.doc_id: d.source_path for d in batch.docs}
    order = [by_id[doc_id] for doc_id, _ in history.signature_docs]
    assert order == [f"x.jsonl:{n}" for n in range(1, 13)]


def test_syndicated_copy_next_day_is_flagged_against_history(
    tmp_path: Path, prefect_harness
) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    body = story(5, 8)
    write(raw, "wire/story.txt", body)
    run(raw, curated, "2026-11-20")
    copy = [*body[:-1], body[-1].replace("officials", "the mayor")]
    write(raw, "local/story.txt", ["Subscribe to our newsletter", *copy])
    summary = run(raw, curated, "2026-11-21")
    assert summary.documents_written == 1 and summary.near_dup_documents == 1
    docs = pd.read_parquet(curated / "documents").set_index("source_path")
    assert docs.loc["local/story.txt", "near_dup_cluster"] == docs.loc["wire/story.txt", "doc_id"]
    assert docs.loc["local/story.txt", "text"] == copy[-1]  # the rest was kept yesterday


def test_an_edited_file_is_a_new_version_not_a_duplicate_of_itself(
    tmp_path: Path, prefect_harness
) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    body = story(8)
    write(raw, "a.txt", body)
    run(raw, curated, "2026-11-20")
    write(raw, "a.txt", [*body, "Correction: an earlier version misstated the date of the vote."])
    summary = run(raw, curated, "2026-11-21")
    assert summary.documents_written == 1 and summary.paragraphs_removed == 0
    docs = pd.read_parquet(curated / "documents")
    assert list(docs["paragraphs_after"]) == [5, 6]


def test_two_runs_in_a_row_leave_curated_exactly_as_one(tmp_path: Path, prefect_harness) -> None:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    for i in range(4):
        write(raw, f"{i}.txt", story(20 + i) + [FOOTER])
    write(raw, "copy.txt", story(20) + [FOOTER])
    (raw / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    run(raw, curated, "2026-11-21", batch_size=2)
    once = snapshot(curated)
    tables = {t: pd.read_parquet(curated / t) for t in ("documents", "paragraphs", "removed")}
    run(raw, curated, "2026-11-21", batch_size=2)
    assert snapshot(curated) == once  # byte for byte
    run(raw, curated, "2026-11-21", batch_size=500)  # other batching: other row groups,
    for name, df in tables.items():  # the same rows in the same order
        pd.testing.assert_frame_equal(pd.read_parquet(curated / name), df, obj=name)


# --- who keeps a shared paragraph (issue 17, finding 1) ------------------------------------

ORIGINAL = "theguardian.com/heat-pumps.txt"
REPOST = "syndication/heatpumps-copy.txt"  # sorts first: it used to keep everything


def _repost_case(raw: Path, original: dict, repost: dict) -> list[str]:
    body = story(2024, 6)
    write(raw, ORIGINAL, body)
    write(raw, REPOST, ["Republished with permission."] + body + story(7, 1))
    for name, meta in ((ORIGINAL, original), (REPOST, repost)):
        if meta:
            sidecar = (raw / name).with_suffix(".meta.json")
            sidecar.write_text(json.dumps(meta), encoding="utf-8")
    return body


@pytest.mark.parametrize(
    ("original", "repost"),
    [
        ({"published_at": "2026-11-19T08:00:00Z"}, {"published_at": "2026-11-20T12:00:00Z"}),
        ({"published_at": "2026-11-19T08:00:00Z"}, {}),  # a date beats no date
        ({"fetched_at": "2026-11-19T09:00:00Z"}, {"fetched_at": "2026-11-21T09:00:00Z"}),
    ],
    ids=["earlier-published", "only-original-dated", "earlier-fetched"],
)
def test_the_original_keeps_its_text_not_the_repost(
    tmp_path: Path, original: dict, repost: dict
) -> None:
    body = _repost_case(tmp_path, original, repost)
    docs, report = dedup(_docs(tmp_path, [REPOST, ORIGINAL]))
    by_path = {d.source_path: d for d in docs}
    assert by_path[ORIGINAL].text == "\n\n".join(body)
    copy = by_path[REPOST]
    assert [t for _, t, r, _ in copy.removed if r == "duplicate"] == body
    assert {dup for _, _, r, dup in copy.removed if r == "duplicate"} == {by_path[ORIGINAL].doc_id}
    assert report.paragraphs_removed == 6


def test_without_dates_the_first_path_keeps(tmp_path: Path) -> None:
    body = _repost_case(tmp_path, {}, {})
    docs, _ = dedup(_docs(tmp_path, [ORIGINAL, REPOST]))
    by_path = {d.source_path: d for d in docs}
    assert all(p in by_path[REPOST].text for p in body)
    assert not any(p in by_path[ORIGINAL].text for p in body)


def test_the_flow_picks_the_same_keeper_across_batches(tmp_path: Path, prefect_harness) -> None:
    """One file per batch: the repost is written before the original's batch is cleaned,
    yet the original keeps its paragraphs, as in one batch."""
    raw = tmp_path / "raw"
    body = _repost_case(
        raw, {"published_at": "2026-11-19T08:00:00Z"}, {"published_at": "2026-11-20T12:00:00Z"}
    )
    summaries = [
        run(raw, tmp_path / f"curated-{size}", "2026-11-21", batch_size=size) for size in (1, 500)
    ]
    assert summaries[0].paragraphs_removed == summaries[1].paragraphs_removed
    for size in (1, 500):
        docs = pd.read_parquet(tmp_path / f"curated-{size}" / "documents").set_index("source_path")
        assert docs.loc[ORIGINAL, "text"] == "\n\n".join(body)
        removed = pd.read_parquet(tmp_path / f"curated-{size}" / "removed")
        dups = removed[removed["reason"] == "duplicate"]
        assert len(dups) == 6 and set(dups["dup_of"]) == {docs.loc[ORIGINAL, "doc_id"]}
    assert not (tmp_path / "curated-1" / ".thresher-spill").exists()


def _first_keepers(docs, history):
    """The plain reference: documents in priority order, the first holder keeps."""
    owner: dict[int, str] = {}
    drops: dict[tuple[str, int], str] = {}
    for doc_id, positions, fps in docs:
        for pos, fp in zip(positions, fps, strict=True):
            kept_by = owner.get(fp) or history.get(fp)
            if kept_by is not None and kept_by != doc_id:
                drops[(doc_id, pos)] = kept_by
            elif kept_by is None:
                owner[fp] = doc_id
    return drops


@pytest.mark.parametrize("seed", range(200))
def test_the_vectorised_keeper_decision_equals_the_plain_one(seed: int) -> None:
    import numpy as np

    from cleaners.dedup import drops_by_priority

    rng = random.Random(seed)
    n_docs = rng.randint(1, 8)
    ids = [f"d{i}" for i in range(n_docs)]
    docs = []
    for doc_id in ids:
        fps = [rng.randint(0, 12) for _ in range(rng.randint(0, 6))]
        docs.append((doc_id, list(range(len(fps))), fps))
    history = {fp: rng.choice(["old", *ids]) for fp in range(13) if rng.random() < 0.2}
    priority = list(range(n_docs))
    rng.shuffle(priority)
    in_order = [docs[k] for k in sorted(range(n_docs), key=priority.__getitem__)]
    expected = _first_keepers(in_order, history)
    got = drops_by_priority(
        ids,
        np.array(priority),
        np.array([k for k, (_, _, fps) in enumerate(docs) for _ in fps], np.int32),
        np.array([p for _, ps, _ in docs for p in ps], np.int32),
        np.array([fp for _, _, fps in docs for fp in fps], np.int64),
        history,
    )
    assert {(ids[d], pos): k for d, m in got.items() for pos, k in m.items()} == expected
