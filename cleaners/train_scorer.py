"""Train the line scorer (``cleaners/scorer.py``) on labelled pages and write
``cleaners/data/line_model.npz``; then the headline picker (``cleaners/train_title.py``)
on the scorer's out-of-fold decisions, written to ``cleaners/data/title_model.npz``,
the author picker (``cleaners/train_author.py``), written to
``cleaners/data/author_model.npz``, and the publication-date picker
(``cleaners/train_published.py``), written to ``cleaners/data/published_model.npz``.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python -m cleaners.train_scorer [--set ../shared/eval/wcxb-dev] [--cv 5]
        [--title-out FILE] [--author-out FILE] [--published-out FILE]
        [--oof-pred /tmp/oof]   # then: python ../shared/eval/score.py --pred /tmp/oof ...

Each page's plain-text scrape goes through the same decoding, repair, segmenting and rules
as ``thresher ingest``; each line is labelled body when most of its words line up, in
order, with the page's gold text (``difflib`` matching blocks of at least
``MIN_BLOCK_TOKENS`` tokens, or a whole short line). Pages stay where they are: nothing of
them is copied into the project, only the trees learned from them. Each page also gives
two copies in memory: its body lines alone (``body_only``) and its body with
``SHORT_MARGIN`` lines either side (``short_copy``), so that the model keeps a clean
text's last paragraph and still removes a short page's menu.

With ``--cv K`` the script first cross-validates grouped by site (a page is only ever
scored by a model that saw no page of its site), chooses the switch cost and threshold
of the sequence step on those out-of-fold scores, and reports them; the shipped model is
then trained on every page. Same data and settings give the same file (fixed seeds, no
early stopping; the pages are read in one process per core, in the manifest's order).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cleaners import author, published, scorer, title
from cleaners.clean import CleanSettings, rule_reasons_and_region
from cleaners.encoding import decode_bytes, repair_text
from cleaners.segment import split_paragraphs

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "wcxb-dev"
TOKEN = re.compile(r"\w+")
# A matching run this short between a scrape and its gold is chance ("Share", "2024").
MIN_BLOCK_TOKENS = 3
# A line is body when at least this share of its tokens is matched to the gold.
BODY_SHARE = 0.5
# The trees: enough to learn from ~500k lines, small enough to ship (80 KB, limit 5 MB).
TREES = 200
LEAVES = 31
DEPTH = 8
LEARNING_RATE = 0.1
SEED = 0
# The line model is the mean of this many such tree models, each fitted with another seed
# and a random 80% of the features at each split (scikit-learn's ``max_features``).
# One model's borderline lines moved with every change of the training data: each of ten
# retrains on 1 December flipped one to four single lines of the hand-written test pages.
# The mean of three gave, out of fold, articles 0.9105 against 0.9087 for one model on the
# same code, every other page type up by 0.002-0.029, and none of those flips.
BAGGED = 3
MAX_FEATURES = 0.8
# The sequence step's settings tried on the out-of-fold scores (chosen on articles).
SWITCH_COSTS = (0.0, 0.5, 1.0, 1.5, 2.0)
THRESHOLDS = (-1.0, -0.5, 0.0, 0.5)


@dataclass
class PageLines:
    page_id: str
    domain: str
    page_type: str
    paragraphs: list[str]
    reasons: list[str | None]
    labels: np.ndarray  # bool per line: body
    features: np.ndarray
    gold: Counter[tuple[str, ...]]  # the gold text's shingles
    title: str = ""  # the gold title ("" when the gold has none)
    author: str = ""  # the gold author ("" when the gold has none)
    published: str = ""  # the gold publication day, YYYY-MM-DD ("" when none or no day)


def label_lines(paragraphs: list[str], gold: str) -> np.ndarray:
    """Whether each line is body: most of its tokens line up, in order, with the gold.

    >>> label_lines(["Home", "The council met on Monday to vote.", "Share this"],
    ...             "The council met on Monday to vote. It passed.").tolist()
    [False, True, False]
    """
    gold_tokens = TOKEN.findall(gold)
    per_line = [TOKEN.findall(text) for text in paragraphs]
    lengths = np.array([len(found) for found in per_line])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).tolist() if paragraphs else []
    tokens = [t for found in per_line for t in found]
    owner = np.repeat(np.arange(len(paragraphs)), lengths).tolist()
    matched = np.zeros(len(paragraphs))
    blocks = difflib.SequenceMatcher(None, tokens, gold_tokens, autojunk=False)
    for a, _, size in blocks.get_matching_blocks():
        if size == 0:
            continue
        line = owner[a]
        whole_line = starts[line] == a and size == lengths[line]
        if size >= MIN_BLOCK_TOKENS or whole_line:
            np.add.at(matched, owner[a : a + size], 1)
    return matched / np.maximum(lengths, 1) >= BODY_SHARE


def page_lines(
    data: bytes, settings: CleanSettings
) -> tuple[list[str], list[str | None], list[bool]]:
    """A page's lines as ingest sees them, the rules' reasons and their body region."""
    text = repair_text(decode_bytes(data).text).text
    paragraphs = split_paragraphs(text)
    reasons, region = rule_reasons_and_region(paragraphs, settings=settings)
    return paragraphs, reasons, region


def load_page(
    eval_set: Path, page_id: str, types: dict[str, str], settings: CleanSettings
) -> PageLines | None:
    """One page's lines, the rules' reasons, labels and feature rows (None: no text)."""
    meta_path = eval_set / f"{page_id}.gold.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    gold = (eval_set / f"{page_id}.gold.txt").read_text(encoding="utf-8")
    paragraphs, reasons, region = page_lines((eval_set / f"{page_id}.txt").read_bytes(), settings)
    if not paragraphs:
        return None
    return PageLines(
        page_id=page_id,
        domain=str(meta.get("domain") or page_id),
        page_type=str(types.get(page_id, "article")),
        paragraphs=paragraphs,
        reasons=reasons,
        labels=label_lines(paragraphs, gold),
        features=scorer.line_features(paragraphs, reasons, region),
        gold=shingles(TOKEN.findall(gold)),
        title=str(meta.get("title") or ""),
        author=str(meta.get("author") or ""),
        published=_gold_day(meta.get("publish_date")),
    )


def _page_and_copies(
    job: tuple[Path, str, dict[str, str], CleanSettings],
) -> tuple[PageLines | None, PageLines | None, PageLines | None]:
    """A page, its body-only copy and its short copy (a worker's job in ``training_pages``)."""
    page = load_page(*job)
    if page is None:
        return None, None, None
    return page, body_only(page, job[3]), short_copy(page, job[3])


def training_pages(eval_set: Path, settings: CleanSettings) -> list[PageLines]:
    """The set's pages, then their body-only copies, then their short copies, each in the
    manifest's order; read in one process per core, which give the same pages in the
    same order as one process."""
    from concurrent.futures import ProcessPoolExecutor

    manifest = json.loads((eval_set / "manifest.json").read_text())
    types = manifest.get("page_types", {})
    jobs = [(eval_set, page_id, types, settings) for page_id in manifest["ids"]]
    with ProcessPoolExecutor() as pool:
        found = list(pool.map(_page_and_copies, jobs, chunksize=16))
    return [page for group in zip(*found, strict=True) for page in group if page is not None]


def _gold_day(value: object) -> str:
    """A gold ``publish_date``'s calendar day ("2025-12-19"), or "" when it names none
    (missing, or a month alone: "2003-11").

    >>> _gold_day("2025-12-19T08:00:00+00:00"), _gold_day("2003-11"), _gold_day(None)
    ('2025-12-19', '', '')
    """
    text = str(value or "")
    return text[:10] if len(text) >= 10 and text[4] == "-" and text[7] == "-" else ""


def body_only(page: PageLines, settings: CleanSettings) -> PageLines | None:
    """The page as a clean source would give it: only its body lines, all labelled body
    (page type ``clean``). Scrapes end in footers, so without these the model learns that
    the last lines of a page are never body and cuts the last paragraph of clean text
    (a JSONL feed's article, a page that is all body)."""
    body = np.flatnonzero(page.labels)
    return _copy_of(page, body, "clean", settings) if len(body) else None


# Lines of page kept on either side of the body in a short copy (``short_copy``).
SHORT_MARGIN = 10


def short_copy(page: PageLines, settings: CleanSettings) -> PageLines | None:
    """The page cut to its body and ``SHORT_MARGIN`` lines on either side, labelled as
    the page is (page type ``short``): a short page with a menu above the body and a
    footer below it, as pages written by hand are. The body-only copies teach that a
    short page is mostly body; without these, the model kept the menu and footer links
    of short pages (the page's length is one of its features). None when the page has
    no body line or is that short already."""
    body = np.flatnonzero(page.labels)
    if not len(body):
        return None
    first = max(0, int(body[0]) - SHORT_MARGIN)
    last = min(len(page.paragraphs), int(body[-1]) + SHORT_MARGIN + 1)
    if first == 0 and last == len(page.paragraphs):
        return None
    return _copy_of(page, np.arange(first, last), "short", settings)


def _copy_of(
    page: PageLines, lines: np.ndarray, page_type: str, settings: CleanSettings
) -> PageLines:
    """A copy of the page with only ``lines`` (indices, in order) and their labels, the
    rules run afresh over them."""
    paragraphs = [page.paragraphs[i] for i in lines]
    reasons, region = rule_reasons_and_region(paragraphs, settings=settings)
    return PageLines(
        page_id=page.page_id,
        domain=page.domain,
        page_type=page_type,
        paragraphs=paragraphs,
        reasons=reasons,
        labels=page.labels[lines],
        features=scorer.line_features(paragraphs, reasons, region),
        gold=page.gold,
        title=page.title,
    )


def fit(
    x: np.ndarray,
    y: np.ndarray,
    trees: int = TREES,
    leaves: int = LEAVES,
    depth: int = DEPTH,
    learning_rate: float = LEARNING_RATE,
    seed: int = SEED,
    max_features: float = 1.0,
) -> object:
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        max_iter=trees,
        max_leaf_nodes=leaves,
        max_depth=depth,
        learning_rate=learning_rate,
        early_stopping=False,
        random_state=seed,
        max_features=max_features,
    )
    return clf.fit(x, y)


