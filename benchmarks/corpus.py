"""Synthetic scraped articles for benchmarks: any number, about 8 KB each, with the junk
thresher removes, as a plain-text scrape and as the HTML page it came from.

    .venv/bin/python benchmarks/corpus.py OUT_DIR --docs 10000 [--html] [--seed 1]

Each article has a cookie banner with buttons, a menu, a title, a byline, a dateline,
section tags, 13-19 body paragraphs of varied prose (some subheadings), a photo caption
repeated (as scrapers save the alt text too), a newsletter promo and a podcast promo in
the body, a share-button row, a run of related headlines, a "Source(s):" credit and a
footer. Text is made from word lists and sentence templates; it reads like news prose
without copying anyone's. Files go to OUT_DIR/<nnn>/<id>.txt in folders of 1,000.
"""

from __future__ import annotations

import argparse
import html
import random
from pathlib import Path

PLACES = (
    "Northport Eastbay Millbrook Southend Kingsford Ashdale Riverton Hollowmere Cliffside "
    "Westmoor Brackenfield Lowmarsh Harrowgate Elmstead Fairhaven Stonebridge"
).split()
PEOPLE = (
    "Anna Brook|Tomas Lind|Maria Castell|Jonas Weber|Priya Nandakumar|Kim Sand|Ola Nord|"
    "Lena Park|Samuel Okafor|Ines Duarte|Henrik Vos|Clara Ost|Dmitri Orlov|Aisha Rahman"
).split("|")
ROLES = (
    "the mayor|the council leader|a spokesperson for the operator|the chief engineer|"
    "a local shopkeeper|the head teacher|a union representative|the finance director|"
    "an opposition councillor|the regional health officer"
).split("|")
SUBJECTS = (
    "the council|the city|the regional government|the operator|the hospital trust|"
    "the school board|the port authority|residents|local businesses|the transport agency|"
    "environmental groups|the university"
).split("|")
VERBS = (
    "approved|rejected|postponed|announced|criticised|welcomed|reviewed|funded|extended|"
    "cut|proposed|defended|questioned|suspended|expanded"
).split("|")
OBJECTS = (
    "plans for a new cycle lane along the harbour|the budget for next year|a longer "
    "opening season for the public pool|repairs to the old bridge|a ban on cars in the "
    "market square|new bus routes to the northern estates|a study of flood defences|"
    "higher fees for parking permits|a programme to insulate older homes|the sale of the "
    "former tram depot|an expansion of the night ferry service|a new wing for the "
    "children's hospital"
).split("|")
CLAUSES = (
    "after a debate that lasted most of the afternoon|despite objections from several "
    "members|following months of delays|at a cost of {n} million euros|in a vote of {a} "
    "to {b}|for the second time this year|amid concern about rising prices|after a "
    "consultation that drew {n} hundred responses|ahead of elections in the spring|"
    "according to documents seen by this newspaper"
).split("|")
QUOTES = (
    "We have listened to people and this is the result|It is not perfect but it is a "
    "start|Nobody asked the people who actually live here|The numbers simply do not add "
    "up|This will make a real difference to families|We expect the work to finish on "
    "time and on budget|Frankly, it should have happened years ago"
).split("|")
RELATED = (
    "Ferry fares to rise in spring|New terminal plans approved|Harbour dredging begins|"
    "Council tax to go up by three percent|Library extends opening hours|Market square "
    "to close for repairs|Cycle lane consultation opens|School meals to become free"
).split("|")
SECTIONS = ["Local", "Politics", "Transport", "Environment", "Business", "Health"]


def _clause(rng: random.Random) -> str:
    return rng.choice(CLAUSES).format(
        n=rng.randint(2, 90), a=rng.randint(20, 40), b=rng.randint(2, 19)
    )


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {_clause(rng)}"
        return s[0].upper() + s[1:] + "."
    if kind < 0.8:
        who, role = rng.choice(PEOPLE), rng.choice(ROLES)
        return f'"{rng.choice(QUOTES)}," said {who}, {role}.'
    place = rng.choice(PLACES)
    n = rng.randint(3, 400)
    return (
        f"In {place}, about {n} people attended a meeting on the plans, and many said they "
        f"had not been told about the changes until {_clause(rng)}."
    )


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))


