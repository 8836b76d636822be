"""Refresh end to end on the real seed lists: offline from the snapshot, online against fake
arXiv and Semantic Scholar servers on 127.0.0.1, and every way it must fail without harm."""

from __future__ import annotations

import csv
import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from conftest import FACTS_DIR, INGEST_DIR
from fake_arxiv import FakeArxiv, status_response
from fake_s2 import FakeS2, server_error
from speechgraph.catalogue.queries import catalogue_stats, citation_pairs, get_paper, load_papers
from speechgraph.catalogue.snapshot import load_snapshot
from speechgraph.catalogue.store import open_db
from speechgraph.clients.arxiv import ArxivClient
from speechgraph.clients.citations import CitationClient
from speechgraph.config import Settings
from speechgraph.errors import ArxivUnavailable, ReadingListError
from speechgraph.records import PaperRecord
from speechgraph.update.refresh import refresh_catalogue


def read_tsv(name: str) -> list[dict[str, str]]:
    with (FACTS_DIR / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE))


def facts_ids() -> set[str]:
    return {row["arxiv_id"] for row in read_tsv("arxiv_facts.tsv")}


def text_reference_ids() -> set[str]:
    return {
        row["resolved_arxiv_id"]
        for row in read_tsv("text_references.tsv")
        if row["status"] == "on-arxiv"
    }


def file_digest(settings: Settings) -> str:
    return hashlib.sha256((settings.data_dir / "speechgraph.db").read_bytes()).hexdigest()


def catalogue_state(settings: Settings) -> dict[str, object]:
    store = open_db(settings.db_url)
    papers = {
        paper.id: (paper.title, paper.version, paper.abstract) for paper in load_papers(store)
    }
    stats = catalogue_stats(store)
    store.dispose()
    return {"papers": papers, "mentions": stats["mentions"], "version": stats["catalogue_version"]}


# --- offline ----------------------------------------------------------------------------------


def test_offline_build_has_every_linked_paper_and_resolved_text_reference(
    seed_settings: Settings,
) -> None:
    store = open_db(seed_settings.db_url)
    papers = {paper.id: paper for paper in load_papers(store)}
    stats = catalogue_stats(store)
    store.dispose()
    assert facts_ids() <= set(papers), facts_ids() - set(papers)
    assert text_reference_ids() <= set(papers), text_reference_ids() - set(papers)
    assert len(papers) == len(facts_ids() | text_reference_ids())
    assert stats["reading_lists"] == 5
    deep_speech = papers["1412.5567"]
    assert deep_speech.title == "Deep Speech: Scaling up end-to-end speech recognition"
    assert deep_speech.authors[0] == "Awni Hannun" and deep_speech.year == 2014
    assert deep_speech.note and deep_speech.abstract is None
    assert {mention.list for mention in deep_speech.mentions} == {"voice-models-25"}


def test_offline_facts_match_the_verified_table(seed_settings: Settings) -> None:
    store = open_db(seed_settings.db_url)
    papers = {paper.id: paper for paper in load_papers(store)}
    store.dispose()
    # Where the table leaves an author list unverified or partial, ingest/verified_facts.json
    # gives the list checked by hand.
    checked = json.loads((INGEST_DIR / "verified_facts.json").read_text(encoding="utf-8"))
    for row in read_tsv("arxiv_facts.tsv"):
        paper = papers[row["arxiv_id"]]
        assert paper.title == row["title"]
        assert paper.published == date(int(row["year"]), int(row["month"]), 1)
        verified = [
            name for name in row["authors"].split("; ") if "?" not in name and "et al" not in name
        ]
        if row["arxiv_id"] in checked["papers"]:
            verified = checked["papers"][row["arxiv_id"]]["authors"]
        assert paper.authors == verified
        if row["primary_category"]:
            assert paper.categories[0] == row["primary_category"]


