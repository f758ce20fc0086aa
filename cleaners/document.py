"""One raw document to one curated record: decode, repair, segment, clean, lift metadata.

Pure: bytes and source metadata in, plain Python records out; no files, no Prefect.
Failures raise ``DocumentError`` with a short error code that goes to the ``errors`` table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np

from cleaners.clean import CleanSettings, clean_document
from cleaners.dates import parse_timestamp
from cleaners.dedup import fingerprint_and_length
from cleaners.encoding import Decoded, UndecodableError, decode_bytes, repair_text
from cleaners.html import decode_html, extract_html
from cleaners.language import detect_language, language_code
from cleaners.neardup import signature
from cleaners.segment import split_paragraphs

# Sidecar and record fields thresher understands, by type. Any other field is kept as it
# is, in the documents table's ``extra_fields`` (a JSON object).
TEXT_FIELDS = ("url", "site", "title", "author", "language")
TIME_FIELDS = ("fetched_at", "published_at", "updated_at")
# A record's content fields: the document itself, not metadata.
CONTENT_FIELDS = ("text", "html")
# Several authors (a JSON list) are stored in ``author`` joined by this.
AUTHOR_SEPARATOR = "; "


class DocumentError(Exception):
    """A document that cannot be ingested; ``code`` is the errors table's ``error``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Paragraph(NamedTuple):
    """A kept paragraph: its position among all the document's paragraphs, its text, its
    dedup fingerprint and the length of the normalised text that fingerprint hashes."""

    position: int
    text: str
    fingerprint: int
    norm_chars: int


class RemovedLine(NamedTuple):
    """A removed paragraph, as the ``removed`` table stores it."""

    position: int
    text: str
    reason: str
    # doc_id of the document that keeps the text (a duplicate; itself for a repeat
    # within the document), else None
    dup_of: str | None


@dataclass
class ProcessedDocument:
    doc_id: str
    source_path: str
    source_sha256: str
    metadata: dict[str, Any]
    encoding: str
    encoding_fixes: list[str]
    text: str
    paragraphs_before: int
    chars_before: int
    # Kept paragraphs, in order.
    paragraphs: list[Paragraph] = field(default_factory=list)
    # (position, text, reason, dup_of doc_id or None), in order.
    removed: list[RemovedLine] = field(default_factory=list)
    # MinHash of the cleaned text before cross-document dedup (None: no words).
    minhash: np.ndarray | None = None
    # doc_id of the first document of its near-duplicate group, if it has one.
    near_dup_cluster: str | None = None
    # Per position, the line scorer's probability that the line is body (NaN where it
    # did not decide: a rule's removal was final, or it is off); shown by
    # ``thresher explain``, not stored. float32: 4 bytes a line.
    body_probability: np.ndarray | None = None
    # Per position the line scorer decided, the features that moved its decision most
    # (``scorer.why``); filled only when ``build`` is asked (``thresher explain``).
    body_why: dict[int, str] = field(default_factory=dict)
    # Lifted field -> the position of the line it came from (for ``thresher explain``);
    # fields the source stated are not in it.
    metadata_lines: dict[str, int] = field(default_factory=dict)
    # Lifted field -> the probability the learned picker that chose it gave its choice
    # (for ``thresher explain``; fields a rule chose, or the source stated, are not in it).
    metadata_confidence: dict[str, float] = field(default_factory=dict)
    # Field -> where on an HTML page it was read ("<h1>", "the markup", a line by the
    # headline), for ``thresher explain``.
    metadata_sources: dict[str, str] = field(default_factory=dict)

    def drop(self, dup_of: dict[int, str], reason: str = "duplicate") -> None:
        """Move kept paragraphs to ``removed`` ({position: doc_id that kept it}) and
        rebuild the text once."""
        keep = []
        for para in self.paragraphs:
            if para.position in dup_of:
                self.removed.append(
                    RemovedLine(para.position, para.text, reason, dup_of[para.position])
                )
            else:
                keep.append(para)
        self.paragraphs = keep
        self.removed.sort(key=lambda r: r.position)
        self.text = "\n\n".join(p.text for p in self.paragraphs)


# Deeper JSON than this is refused (Python's parser would otherwise hit its recursion limit).
MAX_JSON_DEPTH = 200