def article(n: int, seed: int = 1) -> dict[str, object]:
    """One synthetic page: its parts, so it can be rendered as text or HTML."""
    rng = random.Random(seed * 1_000_003 + n)
    place = rng.choice(PLACES)
    title = f"{place} {rng.choice(VERBS)} {rng.choice(OBJECTS).split(' for ')[0]}"
    body = [_paragraph(rng) for _ in range(rng.randint(13, 19))]
    for _ in range(rng.randint(0, 2)):  # subheadings
        body.insert(rng.randint(3, len(body) - 2), f"What happens next in {rng.choice(PLACES)}")
    photographer = rng.choice(PEOPLE)
    day = rng.choice(["Monday", "Tuesday", "Friday"])
    caption = (
        f"{rng.choice(PEOPLE)} speaks to residents in {place} on {day}. "
        f"/{photographer}/Northport Gazette"
    )
    return {
        "title": title,
        "author": rng.choice(PEOPLE),
        "date": f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}, {rng.randint(1, 28)}-Nov-2026",
        "sections": rng.sample(SECTIONS, 2),
        "caption": caption,
        "body": body,
        "related": rng.sample(RELATED, 4),
        "n": n,
    }


def as_text(a: dict) -> str:
    body = list(a["body"])
    body.insert(
        2, "Subscribe to our morning newsletter for the latest local news, direct to your inbox."
    )
    body.insert(
        len(body) // 2,
        "Have you heard our local politics podcast? Listen now on your favourite app.",
    )
    lines = [
        "We value your privacy",
        "We use cookies to personalise content and ads and to analyse our traffic. "
        "You can manage your preferences at any time.",
        "Accept all",
        "Manage preferences",
        "Skip to main content",
        "Home",
        "News",
        "Sport",
        "Weather",
        a["title"],
        f"By {a['author']}",
        f"Published {a['date']}",
        ";".join(a["sections"]),
        a["caption"],
        a["caption"].split(" /")[0],
        a["caption"],
        *body[:1],
        "Share on Facebook",
        "Share on X",
        "Copy link",
        *body[1:],
        "Read more:",
        *a["related"],
        "Source(s): Reuters",
        "Copyright 2026 Northport Gazette. All rights reserved.",
    ]
    return "\n\n".join(lines) + "\n"


def as_html(a: dict) -> str:
    e = html.escape
    paras = "".join(f"<p>{e(p)}</p>" for p in a["body"])
    related = "".join(f"<li><a href='/r{i}'>{e(r)}</a></li>" for i, r in enumerate(a["related"]))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(a['title'])} | Northport Gazette</title>"
        f"<meta name='author' content='{e(a['author'])}'></head><body>"
        "<div class='cookies'><p>We use cookies to personalise content and ads.</p>"
        "<button>Accept all</button></div>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{e(a['title'])}</h1><p class='byline'>By {e(a['author'])}</p>"
        f"<figure><img src='p.jpg' alt=''><figcaption>{e(a['caption'])}</figcaption></figure>"
        f"{paras}<p>Subscribe to our morning newsletter for the latest local news.</p>"
        "<p>Share on Facebook</p></article>"
        f"<aside><h2>Read more</h2><ul>{related}</ul></aside>"
        "<footer>Copyright 2026 Northport Gazette.</footer></body></html>"
    )


def write_corpus(out: Path, docs: int, seed: int = 1, with_html: bool = False) -> int:
    """Write ``docs`` articles under ``out``; returns the bytes of text written."""
    total = 0
    for n in range(docs):
        a = article(n, seed)
        folder = out / f"{n // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        data = as_text(a).encode()
        (folder / f"a{n:07d}.txt").write_bytes(data)
        total += len(data)
        if with_html:
            html_dir = out.parent / f"{out.name}-html" / f"{n // 1000:03d}"
            html_dir.mkdir(parents=True, exist_ok=True)
            (html_dir / f"a{n:07d}.html").write_text(as_html(a), encoding="utf-8")
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--html", action="store_true", help="also write OUT-html/ with the pages")
    args = ap.parse_args()
    size = write_corpus(args.out, args.docs, args.seed, args.html)
    print(f"{args.docs} articles, {size / 1e6:.1f} MB of text in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
