"""End to end through Prefect (test harness): ingest the seeds and the sample corpus,
read the curated tables back with pandas, and hold every file to its declared schema."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from schemas.tables import SCHEMA_VERSION, TABLES
from tests.gold import gold_misses

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory, seeds_dir: Path, prefect_harness) -> tuple[Path, dict]:
    from flows.ingest import ingest

    raw = tmp_path_factory.mktemp("raw")
    for f in seeds_dir.glob("*.txt"):
        shutil.copy(f, raw / f.name)
    curated = tmp_path_factory.mktemp("curated")
    summary = ingest(raw_dir=str(raw), curated_dir=str(curated), ingest_date="2024-11-21")
    return curated, summary


def test_seeds_through_the_flow_match_gold(seeds_run, seeds_dir: Path) -> None:
    curated, summary = seeds_run
    assert summary.documents_written == 4 and summary.documents_failed == 0
    docs = pd.read_parquet(curated / "documents")
    assert len(docs) == 4
    for row in docs.to_dict("records"):
        gold = seeds_dir / Path(row["source_path"]).name.replace(".txt", ".gold.json")
        meta = {k: row[k] for k in ("title", "author", "credit")}
        meta["sections"] = list(row["sections"]) if row["sections"] is not None else None
        meta["updated_at"] = None if pd.isna(row["updated_at"]) else row["updated_at"]
        assert gold_misses(gold, row["text"], meta) == [], row["source_path"]


def test_pandas_reads_proper_dtypes(seeds_run) -> None:
    curated, _ = seeds_run
    docs = pd.read_parquet(curated / "documents")
    assert str(docs["ingested_at"].dtype) == "datetime64[us, UTC]"
    assert str(docs["updated_at"].dtype) == "datetime64[us, UTC]"
    assert str(docs["paragraphs_after"].dtype) == "int32"
    assert set(docs["ingest_date"].astype(str)) == {"2024-11-21"}
    paras = pd.read_parquet(curated / "paragraphs")
    assert str(paras["fingerprint"].dtype) == "int64"
    removed = pd.read_parquet(curated / "removed")
    assert {"caption", "cookie_banner", "related_link", "promo"} <= set(removed["reason"])


def test_every_file_holds_to_its_schema(seeds_run) -> None:
    curated, _ = seeds_run
    for name, schema in TABLES.items():
        files = list((curated / name).rglob("*.parquet"))
        assert files, name
        for f in files:
            written = pq.read_schema(f)
            assert written.equals(schema, check_metadata=False), f
            assert written.metadata[b"thresher.schema_version"] == SCHEMA_VERSION.encode()


def test_paragraph_counts_add_up(seeds_run) -> None:
    curated, summary = seeds_run
    docs = pd.read_parquet(curated / "documents")
    paras = pd.read_parquet(curated / "paragraphs")
    removed = pd.read_parquet(curated / "removed")
    assert docs["paragraphs_after"].sum() == len(paras) == summary.paragraphs_kept
    assert docs["paragraphs_before"].sum() == len(paras) + len(removed)


def test_sample_corpus_with_a_bad_file(tmp_path: Path, prefect_harness) -> None:
    from flows.ingest import ingest

    summary = ingest(raw_dir=str(ROOT / "raw"), curated_dir=str(tmp_path), ingest_date="2026-11-21")
    assert summary.files_found == 9
    assert summary.documents_written == 9
    assert summary.documents_failed == 2
    assert summary.near_dup_documents == 2
    errors = pd.read_parquet(tmp_path / "errors").set_index("source_path")
    assert dict(errors["error"]) == {
        "2026-11-21/wire-dump.jsonl.gz:3": "bad_record",
        "broken/photo-saved-as.txt": "undecodable",
    }
    docs = pd.read_parquet(tmp_path / "documents").set_index("source_path")
    bridge = docs.loc["2026-11-20/harbour-bridge.txt"]
    assert bridge["url"] == "https://news.example.org/local/harbour-bridge-reopens"  # sidecar
    assert bridge["author"] == "Maria Castell"  # lifted from the text
    assert docs.loc["2026-11-20/radwege-de.txt", "encoding"] == "cp1252"
    assert "café" in docs.loc["2026-11-21/market-square.txt", "text"]
    library = docs.loc["2026-11-20/library-hours.txt"]
    repost = docs.loc["2026-11-21/library-hours-repost.txt"]
    assert repost["near_dup_cluster"] == library["near_dup_cluster"] == library["doc_id"]
    assert (
        repost["text"] == "The library expects around 400 visitors a night during the first week."
    )


def test_cross_document_duplicates_name_the_keeper(tmp_path: Path, prefect_harness) -> None:
    from cleaners.document import make_doc_id
    from flows.ingest import ingest

    ingest(raw_dir=str(ROOT / "raw"), curated_dir=str(tmp_path), ingest_date="2026-11-21")
    removed = pd.read_parquet(tmp_path / "removed")
    dups = removed[removed["reason"] == "duplicate"]
    wire = make_doc_id("2026-11-21/harbour-bridge-wire.txt")
    original = make_doc_id("2026-11-20/harbour-bridge.txt")
    assert set(dups.loc[dups["doc_id"] == wire, "dup_of"]) == {original}
    assert len(dups[dups["doc_id"] == wire]) == 2  # the two shared paragraphs, nothing else


def test_a_same_date_rerun_says_which_documents_leave_the_date(
    tmp_path: Path, prefect_harness
) -> None:
    """Issue 17, finding 5: moving a file away and re-running its date dropped its
    document from curated without a word."""
    from flows.ingest import ingest
    from flows.report import report_markdown, summary_lines

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    shutil.copytree(Path(__file__).resolve().parent.parent / "raw", raw)
    first = ingest(raw_dir=str(raw), curated_dir=str(curated), ingest_date="2026-11-21")
    assert first.documents_dropped_from_date == 0
    gone = sorted(p for p in raw.rglob("*.txt") if "broken" not in p.parts)[0]
    gone.unlink()
    again = ingest(raw_dir=str(raw), curated_dir=str(curated), ingest_date="2026-11-21")
    name = gone.relative_to(raw).as_posix()
    assert again.documents_dropped_from_date == 1
    assert again.dropped_from_date == [name]
    docs = pd.read_parquet(curated / "documents")
    assert name not in set(docs["source_path"])
    assert len(docs) == first.documents_written - 1
    assert "**1** documents its partition held" in report_markdown(again)
    out = "\n".join(summary_lines(again))
    assert "1 documents its partition held are not in this run" in out
    assert f"  dropped {name}" in out


def test_a_failed_input_is_an_error_once_per_content(tmp_path: Path, prefect_harness) -> None:
    """Issue 17, finding 4: the same broken file got a new errors row every night."""
    from flows.ingest import ingest

    raw, curated = tmp_path / "raw", tmp_path / "curated"
    raw.mkdir()
    (raw / "story.txt").write_text(
        "The council approved the new budget on Monday after a debate that ran late.\n\n"
        "Spending on the harbour rises by a tenth, and the library keeps its hours."
    )
    broken = raw / "photo.txt"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (raw / "dump.jsonl").write_text('{"text": "fine record here, long enough"}\n{oops\n')

    def run(day: str, **kw) -> dict:
        return ingest(raw_dir=str(raw), curated_dir=str(curated), ingest_date=day, **kw)

    first = run("2026-11-21")
    assert first.errors_by_code == {"bad_record": 1, "undecodable": 1}
    errors = pd.read_parquet(curated / "errors")
    assert errors["source_sha256"].notna().all()

    second = run("2026-11-22")
    assert second.documents_failed == 0 and second.documents_still_failing == 2
    assert {s.source_path for s in second.still_failing} == {"photo.txt", "dump.jsonl:2"}
    assert (
        "failed on 2026-11-21 (undecodable)"
        in dict((s.source_path, s.why) for s in second.still_failing)["photo.txt"]
    )
    per_date = pd.read_parquet(curated / "errors").groupby("ingest_date", observed=True).size()
    assert per_date.to_dict() == {"2026-11-21": 2}

    # New bytes are tried (and fail anew); --retry-errors tries the old ones too.
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)) * 8)
    third = run("2026-11-23")
    assert third.errors_by_code == {"undecodable": 1}
    assert [s.source_path for s in third.still_failing] == ["dump.jsonl:2"]
    fourth = run("2026-11-24", retry_errors=True)
    assert fourth.errors_by_code == {"bad_record": 1, "undecodable": 1}
    assert fourth.documents_still_failing == 0


def test_prefect_yaml_declares_every_flow_parameter_with_its_default() -> None:
    """prefect.yaml repeats the flow's defaults: it must not drift from the signature."""
    import inspect

    import yaml

    from flows.ingest import ingest

    declared = yaml.safe_load((Path(__file__).resolve().parent.parent / "prefect.yaml").read_text())
    params = declared["definitions"]["parameters"]
    signature = inspect.signature(ingest.fn).parameters
    assert sorted(params) == sorted(signature)
    for name, value in params.items():
        default = signature[name].default
        if name == "disabled_reasons":  # None in Python, an empty list in YAML
            default = default or []
        assert value == default, name


def test_the_flow_signature_is_the_settings_table() -> None:
    """Issue 17, finding 10: one table of settings; the flow's parameters (and through the
    test above, prefect.yaml) and the CLI's options come from it."""
    import inspect

    from flows.cli import _flow_parameters, build_parser
    from flows.ingest import ingest
    from flows.settings import SETTINGS

    signature = inspect.signature(ingest.fn).parameters
    assert sorted(s.name for s in SETTINGS) == sorted(
        n for n in signature if n not in ("raw_dir", "curated_dir")
    )
    for setting in SETTINGS:
        assert signature[setting.name].default == setting.default, setting.name
    args = build_parser().parse_args(["ingest", "r", "c"])
    assert _flow_parameters(args) == {
        s.name: [] if s.name == "disabled_reasons" else s.default for s in SETTINGS
    }
