"""What a run did: counted batch by batch (``RunStats``), summed up once (``RunSummary``),
and shown to a person (the CLI's lines, the Prefect UI's markdown and table artifacts)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cleaners.document import ProcessedDocument
from flows.sources import InputError

# How many skipped files and most-removed lines a summary names; counts are complete.
SKIPPED_SHOWN = 20
TOP_REMOVED = 10


class Listed(NamedTuple):
    """An entry a summary names with the reason it was not written: ignored (not an
    input), skipped (its bytes were ingested before) or still failing."""

    source_path: str
    why: str


class TopLine(NamedTuple):
    """One of the most removed lines of a run."""

    reason: str
    text: str
    count: int


@dataclass(frozen=True)
class RunSummary:
    """The counts a person wants at the end of a run; what ``ingest`` returns. Every count
    is complete; the lists name the first ``SKIPPED_SHOWN`` entries (``TOP_REMOVED`` for
    ``top_removed``). ``as_dict`` is the JSON shape (``thresher ingest --json``)."""

    ingest_date: str
    curated_dir: str
    files_found: int
    documents_written: int
    documents_skipped: int
    documents_failed: int
    documents_still_failing: int
    paragraphs_kept: int
    paragraphs_removed: int
    near_dup_documents: int
    files_ignored: int = 0
    ignored_by_code: dict[str, int] = field(default_factory=dict)
    ignored: list[Listed] = field(default_factory=list)
    removed_by_reason: dict[str, int] = field(default_factory=dict)
    errors_by_code: dict[str, int] = field(default_factory=dict)
    skipped: list[Listed] = field(default_factory=list)
    still_failing: list[Listed] = field(default_factory=list)
    top_removed: list[TopLine] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    rows_in_partition: dict[str, int] = field(default_factory=dict)
    documents_dropped_from_date: int = 0
    dropped_from_date: list[str] = field(default_factory=list)
    dedup_state_mb: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values; list entries as objects with named fields."""
        out = {name: getattr(self, name) for name in self.__dataclass_fields__}
        out["ignored"] = [{"path": e.source_path, "why": e.why} for e in self.ignored]
        for name in ("skipped", "still_failing", "top_removed"):
            out[name] = [e._asdict() for e in getattr(self, name)]
        return out


class RunStats:
    """What a run did, added up batch by batch (so the run need not hold its documents).

    The most removed lines are counted exactly while fewer than ``MAX_DISTINCT_LINES``
    distinct lines were removed; past that, lines seen once are dropped from the count now
    and then (the top of the list is what repeats, so it stays right)."""

    MAX_DISTINCT_LINES = 20_000

    def __init__(self) -> None:
        self.written = 0
        self.kept = 0
        self.reasons: Counter[str] = Counter()
        self.lines: Counter[tuple[str, str]] = Counter()
        self.error_codes: Counter[str] = Counter()
        self.failed = 0
        self.skipped: list[tuple[str, str]] = []
        self.skipped_count = 0
        self.still_failing: list[tuple[str, str]] = []
        self.still_failing_count = 0
        self.near_dup = 0
        self.timings: Counter[str] = Counter()

    def add(
        self,
        docs: list[ProcessedDocument],
        errors: list[InputError],
        skipped: list[tuple[str, str]],
        near_dup_documents: int = 0,
        still_failing: list[tuple[str, str]] | None = None,
    ) -> None:
        self.written += len(docs)
        self.kept += sum(len(d.paragraphs) for d in docs)
        for d in docs:
            for r in d.removed:
                self.reasons[r.reason] += 1
                self.lines[(r.reason, r.text)] += 1
        if len(self.lines) > self.MAX_DISTINCT_LINES:
            self.lines = Counter({k: n for k, n in self.lines.items() if n > 1})
        self.failed += len(errors)
        self.error_codes.update(e.code for e in errors)
        self.skipped_count += len(skipped)
        self.skipped = sorted(self.skipped + skipped)[:SKIPPED_SHOWN]
        self.still_failing_count += len(still_failing or [])
        self.still_failing = sorted(self.still_failing + (still_failing or []))[:SKIPPED_SHOWN]
        self.near_dup += near_dup_documents

    def summary(
        self,
        ingest_date: str,
        curated_dir: str,
        found: int,
        ignored: list[tuple[str, str]] | None = None,
        **more: Any,
    ) -> RunSummary:
        """The run's summary. ``ignored``: entries of RAW_DIR that are not inputs (hidden,
        folder symlinks, other file types), counted and listed; ``more``: the other
        ``RunSummary`` fields the run knows (rows per table, documents dropped, ...)."""
        top = sorted(self.lines.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REMOVED]
        ignored = ignored or []
        return RunSummary(
            ingest_date=ingest_date,
            curated_dir=curated_dir,
            files_found=found,
            files_ignored=len(ignored),
            ignored_by_code=dict(sorted(Counter(code for _, code in ignored).items())),
            ignored=[Listed(*e) for e in ignored[:SKIPPED_SHOWN]],
            documents_written=self.written,
            documents_skipped=self.skipped_count,
            documents_failed=self.failed,
            documents_still_failing=self.still_failing_count,
            paragraphs_kept=self.kept,
            paragraphs_removed=sum(self.reasons.values()),
            removed_by_reason=dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            errors_by_code=dict(sorted(self.error_codes.items())),
            near_dup_documents=self.near_dup,
            skipped=[Listed(*e) for e in self.skipped],
            still_failing=[Listed(*e) for e in self.still_failing],
            top_removed=[TopLine(r, t, n) for (r, t), n in top],
            stage_seconds={k: round(v, 3) for k, v in self.timings.items()},
            **more,
        )