def fit_line_model(
    x: np.ndarray, y: np.ndarray, trees: int, switch_cost: float, threshold: float
) -> scorer.TreeEnsemble:
    """The line model: the mean of ``BAGGED`` tree models (seeds ``SEED``, ``SEED`` + 1,
    ...; ``MAX_FEATURES`` of the features at each split), as one ensemble."""
    return scorer.mean_of(
        [
            to_ensemble(fit(x, y, trees, seed=SEED + k, max_features=MAX_FEATURES), 0.0, 0.0)
            for k in range(BAGGED)
        ],
        switch_cost,
        threshold,
    )


def to_ensemble(
    clf: object,
    switch_cost: float,
    threshold: float,
    names: tuple[str, ...] | None = None,
) -> scorer.TreeEnsemble:
    """The fitted trees as ``scorer.TreeEnsemble`` arrays (``names``: the columns they
    were fitted on, the line scorer's by default)."""
    trees = [p[0].nodes for p in clf._predictors]  # type: ignore[attr-defined]
    width = max(len(t) for t in trees)
    shape = (len(trees), width)
    feature = np.zeros(shape, dtype=np.intp)
    threshold_ = np.zeros(shape)
    left = np.zeros(shape, dtype=np.intp)
    right = np.zeros(shape, dtype=np.intp)
    value = np.zeros(shape)
    is_leaf = np.ones(shape, dtype=bool)
    for k, nodes in enumerate(trees):
        if nodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported by the numpy evaluator")
        m = len(nodes)
        feature[k, :m] = nodes["feature_idx"]
        threshold_[k, :m] = nodes["num_threshold"]
        left[k, :m] = nodes["left"]
        right[k, :m] = nodes["right"]
        value[k, :m] = nodes["value"]
        is_leaf[k, :m] = nodes["is_leaf"].astype(bool)
    return scorer.TreeEnsemble(
        feature=feature,
        threshold=threshold_,
        left=left,
        right=right,
        value=value,
        is_leaf=is_leaf,
        baseline=float(np.ravel(clf._baseline_prediction)[0]),  # type: ignore[attr-defined]
        depth=max(int(t["depth"].max()) for t in trees) + 1,
        names=scorer.feature_names() if names is None else names,
        switch_cost=switch_cost,
        threshold_logit=threshold,
        learning_rate=float(clf.learning_rate),  # type: ignore[attr-defined]
    )


