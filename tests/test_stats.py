"""``thresher stats``: the figures must be what the tables hold (checked with pandas)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from flows.stats import collect, site_of

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).parent / "thresher"


@pytest.fixture(scope="module")
def curated(tmp_path_factory, prefect_harness) -> Path:
    from flows.ingest import ingest

    tmp = tmp_path_factory.mktemp("stats")
    raw, out = tmp / "raw", tmp / "curated"
    shutil.copytree(ROOT / "raw", raw)
    later = raw / "2026-11-21"
    shutil.move(later, tmp / "later")
    ingest(raw_dir=str(raw), curated_dir=str(out), ingest_date="2026-11-20")
    shutil.move(tmp / "later", later)
    ingest(raw_dir=str(raw), curated_dir=str(out), ingest_date="2026-11-21")
    return out


def test_stats_equal_what_pandas_reads(curated: Path) -> None:
    stats = collect(curated)
    docs = pd.read_parquet(curated / "documents")
    paras = pd.read_parquet(curated / "paragraphs")
    removed = pd.read_parquet(curated / "removed")
    errors = pd.read_parquet(curated / "errors")
    assert stats["dates"] == ["2026-11-20", "2026-11-21"]
    assert stats["documents"] == len(docs) > 0
    assert stats["paragraphs"] == len(paras)
    assert stats["characters"] == int(docs["chars_after"].sum())
    for row in stats["per_date"]:
        day = row["ingest_date"]
        assert row["documents"] == int((docs["ingest_date"] == day).sum())
        assert row["paragraphs"] == int((paras["ingest_date"] == day).sum())
        assert row["removed"] == int((removed["ingest_date"] == day).sum())
        assert row["errors"] == int((errors["ingest_date"] == day).sum())
    assert stats["removed_by_reason"] == removed["reason"].value_counts().sort_index().pipe(
        lambda s: dict(sorted(s.items(), key=lambda kv: (-kv[1], kv[0])))
    )
    assert stats["errors_by_code"] == dict(errors["error"].value_counts())

    def plain(value):
        return None if pd.isna(value) else value

    sites = [site_of(plain(s), plain(u)) for s, u in zip(docs["site"], docs["url"], strict=True)]
    assert dict(stats["top_sites"]) == dict(pd.Series(sites).value_counts().head(10))
    clusters = docs["near_dup_cluster"].dropna()
    assert stats["near_duplicates"] == {
        "clusters": clusters.nunique(),
        "documents": len(clusters),
    }
    assert sum(stats["encodings"].values()) == len(docs)


def test_stats_of_one_date_and_of_a_missing_one(curated: Path) -> None:
    one = collect(curated, "2026-11-21")
    docs = pd.read_parquet(curated / "documents")
    assert one["documents"] == int((docs["ingest_date"] == "2026-11-21").sum())
    with pytest.raises(LookupError, match="no ingest date 2026-11-22"):
        collect(curated, "2026-11-22")


def test_stats_command(curated: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PREFECT_HOME=str(tmp_path))
    run = subprocess.run(
        [str(EXE), "stats", str(curated), "--json"], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == json.loads(json.dumps(collect(curated)))
    text = subprocess.run([str(EXE), "stats", str(curated)], capture_output=True, text=True)
    assert "removed by reason:" in text.stdout and "2026-11-21" in text.stdout
    missing = subprocess.run(
        [str(EXE), "stats", str(curated), "--date", "2026-11-30"], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no ingest date 2026-11-30" in missing.stderr
    nowhere = subprocess.run(
        [str(EXE), "stats", str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert nowhere.returncode == 2 and "not a folder" in nowhere.stderr


def test_the_readme_pandas_recipes_run(curated: Path) -> None:
    """The README's "Reading the tables" code runs as printed (paths aside)."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"## Reading the tables.*?```python\n(.*?)```", readme, re.S).group(1)
    exec(compile(code.replace('"curated/', f'"{curated}/'), "README.md", "exec"), {})