def test_titles_the_facts_table_could_not_verify_come_from_the_citation(
    seed_settings: Settings,
) -> None:
    store = open_db(seed_settings.db_url)
    titles = {paper.id: paper.title for paper in load_papers(store)}
    store.dispose()
    assert not [title for title in titles.values() if "not shown" in title or title.endswith("?)")]
    # SphereFace's title was checked by hand (ingest/verified_facts.json), not taken from a list.
    assert titles["1704.08063"] == "SphereFace: Deep Hypersphere Embedding for Face Recognition"
    assert titles["2405.06289"] == "Look Once to Hear: Target Speech Hearing with Noisy Examples"


def test_text_citations_resolve_to_the_ids_of_the_facts_table(seed_settings: Settings) -> None:
    store = open_db(seed_settings.db_url)
    cycle_gan = get_paper(store, "1711.11293")
    whisper = get_paper(store, "2212.04356")
    store.dispose()
    assert [mention.kind for mention in cycle_gan.mentions] == ["text"]
    assert cycle_gan.mentions[0].list == "awesome-speech"
    assert {mention.list for mention in whisper.mentions} == {
        "generative-speech",
        "ai-speech-engineer-roadmap",
        "voice-models-25",
    }


def test_offline_rerun_is_idempotent(seed_copy: Settings) -> None:
    before = catalogue_state(seed_copy)
    report = refresh_catalogue(seed_copy, offline=True, update_index=False)
    after = catalogue_state(seed_copy)
    assert report.new == [] and report.failed == []
    assert after["papers"] == before["papers"]
    assert after["mentions"] == before["mentions"]


def test_missing_configured_list_falls_back_to_the_snapshot(
    seed_copy: Settings, tmp_path: Path
) -> None:
    ingest = tmp_path / "ingest"
    ingest.mkdir()
    (ingest / "snapshot.json").write_bytes(seed_copy.snapshot_file.read_bytes())
    (ingest / "sources.toml").write_text(
        '[[list]]\nname = "awesome-speech"\npath = "gone/awesome.md"\n', encoding="utf-8"
    )
    settings = seed_copy.with_overrides(ingest_dir=ingest)
    report = refresh_catalogue(settings, offline=True, update_index=False)
    (awesome,) = report.lists
    assert awesome["origin"] == "snapshot" and awesome["papers"] > 15
    assert "gone/awesome.md" in awesome["warning"]


