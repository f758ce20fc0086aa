"""The ``thresher`` command line: the same flow as the deployments, run locally.

thresher ingest RAW_DIR CURATED_DIR [--ingest-date YYYY-MM-DD]
thresher explain FILE
thresher stats CURATED_DIR [--date YYYY-MM-DD] [--json]
thresher migrate CURATED_DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cleaners.clean import CleanSettings

# Only settings here: `thresher ingest` is a supervisor that starts the run as a child
# process, and should start fast (flows.sources would import trafilatura).
from flows.settings import DEFAULT_LOCK_TIMEOUT, SETTING, SETTINGS, Setting, is_url, local_path

if TYPE_CHECKING:
    from cleaners.document import ProcessedDocument
    from flows.report import RunSummary

# Offline and quiet by default: no telemetry calls from the temporary local API.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect gives its temporary API 20 s to start; on a loaded 2-core machine that is short.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
# Prefect's state goes where the README and the Makefile say, ``.prefect/`` in the project,
# when thresher runs from a checkout and PREFECT_HOME is not set (not ``~/.prefect``).
PROJECT = Path(__file__).resolve().parent.parent
if "PREFECT_HOME" not in os.environ and (PROJECT / "prefect.yaml").is_file():
    os.environ["PREFECT_HOME"] = str(PROJECT / ".prefect")

# Exit codes of `thresher ingest` (the README lists them).
EXIT_USAGE = 2  # a wrong argument or setting; nothing was touched
EXIT_LOCKED = 3  # another run holds the curated folder
EXIT_CURATED = 4  # the curated folder cannot be used as it is (the message says why)
EXIT_WRITE = 5  # the system refused a write (read-only, disk full, no permission)
EXIT_STORAGE = 6  # an object store refused the run (credentials, bucket) or did not answer


def _check_ingest_args(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, found without starting Prefect; None if nothing."""
    from flows.settings import SettingsError, check_settings

    try:
        check_settings(**_flow_parameters(args))
    except SettingsError as exc:
        return str(exc)
    if isinstance(args.raw_dir, Path) and not args.raw_dir.is_dir():
        return f"RAW_DIR {args.raw_dir} is not a folder"
    curated = args.curated_dir
    if isinstance(curated, Path) and curated.exists() and not curated.is_dir():
        return f"CURATED_DIR {args.curated_dir} exists and is not a folder"
    return None


def _check_urls(
    raw: Path | str, curated: Path | str, options: dict | None
) -> tuple[str, int] | None:
    """What keeps an object-store URL from being used, found before Prefect starts: its
    file system not installed or credentials in it (exit 4), credentials the store
    refuses (6), a RAW_DIR prefix with nothing under it (2). None if nothing; one listing
    request at most, nothing written."""
    if not isinstance(raw, str) and not isinstance(curated, str):
        return None
    from flows.objstore import StorageError, access_problem, open_place

    try:
        places = [open_place(u, options) for u in (raw, curated) if isinstance(u, str)]
    except StorageError as exc:
        return str(exc), EXIT_CURATED
    if not isinstance(raw, str):
        return None
    place = places[0]
    try:
        found = place.fs.isdir(place.root)
    except Exception as exc:  # noqa: BLE001 - the store's own error, told in one line
        problem = access_problem(exc)
        if problem is None:
            raise
        return f"{problem}. Nothing was written.", EXIT_STORAGE
    if not found:
        return f"raw folder not found: {place.url} (no objects under it)", EXIT_USAGE
    return None


