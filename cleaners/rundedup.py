"""Cross-document dedup of a run: paragraphs shared between documents of the run or with
earlier runs (the keeper decided by evidence of being first), identical bytes, and
near-duplicate documents. Pure: the flows read the earlier runs into a ``History`` and
feed batches; nothing here reads or writes files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from cleaners.dedup import DedupSettings, drops_by_priority, source_order
from cleaners.document import ProcessedDocument
from cleaners.neardup import NUM_PERM, NearDupIndex


@dataclass(frozen=True, slots=True)
class SeenSource:
    """Where bytes with a given sha256 were ingested before, or failed (``error``: the
    errors table's code)."""

    ingest_date: str
    source_path: str
    error: str | None = None


@dataclass
class History:
    # Sorted, unique fingerprints, and for each the index into doc_ids of its keeper.
    fingerprints: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    owners: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    doc_ids: list[str] = field(default_factory=list)
    sources: dict[str, SeenSource] = field(default_factory=dict)
    # Bytes that failed on an earlier date (errors rows with a sha256), by sha256.
    failures: dict[str, SeenSource] = field(default_factory=dict)
    # MinHash signatures (one row each) in (ingest_date, source order) order, with the
    # doc_id and near_dup_cluster of each row's document.
    signatures: np.ndarray = field(default_factory=lambda: np.empty((0, NUM_PERM), np.uint32))
    signature_docs: list[tuple[str, str | None]] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)

    def keepers(self, fingerprints: np.ndarray) -> dict[int, str]:
        """{fingerprint: doc_id that kept it} for those of ``fingerprints`` seen before.

        >>> h = History(np.array([3, 9], np.int64), np.array([0, 1], np.int32), ["a", "b"])
        >>> h.keepers(np.array([9, 4, 3], np.int64))
        {9: 'b', 3: 'a'}
        """
        if len(self.fingerprints) == 0 or len(fingerprints) == 0:
            return {}
        idx = np.searchsorted(self.fingerprints, fingerprints)
        idx[idx == len(self.fingerprints)] = 0
        hit = self.fingerprints[idx] == fingerprints
        return {
            int(fp): self.doc_ids[self.owners[i]]
            for fp, i in zip(fingerprints[hit], idx[hit], strict=True)
        }

    @property
    def paragraph_count(self) -> int:
        return len(self.fingerprints)

    def fingerprint_bytes(self) -> int:
        """Memory held by the paragraph-fingerprint index (arrays and doc_id strings)."""
        strings = sum(49 + len(d) for d in self.doc_ids) + 8 * len(self.doc_ids)
        return int(self.fingerprints.nbytes + self.owners.nbytes + strings)


@dataclass
class DedupReport:
    skipped: list[tuple[str, str]] = field(default_factory=list)
    paragraphs_removed: int = 0
    near_dup_documents: int = 0