def load_json(text: str, what: str, code: str) -> Any:
    r"""Parse a sidecar or JSONL record, refusing what cannot become curated text: JSON
    that is not JSON, nested deeper than ``MAX_JSON_DEPTH``, or holding a lone surrogate
    escape (``"\ud800"``: valid JSON, but no Unicode text, so no Parquet string).

    >>> load_json('{"title": "Caf\\u00e9"}', "record", "bad_record")
    {'title': 'Café'}
    >>> load_json('{"title": "Lone \\ud800"}', "record", "bad_record")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cleaners.document.DocumentError: record field 'title' holds a lone surrogate (\ud800), ...
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(code, f"{what} is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise DocumentError(code, f"{what} is nested too deeply to read") from exc
    # Lone surrogates only come from \u escapes, and the depth check only matters for
    # nesting: both walks are skipped for the usual flat record of plain text.
    if "\\u" in text or text.count("[") + text.count("{") > MAX_JSON_DEPTH:
        _check_json_value(value, what, code)
    return value


def _check_json_value(value: Any, what: str, code: str) -> None:
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, key, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise DocumentError(code, f"{what} is nested over {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = f"\\u{ord(item[exc.start]):04x}"
                where = f" field {key!r}" if key else ""
                raise DocumentError(
                    code, f"{what}{where} holds a lone surrogate ({bad}), which is not Unicode text"
                ) from None
        elif isinstance(item, dict):
            for k, v in item.items():
                stack.append((k, key, depth + 1))
                stack.append((v, key or k, depth + 1))
        elif isinstance(item, list):
            stack.extend((v, key, depth + 1) for v in item)


def check_size(size: int, settings: CleanSettings) -> None:
    """Refuse a document larger than ``settings.max_document_bytes`` before any work."""
    if size > settings.max_document_bytes:
        raise DocumentError(
            "too_large",
            f"a document of {size} bytes is over the limit of {settings.max_document_bytes} "
            "(max_document_bytes)",
        )


def make_doc_id(source_path: str) -> str:
    """Stable id of a source: the same relative path gives the same id.

    >>> make_doc_id("2024/a.txt")  # the same in every process and every release
    '64835c38f14a55f2'
    """
    return hashlib.sha256(f"thresher:{source_path}".encode()).hexdigest()[:16]


def validate_sidecar(raw: Any, what: str = "sidecar", code: str = "bad_sidecar") -> dict[str, Any]:
    """Check the known source fields of a sidecar (or a JSONL record) and convert them;
    raise DocumentError(``code``) if one cannot be read. ``author`` may be one name or a
    list of names. Fields thresher does not know are kept under ``extra_fields``.

    >>> meta = validate_sidecar({"url": "https://x.org/a", "fetched_at": "2024-11-21T10:00:00Z"})
    >>> meta["fetched_at"].year
    2024
    >>> validate_sidecar({"author": ["Laura Chen", "Peter Novak"], "crawl_id": 7})
    {'author': 'Laura Chen; Peter Novak', 'extra_fields': {'crawl_id': 7}}
    """
    if not isinstance(raw, dict):
        raise DocumentError(code, f"{what} must be a JSON object, got {type(raw).__name__}")
    meta: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        value = raw.get(key)
        if key == "author" and isinstance(value, list):
            value = _author_list(value, what, code)
        if value is None:
            continue
        if not isinstance(value, str):
            raise DocumentError(code, f"{what} field {key!r} must be a string, got {value!r}")
        if value.strip():
            meta[key] = value.strip()
    for key in TIME_FIELDS:
        try:
            when = parse_timestamp(raw.get(key))
        except (ValueError, OverflowError, TypeError) as exc:
            raise DocumentError(
                code, f"{what} field {key!r} is not a date: {raw.get(key)!r} ({exc})"
            ) from exc
        if when is not None:
            meta[key] = when
    known = {*TEXT_FIELDS, *TIME_FIELDS, *CONTENT_FIELDS}
    extra = {k: v for k, v in raw.items() if k not in known}
    if extra:
        meta["extra_fields"] = extra
    return meta


def _author_list(names: list[Any], what: str, code: str) -> str | None:
    """Several authors as one ``author`` value (blank names dropped, order kept)."""
    if not all(isinstance(n, str) for n in names):
        raise DocumentError(code, f"{what} field 'author' must hold names (strings), got {names!r}")
    kept = [n.strip() for n in names if n.strip()]
    return AUTHOR_SEPARATOR.join(kept) if kept else None


def extra_fields_json(meta: dict[str, Any]) -> str | None:
    """The ``extra_fields`` column: the unknown source fields as a JSON object (keys
    sorted), or None when there are none.

    >>> extra_fields_json({"extra_fields": {"tags": ["a"], "crawl_id": 7}})
    '{"crawl_id": 7, "tags": ["a"]}'
    """
    extra = meta.get("extra_fields")
    return json.dumps(extra, sort_keys=True, ensure_ascii=False) if extra else None


@dataclass(frozen=True)
class Prepared:
    """One document decoded, repaired and split into paragraphs, with what is known of
    it: the first of the two stages (``prepare_*``, then ``build``), which a pipeline
    times apart."""

    paragraphs: list[str]
    sha256: str
    encoding: str
    fixes: list[str]
    known: dict[str, Any]
    settings: CleanSettings
    empty_message: str = "no text left after decoding and normalisation"
    # The language the page declares (its ``lang``), the last resort for ``language``.
    declared_language: str | None = None
    # Field of ``known`` -> where on an HTML page it was read (``Extracted.sources``).
    known_sources: dict[str, str] = field(default_factory=dict)


def prepare_document(
    data: bytes, sidecar: dict[str, Any] | None = None, settings: CleanSettings = CleanSettings()
) -> Prepared:
    """Decode and repair one raw plain-text document. Sidecar fields win over what is
    lifted from the text."""
    check_size(len(data), settings)
    if not data.strip():
        raise DocumentError("empty", "file is empty or only white space")
    try:
        decoded = decode_bytes(data)
    except UndecodableError as exc:
        raise DocumentError("undecodable", str(exc)) from exc
    repaired = repair_text(decoded.text, uncurl_quotes=settings.uncurl_quotes)
    return Prepared(
        split_paragraphs(repaired.text),
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=decoded.encoding,
        fixes=repaired.fixes,
        known=dict(sidecar or {}),
        settings=settings,
    )


def prepare_html(
    data: bytes | str,
    sidecar: dict[str, Any] | None = None,
    settings: CleanSettings = CleanSettings(),
    sha256: str | None = None,
) -> Prepared:
    """Decode one HTML page and let trafilatura extract its main text and metadata, then
    repair the text. Metadata precedence: sidecar, then the page's own metadata, then
    what the cleaners lift from the text. The body-region detector (``outside_body``) and
    the line scorer (``not_body``, trained on plain-text scrapes) are off here: finding
    the body is what trafilatura just did, from the page structure."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    check_size(
        len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "replace")), settings
    )
    if not raw.strip():
        raise DocumentError("empty", "file is empty or only white space")
    if isinstance(data, str):
        decoded = Decoded(data, "utf-8")
    else:
        try:
            decoded = decode_html(data)
        except UndecodableError as exc:
            raise DocumentError("undecodable", str(exc)) from exc
    url = (sidecar or {}).get("url")
    try:
        page = extract_html(decoded.text, url=url)
    except UndecodableError as exc:
        raise DocumentError("unparsable_html", str(exc)) from exc
    repaired = repair_text(page.text, uncurl_quotes=settings.uncurl_quotes)
    return Prepared(
        # trafilatura gives one paragraph (or list item, or table row) per line.
        [line for line in repaired.text.split("\n") if line.strip()],
        sha256=sha256 or hashlib.sha256(raw).hexdigest(),
        encoding=decoded.encoding,
        fixes=repaired.fixes,
        known={**{k: v for k, v in page.metadata.items() if k != "language"}, **(sidecar or {})},
        settings=replace(settings, disabled=settings.disabled | HTML_DISABLED),
        empty_message="no main text found in the page",
        declared_language=page.metadata.get("language"),
        known_sources={k: v for k, v in page.sources.items() if k not in (sidecar or {})},
    )