def cmd_ingest(args: argparse.Namespace) -> int:
    problem = _check_ingest_args(args)
    if problem:
        print(f"thresher: {problem}", file=sys.stderr)
        return EXIT_USAGE
    refused = _check_urls(args.raw_dir, args.curated_dir, args.storage_options)
    if refused:
        print(f"thresher: {refused[0]}", file=sys.stderr)
        return refused[1]
    from flows import supervise

    if not args.verbose:  # Prefect's INFO lines only with --verbose
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    if supervise.ENV not in os.environ and supervise.available():
        return supervise.run_supervised(sys.argv[1:] if args.argv is None else args.argv)
    if supervise.ENV in os.environ:
        supervise.become_supervised()
    from flows import progress
    from flows.ingest import ingest
    from flows.objstore import access_problem
    from flows.report import summary_lines

    try:
        with progress.shown(quiet=args.quiet):
            summary = _run_ingest(ingest, args)
    except Exception as exc:
        return _stopped(exc, access_problem(exc))
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2, default=str))
    else:
        print("\n".join(summary_lines(summary)))
    return 0


def _stopped(exc: Exception, access: str | None) -> int:
    """The one line and the exit code of a run that stopped on ``exc`` (raised again if
    it is not one the README lists)."""
    from flows.store import CuratedError, CuratedLocked

    if access:
        print(f"thresher: {access}. Nothing was written.", file=sys.stderr)
        return EXIT_STORAGE
    if isinstance(exc, CuratedError):
        print(f"thresher: {exc}", file=sys.stderr)
        return EXIT_LOCKED if isinstance(exc, CuratedLocked) else EXIT_CURATED
    if isinstance(exc, FileNotFoundError) and str(exc).startswith("raw folder not found"):
        print(f"thresher: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        print(
            f"thresher: {exc.strerror or exc}{where}. The run stopped; nothing half-written "
            "is visible.",
            file=sys.stderr,
        )
        return EXIT_WRITE
    raise exc


def _run_ingest(ingest: Callable[..., RunSummary], args: argparse.Namespace) -> RunSummary:
    return ingest(
        raw_dir=str(args.raw_dir), curated_dir=str(args.curated_dir), **_flow_parameters(args)
    )


def _flow_parameters(args: argparse.Namespace) -> dict:
    """The ``ingest`` flow's settings, from the command line (every one of ``SETTINGS``)."""
    values = {s.name: getattr(args, s.name) for s in SETTINGS}
    values["disabled_reasons"] = values["disabled_reasons"] or []
    return values


def _explained(arg: str, settings: CleanSettings | None = None) -> ProcessedDocument:
    """Process one file (``.txt``, ``.html``, ``.gz``) or one JSONL record (``FILE:LINE``)
    with the cleaning settings ``ingest`` would use."""
    from cleaners.document import DocumentError, build
    from flows.sources import READERS, read_source, source_kind, suffixes

    settings = settings or CleanSettings()
    path, line = Path(arg), None
    if not path.exists() and ":" in arg and arg.rsplit(":", 1)[1].isdigit():
        path, line = Path(arg.rsplit(":", 1)[0]), int(arg.rsplit(":", 1)[1])
    if not path.exists():
        raise DocumentError("not_found", f"{path} does not exist")
    if not path.is_file():
        raise DocumentError("usage", f"{path} is not a file")
    kind = source_kind(path.name)
    if kind is None:
        names = ", ".join(suffixes())
        raise DocumentError(
            "usage", f"{path} is not an input thresher reads ({names}, each optionally .gz)"
        )
    if line is not None and kind != "jsonl":
        raise DocumentError("usage", f"FILE:LINE names a record of a JSONL file; {path} is not one")
    if kind == "jsonl" and line is None:
        raise DocumentError("usage", "name one record of a JSONL file as FILE:LINE")
    source = read_source(path.parent, path.name)
    reader = READERS[kind]
    # the documents of the file as ingest reads them; a JSONL record by its line number
    documents = dict(reader.documents(source))
    name = path.name if line is None else f"{path.name}:{line}"
    if name not in documents:
        raise DocumentError("usage", f"{path} has no record on line {line}")
    return build(reader.prepare(documents[name], source.sidecar, settings), name, why=True)