def shingles(tokens: list[str]) -> Counter[tuple[str, ...]]:
    """The 4-token shingles of a text's tokens (the eval scorer's definition: a text of
    1-3 tokens is one shorter shingle)."""
    if 0 < len(tokens) < 4:
        return Counter([tuple(tokens)])
    return Counter(zip(tokens, tokens[1:], tokens[2:], tokens[3:], strict=False))


def shingle_f1(pred: str, gold: Counter[tuple[str, ...]]) -> tuple[float, float]:
    """Shingle precision and recall of one page (NaN where the eval scorer leaves a page
    out of the mean: an empty prediction for precision, an empty gold for recall).

    >>> shingle_f1("a b c d e", shingles("a b c d x".split()))
    (0.5, 0.5)
    """
    p = shingles(TOKEN.findall(pred))
    tp = sum((p & gold).values())
    precision = tp / sum(p.values()) if p else float("nan")
    recall = tp / sum(gold.values()) if gold else float("nan")
    return precision, recall


def kept_text(page: PageLines, logits: np.ndarray, switch_cost: float, threshold: float) -> str:
    """The page's text as the scorer would leave it (``scorer.decide``'s rule)."""
    open_lines = [i for i, r in enumerate(page.reasons) if r is None]
    rows = page.features[open_lines]
    keep = scorer.body_lines(logits[open_lines], rows, switch_cost, threshold)
    return "\n".join(page.paragraphs[i] for i, k in zip(open_lines, keep, strict=True) if k)