def prepare_record(
    line: bytes, sidecar: dict[str, Any] | None = None, settings: CleanSettings = CleanSettings()
) -> Prepared:
    """Decode one JSONL line: a JSON object with ``text`` or ``html`` and any source
    fields (``url``, ``site``, ``fetched_at``, ...); its fields win over the dump's
    sidecar. ``source_sha256`` hashes the line's bytes."""
    check_size(len(line), settings)
    try:
        decoded = decode_bytes(line)
    except UndecodableError as exc:
        raise DocumentError("bad_record", f"line is not JSON: {exc}") from exc
    record = load_json(decoded.text, "line", "bad_record")
    from_record = validate_sidecar(record, "record", "bad_record")
    known = {**(sidecar or {}), **from_record}
    extra = {**(sidecar or {}).get("extra_fields", {}), **from_record.get("extra_fields", {})}
    if extra:
        known["extra_fields"] = extra
    sha256 = hashlib.sha256(line).hexdigest()
    html, text = record.get("html"), record.get("text")
    if isinstance(html, str) and html.strip():
        return prepare_html(html, known, settings, sha256=sha256)
    if not isinstance(text, str):
        fields = ", ".join(sorted(record)) or "none"
        raise DocumentError(
            "bad_record", f"record has no 'text' or 'html' string field (fields: {fields})"
        )
    if not text.strip():
        raise DocumentError("empty", "record's text is empty or only white space")
    repaired = repair_text(text, uncurl_quotes=settings.uncurl_quotes)
    return Prepared(
        split_paragraphs(repaired.text),
        sha256=sha256,
        encoding=decoded.encoding,
        fixes=repaired.fixes,
        known=known,
        settings=settings,
    )


def process_document(
    data: bytes,
    source_path: str,
    sidecar: dict[str, Any] | None = None,
    settings: CleanSettings = CleanSettings(),
) -> ProcessedDocument:
    """Turn one raw plain-text document into its curated record (``prepare_document``,
    then ``build``)."""
    return build(prepare_document(data, sidecar, settings), source_path)