def cmd_explain(args: argparse.Namespace) -> int:
    from cleaners.document import DocumentError

    path = args.file
    try:
        settings = CleanSettings.from_disabled(
            args.disabled_reasons or (),
            uncurl_quotes=args.uncurl_quotes,
            max_paragraphs=args.max_paragraphs,
            max_document_bytes=args.max_document_bytes,
        )
    except ValueError as exc:
        print(f"thresher: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        doc = _explained(str(path), settings)
    except DocumentError as exc:
        print(f"{path}: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    rows = [(p.position, "kept", p.text) for p in doc.paragraphs]
    rows += [(r.position, f"- {r.reason}", r.text) for r in doc.removed]
    width = args.width
    # p(body): the line scorer's probability that the line is body, for the lines it
    # decided on; blank where a rule's removal was final. "why": the features that moved
    # the scorer's log-odds most, under its not_body removals (every line it decided,
    # with --why).
    print(f"{'line':>4}  {'p(body)':>7}  {'decision':<15} text")
    for pos, mark, text in sorted(rows):
        shown = text if len(text) <= width else text[: width - 1] + "…"
        p = float("nan") if doc.body_probability is None else float(doc.body_probability[pos])
        print(f"{pos:>4}  {'' if p != p else f'{p:.2f}':>7}  {mark:<15} {shown}")
        if pos in doc.body_why and (args.why or mark == "- not_body"):
            print(f"{'':>4}  {'':>7}  {'':<15} why: {doc.body_why[pos]}")
    meta = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in doc.metadata.items()}
    print(f"\nmetadata: {json.dumps(meta, ensure_ascii=False)}")
    if doc.metadata_lines:
        # a field a learned picker chose shows the picker's probability after its line
        lines = ", ".join(
            f"{k} line {v}"
            + (f" (p {doc.metadata_confidence[k]:.2f})" if k in doc.metadata_confidence else "")
            for k, v in sorted(doc.metadata_lines.items())
        )
        print(f"lifted from: {lines}")
    if doc.metadata_sources:
        read = "; ".join(f"{k} from {v}" for k, v in sorted(doc.metadata_sources.items()))
        print(f"read from the page: {read}")
    print(f"encoding: {doc.encoding}; fixes: {', '.join(doc.encoding_fixes) or 'none'}")
    print(f"kept {len(doc.paragraphs)} of {doc.paragraphs_before} paragraphs")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from flows import stats, store

    if isinstance(args.curated_dir, Path) and not args.curated_dir.is_dir():
        print(f"thresher: CURATED_DIR {args.curated_dir} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        curated = store.open_curated(args.curated_dir, args.storage_options)
        figures = stats.collect(curated, args.date)
    except LookupError as exc:
        print(f"thresher: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except store.CuratedError as exc:
        print(f"thresher: {exc}", file=sys.stderr)
        return EXIT_CURATED
    pending = curated.pending_commit()
    if pending:
        print(
            f"thresher: the commit of {pending} is unfinished (a killed run); the next ingest "
            "or migrate completes it: its figures may be partial",
            file=sys.stderr,
        )
    print(json.dumps(figures, ensure_ascii=False) if args.json else stats.render(figures))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from flows import store

    if not isinstance(args.curated_dir, Path):
        print(
            "thresher: migrate rewrites local folders only; copy the partitions to a local "
            "folder, migrate it, and copy them back (see the README's Object storage)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not args.curated_dir.is_dir():
        print(f"thresher: CURATED_DIR {args.curated_dir} is not a folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        with store.curated_lock(args.curated_dir, args.lock_timeout):
            completed = store.recover(args.curated_dir)
            if completed:
                print(f"completed the unfinished commit of {completed}")
            store.clean_stale(args.curated_dir)
            report = store.migrate(args.curated_dir)
    except store.CuratedLocked as exc:
        print(f"thresher: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except store.CuratedError as exc:
        print(f"thresher: {exc}", file=sys.stderr)
        return EXIT_CURATED
    for path, what in report:
        print(f"{path}: {what}")
    if not report:
        print("every partition already matches the declared schemas")
    return EXIT_CURATED if any(w.startswith("not migrated") for _, w in report) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thresher", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"thresher {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    ing = sub.add_parser("ingest", help="ingest RAW_DIR into the curated Parquet dataset")
    ing.add_argument(
        "raw_dir", type=location, help="folder of raw files: a path, or a URL (s3://lake/raw)"
    )
    ing.add_argument(
        "curated_dir", type=location, help="folder of the curated tables: a path, or a URL"
    )
    add_settings(ing, SETTINGS)
    shown = ing.add_mutually_exclusive_group()
    shown.add_argument(
        "--quiet",
        action="store_true",
        help="no progress display (by default a bar on a terminal, a line per batch otherwise)",
    )
    shown.add_argument(
        "--verbose", action="store_true", help="show Prefect's own log lines (INFO and up)"
    )
    ing.add_argument("--json", action="store_true", help="print the summary as JSON")
    ing.set_defaults(func=cmd_ingest)
    mig = sub.add_parser(
        "migrate",
        help="rewrite partitions written by an older schema to the declared schemas",
    )
    mig.add_argument("curated_dir", type=location)
    mig.add_argument(
        "--lock-timeout",
        type=float,
        default=DEFAULT_LOCK_TIMEOUT,
        help="seconds to wait for a running ingest",
    )
    mig.set_defaults(func=cmd_migrate)
    exp = sub.add_parser(
        "explain",
        help="show each paragraph of FILE (or a JSONL record, FILE:LINE), kept or removed and why",
    )
    exp.add_argument("file", type=Path)
    exp.add_argument(
        "--width", type=int, default=110, help="characters of text shown per line (default 110)"
    )
    exp.add_argument(
        "--why",
        action="store_true",
        help="under every line the line scorer decided, the features that moved it most "
        "(shown for its not_body removals without it)",
    )
    add_settings(exp, [x for x in SETTINGS if x.cleaning])
    exp.set_defaults(func=cmd_explain)
    sta = sub.add_parser(
        "stats",
        help="documents, paragraphs and characters per date, removals by reason, top sites, "
        "errors, near-duplicate clusters, encodings and languages of CURATED_DIR",
    )
    sta.add_argument("curated_dir", type=location)
    add_settings(sta, [SETTING["storage_options"]])
    sta.add_argument("--date", help="one ingest date YYYY-MM-DD (default: every date)")
    sta.add_argument("--json", action="store_true", help="print the figures as JSON")
    sta.set_defaults(func=cmd_stats)
    return parser


def add_settings(parser: argparse.ArgumentParser, settings: Iterable[Setting]) -> None:
    """One option per setting, named, typed, defaulted and explained by ``SETTINGS``."""
    for setting in settings:
        shown = _default_shown(setting.default)
        kw: dict[str, Any] = {"dest": setting.name, "help": setting.help + shown}
        if setting.kind is bool:
            kw["action"] = "store_true"
        elif setting.kind is list:
            kw.update(action="append", metavar=setting.metavar)
        elif setting.kind is dict:
            kw.update(type=json_object, default=setting.default, metavar=setting.metavar)
        else:
            metavar = setting.metavar or ("X" if setting.kind is float else "N")
            kw.update(type=setting.kind, default=setting.default, metavar=metavar)
        parser.add_argument(setting.option, **kw)


def _default_shown(value: Any) -> str:
    """`` (default 500)`` for a help text; nothing for an unset or off default."""
    if value is None or value is False:
        return ""
    return f" (default {value:g})" if isinstance(value, float) else f" (default {value})"


def location(value: str) -> Path | str:
    """A folder argument: a local path (``file://`` URLs too), or an fsspec URL kept as
    it is (``s3://lake/raw``; never mangled into a local folder named ``s3:``).

    >>> location("file:///data/raw"), location("s3://lake/raw")
    (PosixPath('/data/raw'), 's3://lake/raw')
    """
    return value if is_url(value) else local_path(value)


def json_object(value: str) -> dict[str, Any]:
    """An option given as a JSON object."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(parsed, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, such as {"key": "value"}')
    return parsed


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("thresher")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = argv
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