def set_f1(pairs: list[tuple[float, float]]) -> float:
    ps = [p for p, _ in pairs if p == p]
    rs = [r for _, r in pairs if r == r]
    p, r = (sum(ps) / len(ps) if ps else 0.0), (sum(rs) / len(rs) if rs else 0.0)
    return 2 * p * r / (p + r) if p + r else 0.0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", type=Path, default=DEFAULT_SET)
    ap.add_argument("--cv", type=int, default=5, help="folds grouped by site (0: none)")
    ap.add_argument("--out", type=Path, default=scorer.MODEL_PATH)
    ap.add_argument("--title-out", type=Path, default=title.TITLE_MODEL_PATH)
    ap.add_argument("--author-out", type=Path, default=author.AUTHOR_MODEL_PATH)
    ap.add_argument("--published-out", type=Path, default=published.PUBLISHED_MODEL_PATH)
    ap.add_argument("--trees", type=int, default=TREES, help="boosting rounds")
    ap.add_argument(
        "--oof-pred",
        type=Path,
        help="write each page's out-of-fold cleaned text here as <id>.txt, for "
        "../shared/eval/score.py (outside the project: these are the pages' words)",
    )
    return ap.parse_args(argv)


def _out_of_fold(
    pages: list[PageLines], x: np.ndarray, y: np.ndarray, folds: int, trees: int, started: float
) -> list[np.ndarray]:
    """Each page's line logits from a model trained on the folds its site is not in."""
    from sklearn.model_selection import GroupKFold

    groups = np.concatenate([[p.domain] * len(p.paragraphs) for p in pages])
    oof = np.zeros(len(y))
    for fold, (train, test) in enumerate(GroupKFold(n_splits=folds).split(x, y, groups)):
        model = fit_line_model(x[train], y[train], trees, 0.0, 0.0)
        oof[test] = model.logits(x[test])
        print(f"fold {fold}: {len(test)} lines ({time.time() - started:.0f} s)", flush=True)
    offsets = np.concatenate([[0], np.cumsum([len(p.paragraphs) for p in pages])])
    return [oof[offsets[k] : offsets[k + 1]] for k in range(len(pages))]