def _more(shown: list[Any], total: int, what: str) -> list[str]:
    return [f"  ... and {total - len(shown)} more {what}"] if total > len(shown) else []


def summary_lines(s: RunSummary) -> list[str]:
    """The summary ``thresher ingest`` prints."""
    out = [
        f"files: {s.files_found} found; documents: {s.documents_written} written, "
        f"{s.documents_skipped} skipped, {s.documents_failed} failed"
    ]
    if s.files_ignored:
        by_code = ", ".join(f"{c} {n}" for c, n in s.ignored_by_code.items())
        out.append(f"ignored (not inputs): {s.files_ignored} ({by_code})")
        out += [f"  ignored {e.source_path}: {e.why}" for e in s.ignored]
        out += _more(s.ignored, s.files_ignored, "ignored")
    out.append(f"paragraphs: {s.paragraphs_kept} kept, {s.paragraphs_removed} removed")
    out += [f"  {reason:<14} {n}" for reason, n in s.removed_by_reason.items()]
    out += [f"  error {code:<14} {n}" for code, n in s.errors_by_code.items()]
    if s.near_dup_documents:
        out.append(f"near-duplicate documents flagged: {s.near_dup_documents}")
    out += [f"  skipped {e.source_path}: {e.why}" for e in s.skipped]
    out += _more(s.skipped, s.documents_skipped, "skipped")
    if s.documents_still_failing:
        out.append(
            "still failing (same bytes failed on an earlier date, not tried again): "
            f"{s.documents_still_failing}"
        )
        out += [f"  {e.source_path}: {e.why}" for e in s.still_failing]
        out += _more(s.still_failing, s.documents_still_failing, "still failing")
    if s.documents_dropped_from_date:
        out.append(
            f"re-run of {s.ingest_date}: {s.documents_dropped_from_date} documents its "
            "partition held are not in this run (inputs gone or now failing) and leave the date"
        )
        out += [f"  dropped {path}" for path in s.dropped_from_date]
        out += _more(s.dropped_from_date, s.documents_dropped_from_date, "dropped")
    out.append(f"written to {s.curated_dir} (ingest_date={s.ingest_date})")
    return out


def report_markdown(s: RunSummary) -> str:
    """The run report a person reads in the Prefect UI (a markdown artifact)."""
    ignored = ", ".join(f"{c} {n}" for c, n in s.ignored_by_code.items())
    errors = ", ".join(f"{c} {n}" for c, n in s.errors_by_code.items())
    out = [
        f"# thresher ingest {s.ingest_date}",
        "",
        f"- files found: **{s.files_found}**"
        + (f" (and {s.files_ignored} ignored: {ignored})" if s.files_ignored else ""),
        f"- documents written: **{s.documents_written}**",
        f"- skipped (already ingested): **{s.documents_skipped}**",
        f"- failed: **{s.documents_failed}**" + (f" ({errors})" if errors else ""),
        f"- paragraphs kept: **{s.paragraphs_kept}**, removed: **{s.paragraphs_removed}**",
        f"- near-duplicate documents flagged: **{s.near_dup_documents}**",
    ]
    if s.documents_still_failing:
        out.append(
            "- still failing (the same bytes failed on an earlier date; not tried "
            f"again): **{s.documents_still_failing}**"
        )
    if s.documents_dropped_from_date:
        out.append(
            f"- re-run of the date: **{s.documents_dropped_from_date}** documents its "
            "partition held are not in this run and left the date: "
            + ", ".join(f"`{p}`" for p in s.dropped_from_date)
        )
    out += [
        "",
        "## Paragraphs removed by reason",
        "",
        "| reason | paragraphs |",
        "|---|---|",
        *(f"| `{r}` | {n} |" for r, n in s.removed_by_reason.items()),
        "",
        "## Most removed lines",
        "",
        "| reason | times | line |",
        "|---|---|---|",
        *(f"| `{t.reason}` | {t.count} | {_cell(t.text)} |" for t in s.top_removed),
    ]
    return "\n".join(out) + "\n"


def report_table(s: RunSummary) -> list[dict[str, Any]]:
    """Paragraphs removed by reason, as rows of a table artifact."""
    total = s.paragraphs_removed or 1
    return [
        {"reason": r, "paragraphs": n, "share": round(n / total, 3)}
        for r, n in s.removed_by_reason.items()
    ]


def _cell(text: str, width: int = 80) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