class RunDedup:
    """Cross-document dedup of one run, in three steps so that the keeper of a shared
    paragraph is the document with the best evidence of being first, wherever it sits in
    the run:

    1. ``feed`` each batch in source order (never task timing): identical bytes are
       skipped, near-duplicates flagged, and each document's paragraph fingerprints and
       keeper priority noted (about 16 bytes per paragraph and 800 per document);
    2. ``finish``: every shared paragraph gets its keeper: a document of an earlier run
       (``history``), else the run's document with the earliest ``published_at``, then
       ``fetched_at`` (unknown dates last), then source order;
    3. ``apply`` to each batch again (the run holds them aside meanwhile): the other
       copies become ``duplicate`` removals naming the keeper.

    A document becomes the head of a near-duplicate group when a later one matches it;
    if it was fed in an earlier batch, its doc_id is in ``late_heads`` (``apply`` sets it).
    """

    def __init__(self, history: History | None = None, settings: DedupSettings = DedupSettings()):
        self.history = history or History()
        self.settings = settings
        self.near = NearDupIndex(settings.near_dup_threshold, self.history.signatures)
        self._earlier = len(self.history.signature_docs)
        # per near-dup key of this run: [doc_id, cluster]; a list so a head can be updated
        self._run_sigs: list[list[str | None]] = []
        self._seen: dict[str, str] = {}
        self._batch: dict[str, ProcessedDocument] = {}
        self.late_heads: set[str] = set()
        # Per fed document: doc_id and keeper priority; per eligible paragraph: its
        # document's index, position and fingerprint (numpy chunks, one per batch).
        self._doc_ids: list[str] = []
        self._priority: list[tuple] = []
        self._doc_of: list[np.ndarray] = []
        self._positions: list[np.ndarray] = []
        self._fps: list[np.ndarray] = []
        self._index: dict[str, int] = {}
        self._drops: dict[int, dict[int, str]] | None = None

    def state_bytes(self) -> int:
        """Memory of the run's dedup state (indexes, sha256 map), the history aside."""
        strings = sum(60 + len(d) for d in self._doc_ids) + 180 * len(self._seen)
        arrays = sum(
            a.nbytes for chunks in (self._doc_of, self._positions, self._fps) for a in chunks
        )
        # a priority tuple (two datetimes, a path, a line number) is about 320 bytes
        per_doc = 120 * len(self._run_sigs) + 320 * len(self._priority)
        return arrays + self.near.nbytes() + strings + per_doc

    def feed(self, docs: list[ProcessedDocument]) -> tuple[list[ProcessedDocument], DedupReport]:
        """Step 1 for the next batch (already in source order); returns the documents to
        keep aside for ``apply`` (those whose bytes were not seen earlier in the run)."""
        report = DedupReport()
        out = []
        for doc in docs:
            earlier = self._seen.setdefault(doc.source_sha256, doc.source_path)
            if earlier == doc.source_path:
                out.append(doc)
            else:
                report.skipped.append((doc.source_path, f"same bytes as {earlier} in this run"))
        self._batch = {d.doc_id: d for d in out}
        for doc in out:
            self._flag_near_duplicate(doc)
        report.near_dup_documents = sum(1 for d in out if d.near_dup_cluster is not None)
        self._batch = {}
        self._note_paragraphs(out)
        return out, report

    def _note_paragraphs(self, docs: list[ProcessedDocument]) -> None:
        min_chars = self.settings.min_cross_doc_chars
        doc_of, positions, fps = [], [], []
        for doc in docs:
            k = self._index.setdefault(doc.doc_id, len(self._doc_ids))
            if k == len(self._doc_ids):
                self._doc_ids.append(doc.doc_id)
                self._priority.append(keeper_priority(doc))
            for p in doc.paragraphs:
                if p.norm_chars >= min_chars:
                    doc_of.append(k)
                    positions.append(p.position)
                    fps.append(p.fingerprint)
        self._doc_of.append(np.array(doc_of, np.int32))
        self._positions.append(np.array(positions, np.int32))
        self._fps.append(np.array(fps, np.int64))

    def finish(self) -> None:
        """Step 2: decide the keeper of every shared paragraph of the run."""
        fps = np.concatenate(self._fps) if self._fps else np.empty(0, np.int64)
        doc_of = np.concatenate(self._doc_of) if self._doc_of else np.empty(0, np.int32)
        positions = np.concatenate(self._positions) if self._positions else np.empty(0, np.int32)
        order = sorted(range(len(self._priority)), key=self._priority.__getitem__)
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        earlier = self.history.keepers(np.unique(fps)) if self.history.paragraph_count else {}
        self._drops = drops_by_priority(self._doc_ids, rank, doc_of, positions, fps, earlier)
        self._fps, self._doc_of, self._positions = [], [], []

    def apply(self, docs: list[ProcessedDocument]) -> int:
        """Step 3 for one batch fed earlier: drop the paragraphs another document keeps,
        and mark late near-duplicate heads. Returns how many paragraphs were dropped."""
        if self._drops is None:
            raise RuntimeError("RunDedup.apply before finish")
        dropped = 0
        for doc in docs:
            if doc.doc_id in self.late_heads:
                doc.near_dup_cluster = doc.doc_id
            mine = self._drops.get(self._index[doc.doc_id])
            if mine:
                doc.drop(mine)
                dropped += len(mine)
        return dropped

    def _flag_near_duplicate(self, doc: ProcessedDocument) -> None:
        if doc.minhash is None:
            return
        match = self.near.match(doc.minhash)
        if match is not None and match < self._earlier:
            first_id, cluster = self.history.signature_docs[match]
            doc.near_dup_cluster = cluster or first_id
        elif match is not None:
            head = self._run_sigs[match - self._earlier]
            if head[1] is None:
                head[1] = head[0]
                if head[0] in self._batch:
                    self._batch[head[0]].near_dup_cluster = head[0]
                else:
                    self.late_heads.add(str(head[0]))
            doc.near_dup_cluster = head[1]
        self.near.add(doc.minhash)
        self._run_sigs.append([doc.doc_id, doc.near_dup_cluster])


_NEVER = datetime.max.replace(tzinfo=UTC)


def keeper_priority(doc: ProcessedDocument) -> tuple:
    """Who keeps a paragraph documents share: the earliest ``published_at``, then the
    earliest ``fetched_at`` (a document without one comes after those with one), then
    source order."""
    meta = doc.metadata
    published, fetched = meta.get("published_at"), meta.get("fetched_at")
    return (
        published if isinstance(published, datetime) else _NEVER,
        fetched if isinstance(fetched, datetime) else _NEVER,
        source_order(doc.source_path),
    )


def dedup(
    docs: list[ProcessedDocument],
    history: History | None = None,
    settings: DedupSettings = DedupSettings(),
) -> tuple[list[ProcessedDocument], DedupReport]:
    """All cross-document dedup of a set of documents held in memory, read in source
    order (file path, then JSONL line number, as a run reads them): one batch of
    ``RunDedup``."""
    ordered = sorted(docs, key=lambda d: source_order(d.source_path))
    run = RunDedup(history, settings)
    out, report = run.feed(ordered)
    run.finish()
    report.paragraphs_removed = run.apply(out)
    return out, report