# --- bad input: one clear error, nothing changed -----------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        (b"\x00\x01\x02garbage\xff\xfe" * 200, "binary"),
        (b"# My list\n\n* [A blog](https://example.com/post)\n", "no paper links"),
    ],
)
def test_bad_extra_list_is_refused_and_catalogue_untouched(
    seed_copy: Settings, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "list.md"
    if content is not None:
        path.write_bytes(content)
    before = file_digest(seed_copy)
    with pytest.raises(ReadingListError, match=message) as error:
        refresh_catalogue(seed_copy, offline=True, extra_lists=[str(path)])
    assert str(path) in str(error.value)
    assert file_digest(seed_copy) == before


def test_unreachable_list_url_is_a_clear_error(seed_copy: Settings) -> None:
    url = "http://127.0.0.1:9/lists/awesome.md"  # port 9 (discard) is closed here
    with pytest.raises(ReadingListError, match="could not be downloaded"):
        refresh_catalogue(
            seed_copy.with_overrides(http_timeout=2.0),
            offline=False,
            extra_lists=[url],
            arxiv_client=object(),
        )


def test_refresh_interrupted_while_storing_leaves_the_previous_catalogue(
    seed_copy: Settings,
) -> None:
    before = catalogue_state(seed_copy)

    def interrupt(stage: str, done: int, total: int) -> None:
        if stage == "store" and done == total // 2:
            raise KeyboardInterrupt

    with sqlite3.connect(seed_copy.data_dir / "speechgraph.db") as connection:
        connection.execute("UPDATE paper SET title = 'old ' || id")  # the rerun rewrites each one
    changed = catalogue_state(seed_copy)
    with pytest.raises(KeyboardInterrupt):
        refresh_catalogue(seed_copy, offline=True, progress=interrupt, update_index=False)
    assert catalogue_state(seed_copy) == changed
    assert changed["version"] == before["version"]


# --- online against fake servers ---------------------------------------------------------------


def live_records(settings: Settings) -> list[PaperRecord]:
    """What a fake arXiv serves: the snapshot's facts plus an abstract we make up here."""
    snapshot = load_snapshot(settings.snapshot_file)
    return [
        replace(
            entry.record,
            abstract=f"Test abstract for {entry.record.arxiv_id}.",
            version=entry.record.version or 1,
            categories=entry.record.categories or ["eess.AS"],
            source="arxiv",
        )
        for entry in snapshot.papers.values()
    ]


def arxiv_client(fake: FakeArxiv) -> ArxivClient:
    return ArxivClient(fake.url, delay_seconds=0.0, max_retries=1, timeout=3.0, backoff_base=0.1)


def citation_client(fake: FakeS2, cache: Path) -> CitationClient:
    return CitationClient(
        fake.base_url, delay_seconds=0.0, max_retries=1, cache_dir=cache, backoff_base=0.1
    )


def s2_papers_citing(pairs: dict[str, list[str]]) -> dict[str, dict]:
    return {
        citing: {
            "paperId": hashlib.sha1(citing.encode()).hexdigest(),
            "externalIds": {"ArXiv": citing},
            "title": f"paper {citing}",
            "year": 2020,
            "citationCount": 10,
            "referenceCount": len(cited),
            "references": [
                {
                    "paperId": hashlib.sha1(c.encode()).hexdigest(),
                    "externalIds": {"ArXiv": c},
                    "title": c,
                    "year": 2017,
                }
                for c in cited
            ],
        }
        for citing, cited in pairs.items()
    }


def test_online_refresh_fetches_abstracts_keeps_notes_and_stores_citations(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    records = live_records(fresh_settings)
    newer = next(record for record in records if record.arxiv_id == "2006.11477")
    newer.version = 3
    made_up = PaperRecord(
        arxiv_id="2101.00001",
        title="Dimensionality reduction by learning an invariant mapping",
        authors=["Test Author"],
        published=date(2006, 6, 1),
        abstract="Made-up record for the title search.",
    )
    citations = s2_papers_citing({"2106.06103": ["2010.05646", "1706.03762", "2106.06103"]})
    with FakeArxiv([*records, made_up]) as arxiv, FakeS2(citations) as s2:
        report = refresh_catalogue(
            fresh_settings,
            offline=False,
            update_index=False,
            arxiv_client=arxiv_client(arxiv),
            citation_client=citation_client(s2, tmp_path / "s2"),
        )
        id_requests = [request for request in arxiv.requests if request.id_list]
        assert all(len(request.id_list) <= 100 for request in id_requests)
    assert report.failed == []
    assert len(report.new) == len(records) + 1
    assert report.resolved.get("title-search") == 1
    assert report.citations["edges"] == 2
    store = open_db(fresh_settings.db_url)
    vits = get_paper(store, "2106.06103")
    wav2vec2 = get_paper(store, "2006.11477")
    found = get_paper(store, "2101.00001")
    pairs = citation_pairs(store)
    store.dispose()
    assert vits.abstract == "Test abstract for 2106.06103." and vits.note
    assert vits.source == "arxiv"
    assert wav2vec2.version == 3
    assert found.mentions[0].resolution == "title-search"
    assert found.mentions[0].resolution_score and found.mentions[0].resolution_score >= 0.9
    assert ("2106.06103", "2010.05646") in pairs and ("2106.06103", "2106.06103") not in pairs


def test_online_rerun_fetches_only_what_is_new_or_stale(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    records = live_records(fresh_settings)
    with FakeArxiv(records) as arxiv:
        client = arxiv_client(arxiv)
        refresh_catalogue(
            fresh_settings, offline=False, citations=False, update_index=False, arxiv_client=client
        )
        first = len(arxiv.requests)
        report = refresh_catalogue(
            fresh_settings, offline=False, citations=False, update_index=False, arxiv_client=client
        )
        id_requests = [request for request in arxiv.requests[first:] if request.id_list]
    assert id_requests == []
    assert report.new == [] and len(report.unchanged) == len(records)


def test_unknown_arxiv_id_is_reported_as_failed(fresh_settings: Settings, tmp_path: Path) -> None:
    listing = tmp_path / "mine.md"
    listing.write_text(
        "# Mine\n\n* [Real](https://arxiv.org/abs/2106.06103)\n* [Ghost](https://arxiv.org/abs/2312.99999v2)\n"
    )
    ingest = tmp_path / "ingest"
    ingest.mkdir()
    settings = fresh_settings.with_overrides(ingest_dir=ingest)
    with FakeArxiv(live_records(fresh_settings)) as arxiv:
        report = refresh_catalogue(
            settings,
            offline=False,
            citations=False,
            update_index=False,
            extra_lists=[str(listing)],
            arxiv_client=arxiv_client(arxiv),
        )
    assert report.new == ["2106.06103"]
    assert report.failed == [{"id": "2312.99999", "reason": "arXiv does not know this id"}]


def test_no_network_is_a_clear_error_and_leaves_the_catalogue(seed_copy: Settings) -> None:
    before = file_digest(seed_copy)
    client = ArxivClient(
        "http://127.0.0.1:9/api/query", delay_seconds=0, max_retries=1, timeout=1, backoff_base=0.1
    )
    with pytest.raises(ArxivUnavailable, match=r"127\.0\.0\.1:9"):
        refresh_catalogue(seed_copy, offline=False, full=True, arxiv_client=client)
    assert file_digest(seed_copy) == before


def test_arxiv_failing_mid_refresh_leaves_the_catalogue(seed_copy: Settings) -> None:
    before = file_digest(seed_copy)
    with FakeArxiv(live_records(seed_copy)) as arxiv:
        arxiv.enqueue(*[status_response(503, {"Retry-After": "0"})] * 5)
        with pytest.raises(ArxivUnavailable):
            refresh_catalogue(seed_copy, offline=False, full=True, arxiv_client=arxiv_client(arxiv))
    assert file_digest(seed_copy) == before


def test_citation_service_failure_keeps_the_metadata_and_says_so(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    with FakeArxiv(live_records(fresh_settings)) as arxiv, FakeS2({}) as s2:
        s2.fail_next(*[server_error(500)] * 5)
        report = refresh_catalogue(
            fresh_settings,
            offline=False,
            update_index=False,
            arxiv_client=arxiv_client(arxiv),
            citation_client=citation_client(s2, tmp_path / "s2"),
        )
    assert report.citations["status"] == "failed"
    assert any("citations skipped" in warning for warning in report.warnings)
    assert len(report.new) > 80


def test_report_json_has_the_documented_keys(seed_copy: Settings) -> None:
    report = refresh_catalogue(seed_copy, offline=True, update_index=False)
    data = json.loads(json.dumps(report.to_json()))
    assert set(data["counts"]) == {"new", "updated", "unchanged", "failed", "unresolved"}
    assert data["mode"] == "offline"
    assert all(
        {"list", "section", "reference", "reason"} <= set(item) for item in data["unresolved"]
    )


KILLED_REFRESH = """
import sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import make_settings
from speechgraph.update.refresh import refresh_catalogue

def pause_half_way(stage, done, total):
    if stage == "store" and done == total // 2:
        print("half-way", flush=True)
        time.sleep(60)

refresh_catalogue(make_settings(Path({data!r})), offline=True, progress=pause_half_way)
"""


def test_refresh_killed_half_way_leaves_the_previous_catalogue(seed_copy: Settings) -> None:
    with sqlite3.connect(seed_copy.data_dir / "speechgraph.db") as connection:
        connection.execute("UPDATE paper SET title = 'old ' || id")  # the rerun rewrites each one
    before = catalogue_state(seed_copy)
    script = KILLED_REFRESH.format(tests=str(Path(__file__).parent), data=str(seed_copy.data_dir))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "half-way"
        with sqlite3.connect(seed_copy.data_dir / "speechgraph.db", timeout=0.1) as connection:
            assert connection.execute("SELECT COUNT(*) FROM paper").fetchone()[0] > 0
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert catalogue_state(seed_copy) == before
    with sqlite3.connect(seed_copy.data_dir / "speechgraph.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