def _choose_decoding(pages: list[PageLines], logits: list[np.ndarray]) -> tuple[float, float]:
    """The switch cost and threshold with the best out-of-fold F1 on the articles."""
    best = (-1.0, 0.0, 0.0)
    for cost in SWITCH_COSTS:
        for thr in THRESHOLDS:
            pairs = [
                shingle_f1(kept_text(p, logits[k], cost, thr), p.gold)
                for k, p in enumerate(pages)
                if p.page_type == "article"
            ]
            f1 = set_f1(pairs)
            print(f"switch_cost {cost} threshold {thr}: articles F1 {f1:.4f}")
            best = max(best, (f1, cost, thr))
    f1, switch_cost, threshold = best
    print(
        f"chosen: switch_cost {switch_cost}, threshold {threshold}; "
        f"out-of-fold articles F1 {f1:.4f}"
    )
    return switch_cost, threshold


def _report_out_of_fold(pages: list[PageLines], texts: list[str], oof_pred: Path | None) -> None:
    """Out-of-fold F1 per page type; with ``oof_pred``, each page's text as a file."""
    by_type: dict[str, list[tuple[float, float]]] = {}
    for p, text in zip(pages, texts, strict=True):
        by_type.setdefault(p.page_type, []).append(shingle_f1(text, p.gold))
    for page_type, pairs in sorted(by_type.items()):
        print(f"  {page_type}: {len(pairs)} pages, out-of-fold F1 {set_f1(pairs):.4f}")
    if oof_pred:
        oof_pred.mkdir(parents=True, exist_ok=True)
        for p, text in zip(pages, texts, strict=True):
            if p.page_type not in ("clean", "short"):  # the copies: same ids
                (oof_pred / f"{p.page_id}.txt").write_text(text, encoding="utf-8")


def _train_pickers(
    args: argparse.Namespace,
    pages: list[PageLines],
    logits: list[np.ndarray],
    switch_cost: float,
    threshold: float,
    started: float,
) -> None:
    """The headline picker, then the author and the date pickers (which read the
    headline's place)."""
    from cleaners import train_author, train_published, train_title

    rows = train_title.candidate_rows(pages, logits, switch_cost, threshold)
    headlines = train_title.cross_validate(pages, rows, args.cv)
    scorer.save_model(
        args.title_out, train_title.fit_picker(rows, title.FEATURE_NAMES, train_title.HEADLINE)
    )
    print(f"wrote {args.title_out} ({time.time() - started:.0f} s)")
    real = [k for k, p in enumerate(pages) if p.page_type != "clean"]
    for picker, out in (
        (train_author.AUTHOR_PICKER, args.author_out),
        (train_published.DATE_PICKER, args.published_out),
    ):
        model = train_title.train_candidate_picker(
            picker,
            [pages[k] for k in real],
            [logits[k] for k in real],
            switch_cost,
            threshold,
            [headlines[k] for k in real],
            args.cv,
        )
        scorer.save_model(out, model)
        print(f"wrote {out} ({time.time() - started:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    started = time.time()
    settings = CleanSettings()
    pages = training_pages(args.set, settings)
    print(
        f"{len(pages)} pages, {sum(len(p.paragraphs) for p in pages)} lines "
        f"({time.time() - started:.0f} s)",
        flush=True,
    )
    x = np.vstack([p.features for p in pages])
    y = np.concatenate([p.labels for p in pages])
    switch_cost, threshold = 1.0, 0.0
    if args.cv:
        logits = _out_of_fold(pages, x, y, args.cv, args.trees, started)
        switch_cost, threshold = _choose_decoding(pages, logits)
        texts = [
            kept_text(p, lg, switch_cost, threshold) for p, lg in zip(pages, logits, strict=True)
        ]
        _report_out_of_fold(pages, texts, args.oof_pred)
    model = fit_line_model(x, y, args.trees, switch_cost, threshold)
    scorer.save_model(args.out, model)
    print(
        f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {time.time() - started:.0f} s)"
    )
    if args.cv:  # the pickers learn from the out-of-fold body decisions
        # (of the scrapes and the body-only copies, as before the short copies came)
        keep = [k for k, p in enumerate(pages) if p.page_type != "short"]
        picked = ([pages[k] for k in keep], [logits[k] for k in keep])
        _train_pickers(args, *picked, switch_cost, threshold, started)
    else:
        print(
            f"{args.title_out}, {args.author_out} and {args.published_out} not written: "
            "the pickers need --cv"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
