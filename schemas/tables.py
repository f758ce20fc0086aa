"""The declared pyarrow schemas of every curated table, in one place.

Every Parquet file thresher writes is written with ``schema=`` one of these, and a test
holds the files on disk to them. The tables are Hive-partitioned by ``ingest_date``; the
partition key lives in the folder name (``ingest_date=YYYY-MM-DD``), not in the files, so
``pandas.read_parquet(curated / "documents")`` adds it back as a column.

Bump ``SCHEMA_VERSION`` on any change to a schema; it is stored in each file's metadata.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "3"
PARTITION_KEY = "ingest_date"

# Timestamps are UTC instants; pandas reads them as datetime64[us, UTC].
UTC_TS = pa.timestamp("us", tz="UTC")


def _with_version(schema: pa.Schema, table: str) -> pa.Schema:
    return schema.with_metadata(
        {b"thresher.schema_version": SCHEMA_VERSION.encode(), b"thresher.table": table.encode()}
    )


DOCUMENTS = _with_version(
    pa.schema(
        [
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("source_path", pa.string(), nullable=False),
            pa.field("source_sha256", pa.string(), nullable=False),
            pa.field("url", pa.string()),
            pa.field("site", pa.string()),
            pa.field("language", pa.string()),
            pa.field("title", pa.string()),
            pa.field("author", pa.string()),
            pa.field("published_at", UTC_TS),
            pa.field("updated_at", UTC_TS),
            pa.field("fetched_at", UTC_TS),
            pa.field("ingested_at", UTC_TS, nullable=False),
            pa.field("sections", pa.list_(pa.string())),
            pa.field("credit", pa.string()),
            # Source fields (sidecar or JSONL record) thresher does not know, as a JSON
            # object with sorted keys; null when there are none.
            pa.field("extra_fields", pa.string()),
            pa.field("encoding", pa.string()),
            pa.field("encoding_fixes", pa.list_(pa.string())),
            # doc_id of the first document (by ingest date, then source_path) of a group of
            # near-duplicates (MinHash LSH over word shingles of the cleaned text); null when
            # the document has no near-duplicate.
            pa.field("near_dup_cluster", pa.string()),
            # The MinHash signature behind near_dup_cluster (cleaners.neardup), kept so later
            # runs match new documents against this one without recomputing it.
            pa.field("minhash", pa.list_(pa.uint32())),
            pa.field("text", pa.string(), nullable=False),
            pa.field("paragraphs_before", pa.int32(), nullable=False),
            pa.field("paragraphs_after", pa.int32(), nullable=False),
            pa.field("chars_before", pa.int64(), nullable=False),
            pa.field("chars_after", pa.int64(), nullable=False),
        ]
    ),
    "documents",
)

PARAGRAPHS = _with_version(
    pa.schema(
        [
            pa.field("doc_id", pa.string(), nullable=False),
            # Index of the paragraph among all paragraphs the document was split into,
            # so kept (here) and removed (in `removed`) interleave in source order.
            pa.field("position", pa.int32(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            # 64-bit hash of the normalised text (cleaners.dedup.fingerprint_and_length), signed so
            # that every Parquet reader (Spark, DuckDB, pandas) reads it the same way.
            pa.field("fingerprint", pa.int64(), nullable=False),
            # Length of the normalised text the fingerprint hashes; paragraphs at least
            # MIN_CROSS_DOC_CHARS long take part in cross-document and cross-run dedup.
            pa.field("norm_chars", pa.int32(), nullable=False),
        ]
    ),
    "paragraphs",
)

REMOVED = _with_version(
    pa.schema(
        [
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("position", pa.int32(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            pa.field("reason", pa.string(), nullable=False),
            # For reason == "duplicate": the doc_id of the document that kept the text.
            pa.field("dup_of", pa.string()),
        ]
    ),
    "removed",
)

ERRORS = _with_version(
    pa.schema(
        [
            pa.field("source_path", pa.string(), nullable=False),
            # sha256 of the bytes that failed (a file, or a JSONL line), null when they could
            # not be read: later runs do not try the same bytes again (--retry-errors does).
            pa.field("source_sha256", pa.string()),
            pa.field("error", pa.string(), nullable=False),
            pa.field("message", pa.string(), nullable=False),
            pa.field("ingested_at", UTC_TS, nullable=False),
        ]
    ),
    "errors",
)

TABLES: dict[str, pa.Schema] = {
    "documents": DOCUMENTS,
    "paragraphs": PARAGRAPHS,
    "removed": REMOVED,
    "errors": ERRORS,
}