def process_html(
    data: bytes | str,
    source_path: str,
    sidecar: dict[str, Any] | None = None,
    settings: CleanSettings = CleanSettings(),
    sha256: str | None = None,
) -> ProcessedDocument:
    """Turn one HTML page into its curated record (``prepare_html``, then ``build``)."""
    return build(prepare_html(data, sidecar, settings, sha256), source_path)


def process_record(
    line: bytes,
    source_path: str,
    sidecar: dict[str, Any] | None = None,
    settings: CleanSettings = CleanSettings(),
) -> ProcessedDocument:
    """Turn one JSONL line into its curated record (``prepare_record``, then ``build``)."""
    return build(prepare_record(line, sidecar, settings), source_path)


# Detectors that do not run on text trafilatura already extracted from a page.
HTML_DISABLED = frozenset({"outside_body", "not_body"})


def build(prepared: Prepared, source_path: str, why: bool = False) -> ProcessedDocument:
    """Clean a prepared document's paragraphs and assemble its record. The language is
    the one the source states (sidecar or record), else the one detected in the cleaned
    text, else the one the page declares (its ``lang``: templates often declare one
    language for every page, so the text's evidence comes first). With ``why``, the
    record says why the line scorer decided each line as it did (``body_why``)."""
    paragraphs, known, settings = prepared.paragraphs, prepared.known, prepared.settings
    if not paragraphs:
        raise DocumentError("empty", prepared.empty_message)
    if len(paragraphs) > settings.max_paragraphs:
        raise DocumentError(
            "too_many_paragraphs",
            f"{len(paragraphs)} paragraphs is over the limit of {settings.max_paragraphs} "
            "(max_paragraphs)",
        )
    result = clean_document(paragraphs, known=known, settings=settings, why=why)
    doc_id = make_doc_id(source_path)
    kept = [Paragraph(pos, text, *fingerprint_and_length(text)) for pos, text in result.kept]
    removed = [
        RemovedLine(r.position, r.text, r.reason, doc_id if r.dup_of is not None else None)
        for r in result.removed
    ]
    text = "\n\n".join(p.text for p in kept)
    minhash = signature([p.text for p in kept])
    metadata = {**result.metadata, **known}
    language = (
        language_code(known.get("language"))
        or detect_language(text)
        or language_code(prepared.declared_language)
    )
    metadata.pop("language", None)
    if language:
        metadata["language"] = language
    return ProcessedDocument(
        doc_id=doc_id,
        source_path=source_path,
        source_sha256=prepared.sha256,
        metadata=metadata,
        encoding=prepared.encoding,
        encoding_fixes=prepared.fixes,
        text=text,
        paragraphs_before=len(paragraphs),
        chars_before=sum(len(p) for p in paragraphs),
        paragraphs=kept,
        removed=removed,
        minhash=minhash,
        body_probability=_probabilities(result.body_probability, len(paragraphs)),
        body_why=result.body_why,
        metadata_lines={k: v for k, v in result.sources.items() if not known.get(k)},
        metadata_confidence={k: v for k, v in result.confidence.items() if not known.get(k)},
        metadata_sources=prepared.known_sources,
    )


def _probabilities(by_position: dict[int, float], n: int) -> np.ndarray | None:
    if not by_position:
        return None
    out = np.full(n, np.nan, dtype=np.float32)
    out[list(by_position)] = list(by_position.values())
    return out


def document_row(doc: ProcessedDocument, ingested_at: datetime) -> dict[str, Any]:
    """The ``documents`` table row of a processed document."""
    meta = doc.metadata
    return {
        "doc_id": doc.doc_id,
        "source_path": doc.source_path,
        "source_sha256": doc.source_sha256,
        "url": meta.get("url"),
        "site": meta.get("site"),
        "language": meta.get("language"),
        "title": meta.get("title"),
        "author": meta.get("author"),
        "published_at": meta.get("published_at"),
        "updated_at": meta.get("updated_at"),
        "fetched_at": meta.get("fetched_at"),
        "ingested_at": ingested_at,
        "sections": meta.get("sections"),
        "credit": meta.get("credit"),
        "extra_fields": extra_fields_json(meta),
        "encoding": doc.encoding,
        "encoding_fixes": doc.encoding_fixes,
        "near_dup_cluster": doc.near_dup_cluster,
        "minhash": None if doc.minhash is None else doc.minhash.tolist(),
        "text": doc.text,
        "paragraphs_before": doc.paragraphs_before,
        "paragraphs_after": len(doc.paragraphs),
        "chars_before": doc.chars_before,
        "chars_after": sum(len(p.text) for p in doc.paragraphs),
    }
