"""Bulk metadata readers, the import filter and our JSON-lines writer, on the real corpus in
../shared/corpus and on arXiv-snapshot files built from it at test time."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import SHARED_DIR
from speechgraph.clients.bulk import GZIP, PLAIN, ZIP, BadLine, open_bulk
from speechgraph.clients.bulk_filter import (
    CategoryFilter,
    RecordFilter,
    is_about_speech,
    is_speech_record,
    parse_day,
)
from speechgraph.clients.bulk_formats import ARXIV_SNAPSHOT, OUR_JSONL, write_jsonl
from speechgraph.clients.taxonomy import CATEGORIES, code_for_subject_name
from speechgraph.errors import ImportFileError, ImportFilterError
from speechgraph.records import PaperRecord

CORPUS = SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz"
CORPUS_RECORDS = 8469
SRC_DIR = Path(__file__).resolve().parents[1] / "src"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def read_all(path: Path, **options: Any) -> tuple[list[tuple[int, PaperRecord]], list[BadLine]]:
    records: list[tuple[int, PaperRecord]] = []
    bad: list[BadLine] = []
    with open_bulk(path, **options) as source:
        for event in source:
            if isinstance(event, BadLine):
                bad.append(event)
            else:
                records.append(event)
    return records, bad


@pytest.fixture(scope="module")
def corpus_lines() -> list[dict[str, Any]]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def corpus_records() -> list[PaperRecord]:
    records, bad = read_all(CORPUS)
    assert bad == []
    return [record for _, record in records]


# --- building arXiv snapshot lines from corpus records -------------------------------------


def rfc2822(day: date, hour: int = 19) -> str:
    weekday = WEEKDAYS[day.weekday()]
    return f"{weekday}, {day.day} {MONTHS[day.month - 1]} {day.year} {hour:02d}:18:42 GMT"


def split_name(name: str) -> list[str]:
    first, _, last = name.rpartition(" ")
    return [last, first, ""]


def snapshot_object(line: dict[str, Any], number: int) -> dict[str, Any]:
    """The corpus record `line` as arXiv's snapshot writes one: wrapped title and abstract,
    authors as one string plus authors_parsed, categories as one string, versions in RFC 2822."""
    published = date.fromisoformat(line["published"]) if line["published"] else None
    versions = []
    if published:
        later = published + timedelta(days=40)
        versions = [{"version": "v2", "created": rfc2822(later)}]
        versions.insert(number % 2, {"version": "v1", "created": rfc2822(published, hour=9)})
    title_words = line["title"].split()
    return {
        "id": line["id"],
        "submitter": line["authors"][0] if line["authors"] else None,
        "authors": ", ".join(line["authors"]),
        "title": " ".join(title_words[:4]) + "\n  " + " ".join(title_words[4:]),
        "comments": "12 pages,\n 3 figures" if number % 3 == 0 else None,
        "journal-ref": None,
        "doi": f"10.1234/Test.{number} 10.5555/second" if number % 5 == 0 else None,
        "report-no": None,
        "categories": " ".join(line["categories"]),
        "license": "http://creativecommons.org/licenses/by/4.0/",
        "abstract": "  " + line["abstract"].replace(". ", ".\n", 3) + "\n",
        "versions": versions,
        "update_date": (published + timedelta(days=41)).isoformat() if published else None,
        "authors_parsed": [split_name(name) for name in line["authors"]],
    }


def write_snapshot(path: Path, objects: Iterable[dict[str, Any]], compression: str) -> Path:
    text = "".join(json.dumps(obj) + "\n" for obj in objects).encode()
    if compression == GZIP:
        path.write_bytes(gzip.compress(text, compresslevel=1))
    elif compression == ZIP:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("readme.txt", "not metadata")
            archive.writestr("arxiv-metadata-oai-snapshot.json", text)
    else:
        path.write_bytes(text)
    return path


# --- the real corpus -------------------------------------------------------------------------


def test_reads_the_real_corpus(corpus_records: list[PaperRecord]) -> None:
    with open_bulk(CORPUS) as source:
        assert (source.compression, source.format) == (GZIP, None)
        events = list(source)
        assert source.format == OUR_JSONL
        assert source.lines_read == CORPUS_RECORDS
        assert source.bytes_read == source.total_bytes == CORPUS.stat().st_size
    assert len(events) == CORPUS_RECORDS
    assert [number for number, _ in events] == list(range(1, CORPUS_RECORDS + 1))
    assert len({record.arxiv_id for record in corpus_records}) == CORPUS_RECORDS
    assert sum(record.published is None for record in corpus_records) == 207
    assert sum(not record.categories for record in corpus_records) == 50
    assert all(record.source == "import" and record.title for record in corpus_records)

    first = corpus_records[0]
    assert first.arxiv_id == "2009.10277"
    assert first.authors == [
        "Chris J. Kennedy",
        "Geoff Bacon",
        "Alexander Sahn",
        "Claudia von Vacano",
    ]
    assert first.categories[0] == first.primary_category == "cs.CL"
    assert first.published == date(2020, 9, 22)
    assert first.version is None and first.doi is None


def test_corpus_fields_are_the_files_fields(
    corpus_lines: list[dict[str, Any]], corpus_records: list[PaperRecord]
) -> None:
    for line, record in zip(corpus_lines, corpus_records, strict=True):
        assert record.arxiv_id == line["id"]
        assert record.title == " ".join(line["title"].split())
        assert record.abstract == " ".join(line["abstract"].split())
        assert record.authors == line["authors"]
        assert record.categories == line["categories"]
        assert record.published == (
            date.fromisoformat(line["published"]) if line["published"] else None
        )


# --- arXiv's snapshot format: plain, gzip, zip -------------------------------------------------


@pytest.mark.parametrize("compression", [PLAIN, GZIP, ZIP])
def test_snapshot_files_read_back_equal(
    tmp_path: Path,
    corpus_lines: list[dict[str, Any]],
    corpus_records: list[PaperRecord],
    compression: str,
) -> None:
    objects = [snapshot_object(line, number) for number, line in enumerate(corpus_lines)]
    path = write_snapshot(tmp_path / "snapshot.data", objects, compression)
    with open_bulk(path) as source:
        events = list(source)
        assert source.compression == compression
        assert source.format == ARXIV_SNAPSHOT
        assert source.bytes_read > 0
    read = [event[1] for event in events if not isinstance(event, BadLine)]
    assert len(read) == len(events) == CORPUS_RECORDS
    for number, (record, expected) in enumerate(zip(read, corpus_records, strict=True)):
        shared = ("arxiv_id", "title", "authors", "abstract", "categories", "primary_category")
        assert {key: getattr(record, key) for key in shared} == {
            key: getattr(expected, key) for key in shared
        }
        assert record.published == expected.published
        assert record.version == (2 if expected.published else None)
        assert record.updated == (
            expected.published + timedelta(days=41) if expected.published else None
        )
        assert record.doi == (f"10.1234/test.{number}" if number % 5 == 0 else None)
        assert record.comment == ("12 pages, 3 figures" if number % 3 == 0 else None)


def test_snapshot_record_fields(tmp_path: Path) -> None:
    obj = {
        "id": "hep-th/9901001v2",
        "authors": "A. First (MIT), B. Second and C. Third",
        "title": "A title\n  over two lines",
        "comments": "  5 pages  ",
        "journal-ref": "Phys. Rev. D 76,\n 013009 (2007)",
        "doi": "10.1103/PhysRevD.76.013009,10.1000/other",
        "categories": "hep-th gr-qc",
        "abstract": "  Words\nand more words.\n",
        "versions": [
            {"version": "v3", "created": "Tue, 3 Apr 2007 01:00:00 GMT"},
            {"version": "v1", "created": "Sun, 31 Dec 2006 23:30:00 -0200"},
            {"version": "v2", "created": "not a date"},
        ],
        "update_date": "2008-11-13",
        "authors_parsed": [["Balázs", "C.", ""], ["Yuan", "C. -P.", "Jr"], ["Solo"], 7],
    }
    second = {
        "id": "math.GT/0309136",
        "title": "T",
        "authors": "A. First (MIT), B. Second and C. Third",
        "versions": [],
    }
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(obj) + "\n" + json.dumps(second) + "\n")
    (_, record), (_, other) = read_all(path)[0]
    assert record == PaperRecord(
        arxiv_id="hep-th/9901001",
        title="A title over two lines",
        authors=["C. Balázs", "C. -P. Yuan Jr", "Solo"],
        published=date(2007, 1, 1),  # the v1 stamp in UTC
        updated=date(2008, 11, 13),
        version=3,
        categories=["hep-th", "gr-qc"],
        primary_category="hep-th",
        abstract="Words and more words.",
        doi="10.1103/physrevd.76.013009",
        journal_ref="Phys. Rev. D 76, 013009 (2007)",
        comment="5 pages",
        source="import",
    )
    assert other.arxiv_id == "math/0309136"
    assert other.authors == ["A. First", "B. Second", "C. Third"]
    assert (other.published, other.version, other.categories) == (None, None, [])


def test_zip_members_are_read_in_order_with_running_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__MACOSX/._a.json", b"\x00\x05\x16\x07 resource fork")
        archive.writestr("part/a.json", json.dumps({"id": "2101.00001", "title": "A"}) + "\n")
        archive.writestr("b.JSONL", "\n" + json.dumps({"id": "2101.00002", "title": "B"}))
    with open_bulk(path) as source:
        assert source.members == ["part/a.json", "b.JSONL"]
        events = list(source)
    assert [(number, record.arxiv_id) for number, record in events] == [  # type: ignore[union-attr]
        (1, "2101.00001"),
        (3, "2101.00002"),
    ]


def test_format_is_told_by_the_first_object_or_given(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    ours = {"id": "2101.00001", "title": "A", "authors": ["Ann Lee"], "published": "2021-01-02"}
    path.write_text("not json\n" + json.dumps(ours) + "\n")
    with open_bulk(path) as source:
        events = list(source)
        assert source.format == OUR_JSONL
    assert events[0] == BadLine(1, "not JSON (Expecting value at column 1)")
    assert events[1][1].published == date(2021, 1, 2)  # type: ignore[union-attr]

    records, _ = read_all(path, format=ARXIV_SNAPSHOT)
    assert records[0][1].published is None  # the snapshot has no `published` field
    with pytest.raises(ImportFileError, match="unknown format 'csv'; use one of: arxiv, jsonl"):
        open_bulk(path, format="csv")


# --- bad lines and bad files -------------------------------------------------------------------


def test_bad_lines_are_counted_and_never_stop_the_stream(tmp_path: Path) -> None:
    good = {"id": "2006.11477", "title": "Good", "authors": ["A B"], "published": ""}
    lines = [
        json.dumps(good).encode(),
        b"{not json",
        b"[1, 2]",
        b"42",
        json.dumps({"title": "no id"}).encode(),
        json.dumps({"id": "", "title": "empty id"}).encode(),
        json.dumps({"id": "2013.12345", "title": "month 13"}).encode(),
        json.dumps({"id": "1412.12345", "title": "five digits before 2015"}).encode(),
        json.dumps({"id": 704.0001, "title": "a number"}).encode(),
        json.dumps({"id": "2006.11478"}).encode(),
        b"   ",
        b'{"id": "2006.11479", "title": "caf\xe9"}',
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({"id": "2006.11480", "title": "T", "authors": 3}).encode(),
        json.dumps({**good, "id": "arXiv:2006.11481v4"}).encode(),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\r\n".join(lines))
    records, bad = read_all(path)
    assert [(number, record.arxiv_id, record.version) for number, record in records] == [
        (1, "2006.11477", None),
        (15, "2006.11481", 4),
    ]
    assert records[0][1].published is None
    assert bad == [
        BadLine(2, "not JSON (Expecting property name enclosed in double quotes at column 2)"),
        BadLine(3, "not a JSON object but an array"),
        BadLine(4, "not a JSON object but a number"),
        BadLine(5, "no id"),
        BadLine(6, "no id"),
        BadLine(7, "impossible arXiv id '2013.12345'"),
        BadLine(8, "impossible arXiv id '1412.12345'"),
        BadLine(9, "id 704.0001 is not a string"),
        BadLine(10, "no title"),
        BadLine(12, "not UTF-8 text"),
        BadLine(13, "JSON nested too deeply"),
        BadLine(14, "authors is neither a list nor a string"),
    ]


def test_a_line_past_the_cap_is_bad_and_the_next_line_is_read(tmp_path: Path) -> None:
    good = json.dumps({"id": "2101.00001", "title": "A"}).encode()
    at_cap = json.dumps({"id": "2101.00002", "title": "B", "abstract": "x" * 100}).encode()
    huge = json.dumps({"id": "2101.00003", "title": "C", "abstract": "y" * 11_000_000}).encode()
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\n".join([good, huge, good, at_cap, at_cap + b" "]))
    records, bad = read_all(path)
    assert [number for number, _ in records] == [1, 3, 4, 5]
    assert bad == [BadLine(2, "line longer than 10 MB")]

    records, bad = read_all(path, max_line_bytes=len(at_cap))
    assert [number for number, _ in records] == [1, 3, 4]
    assert [number for number, _ in bad] == [2, 5]


def test_a_cut_short_gzip_yields_the_records_before_the_cut(tmp_path: Path) -> None:
    data = CORPUS.read_bytes()
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    records, bad = read_all(path)
    full, _ = read_all(CORPUS)
    assert 3000 < len(records) < CORPUS_RECORDS - 3000
    assert records == full[: len(records)]
    assert bad == [
        BadLine(
            len(records) + 1,
            f"cut.jsonl.gz is cut short: the gzip data ends after line {len(records)}",
        )
    ]


def test_a_damaged_gzip_ends_with_a_bad_event(tmp_path: Path) -> None:
    data = bytearray(CORPUS.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(bytes(data))
    records, bad = read_all(path)
    assert 0 < len(records) < CORPUS_RECORDS
    assert bad[-1].reason.startswith("damaged.jsonl.gz is damaged after line")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty.data is empty; download it again"),
        (b"\xfd7zXZ\x00\x00rest", "is xz-compressed, not JSON lines; decompress it"),
        (b"BZh91AY&SY", "is bzip2-compressed"),
        (b"%PDF-1.7\n", "is a PDF, not JSON lines"),
        (b'{"id": "2101.00001"}\n\x00\x01\x02', "holds binary data, not JSON lines"),
        (b"PK\x03\x04 cut off", "is not a readable zip archive"),
    ],
)
def test_unreadable_files_are_refused_naming_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "empty.data"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=r"empty\.data") as refused:
        open_bulk(path)
    assert message in str(refused.value)


def test_a_zip_without_json_is_refused_saying_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "papers.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "text")
        archive.writestr("__MACOSX/._papers.json", b"\x00\x05")
    with pytest.raises(ImportFileError) as refused:
        open_bulk(path)
    assert str(refused.value) == (
        f"{path} has no .json or .jsonl file inside (it holds readme.txt, "
        "__MACOSX/._papers.json); name the metadata file itself"
    )
    zipfile.ZipFile(path, "w").close()
    with pytest.raises(ImportFileError, match=r"\(it is empty\)"):
        open_bulk(path)


def test_missing_paths_and_directories_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"no file .*nowhere.jsonl; check the path"):
        open_bulk(tmp_path / "nowhere.jsonl")
    with pytest.raises(ImportFileError, match="is a directory"):
        open_bulk(tmp_path)


def test_an_empty_gzip_yields_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none.jsonl.gz"
    path.write_bytes(gzip.compress(b""))
    assert read_all(path) == ([], [])


PEAK_RSS_SCRIPT = """
import sys
from pathlib import Path
from speechgraph.clients.bulk import open_bulk
if sys.argv[2] == "stream":
    with open_bulk(sys.argv[1]) as source:
        count = sum(1 for _ in source)
else:
    count = Path(sys.argv[1]).read_bytes().count(b"\\n")
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
status = Path("/proc/self/status").read_text()
peak_kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
print(count, peak_kib)
"""


def peak_rss_mib(path: Path, how: str) -> tuple[int, float]:
    """(lines or records, peak RSS in MiB) of a fresh child reading `path` `how`."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SCRIPT, str(path), how],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC_DIR)},
    )
    count, peak_kib = map(int, result.stdout.split())
    return count, peak_kib / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_memory_stays_flat_as_the_file_grows(tmp_path: Path) -> None:
    """Peak RSS of a child streaming 8 MB and 400 MB versions of the same file, next to one
    that reads the large file whole (which shows that the measurement sees file-sized memory)."""
    line = json.dumps({"id": "2101.{:05d}", "title": "T", "abstract": "word " * 10_000})
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    for path, count in ((small, 160), (large, 8000)):
        with path.open("w") as out:
            for number in range(count):
                out.write(line.replace("{:05d}", f"{number % 99999 + 1:05d}") + "\n")
    size_mib = large.stat().st_size / 1024 / 1024
    assert size_mib > 380

    small_count, small_peak = peak_rss_mib(small, "stream")
    large_count, large_peak = peak_rss_mib(large, "stream")
    _, whole_peak = peak_rss_mib(large, "whole")
    assert (small_count, large_count) == (160, 8000)
    assert whole_peak > size_mib
    assert large_peak - small_peak < 8, (small_peak, large_peak)


# --- the filter ----------------------------------------------------------------------------------


def paper(categories: list[str], title: str = "A study", abstract: str = "") -> PaperRecord:
    return PaperRecord("2101.00001", title, [], categories=categories, abstract=abstract)


def test_category_prefixes_match_whole_archives_and_codes() -> None:
    speech = CategoryFilter.parse("eess.AS,cs.SD")
    assert speech.matches(paper(["cs.LG", "eess.AS"]))
    assert not speech.matches(paper(["eess.SP"]))
    computer_science = CategoryFilter.parse("cs")
    assert computer_science.matches(paper(["stat.ML", "cs.LG"]))
    assert not computer_science.matches(paper(["csx.LG"]))
    physics = CategoryFilter.parse(" physics , astro-ph ")
    assert physics.matches(paper(["physics.optics"]))
    assert physics.matches(paper(["astro-ph"]))
    assert not physics.matches(paper(["math-ph"]))
    assert CategoryFilter.parse("EESS.as").codes == {"eess.AS"}
    everything = CategoryFilter.parse("all")
    assert everything.matches(paper([])) and everything.describe() == "all"


def test_aliases_and_old_archives_count_as_the_same_category() -> None:
    assert CategoryFilter.parse("eess.SY").matches(paper(["cs.SY"]))
    assert CategoryFilter.parse("cs.CL").matches(paper(["cmp-lg"]))
    assert CategoryFilter.parse("nlin").matches(paper(["chao-dyn"]))
    assert CategoryFilter.parse("cmp-lg").matches(paper(["cmp-lg"]))
    assert not CategoryFilter.parse("cmp-lg").matches(paper(["cs.CL"]))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("eess.AU", "'eess.AU' is not an arXiv category or archive; did you mean eess.AS or"),
        ("cs.SD,speach", "'speach' is not an arXiv category or archive; did you mean speech"),
        ("quantum", "'quantum' is not an arXiv category or archive; did you mean quant-ph?"),
        ("zzz", "'zzz' is not an arXiv category or archive; write codes like eess.AS,cs.SD"),
        ("cs.", "'cs.' is not an arXiv category"),
    ],
)
def test_unknown_categories_are_refused(value: str, message: str) -> None:
    with pytest.raises(ImportFilterError) as refused:
        CategoryFilter.parse(value)
    assert str(refused.value).startswith(message)


def test_default_filter_keeps_speech_and_audio(corpus_records: list[PaperRecord]) -> None:
    default = CategoryFilter.parse(None)
    assert default == CategoryFilter.parse("") == CategoryFilter.parse("speech")
    kept = {record.arxiv_id for record in corpus_records if default.matches(record)}
    by_id = {record.arxiv_id: record for record in corpus_records}
    speech_or_audio = {
        record.arxiv_id
        for record in corpus_records
        if {"eess.AS", "cs.SD"} & set(record.categories)
    }
    language_only = {
        record.arxiv_id
        for record in corpus_records
        if "cs.CL" in record.categories and record.arxiv_id not in speech_or_audio
    }
    assert speech_or_audio <= kept
    assert kept - speech_or_audio <= language_only
    # The corpus kept cs.CL papers with "speech" anywhere: hate speech, part-of-speech tagging
    # and sign language among them. The default keeps 1,111 of its 1,319.
    assert len(kept & language_only) == 1111
    for arxiv_id in ("2106.01045", "2506.22783"):  # speech translation, speech deepfakes
        assert arxiv_id in kept, by_id[arxiv_id].title
    # hate speech, part-of-speech tagging, sign language, sheet music
    for arxiv_id in ("2009.10277", "2608.04808", "2512.08738", "2509.04059"):
        assert arxiv_id not in kept, by_id[arxiv_id].title


def test_speech_terms_in_text() -> None:
    assert is_about_speech("Streaming recognition of spoken commands", None)
    assert is_about_speech("A better tagger", "We tag speech transcripts and acoustic cues.")
    assert not is_about_speech("Detecting hate speech in posts", "Hate speech is common.")
    assert not is_about_speech("A part-of-speech tagger", "Parts of speech for a new language.")
    assert not is_about_speech("Passive voice in legal text", "We count the passive voice.")
    assert not is_about_speech("A sign language corpus", "Signing, not speech or audio.")
    assert is_about_speech("A summariser", "Meeting speech, with speakers and utterances.")
    assert not is_about_speech("A summariser", "The audio tab of the app.")
    assert is_speech_record(paper(["cmp-lg"], "Speech repairs in dialogue"))
    assert not is_speech_record(paper(["cs.LG"], "Speech repairs in dialogue"))


def test_date_range_uses_the_first_version_date(corpus_records: list[PaperRecord]) -> None:
    in_2025 = RecordFilter.parse("all", since="2025", until="2025-12")
    kept = [record for record in corpus_records if in_2025.accepts(record)]
    assert len(kept) == sum(record.year == 2025 for record in corpus_records) > 4000
    no_date = dataclasses.replace(corpus_records[0], published=None)
    assert RecordFilter.parse("all").accepts(no_date)
    assert not RecordFilter.parse("all", until="2030").accepts(no_date)
    since = RecordFilter.parse("all", since="2021-03-04")
    assert since.accepts(dataclasses.replace(no_date, published=date(2021, 3, 4)))
    assert not since.accepts(dataclasses.replace(no_date, published=date(2021, 3, 3)))


def test_dates_are_parsed_to_whole_periods() -> None:
    assert parse_day("2024", "--since", last=False) == date(2024, 1, 1)
    assert parse_day("2024", "--until", last=True) == date(2024, 12, 31)
    assert parse_day("2024-02", "--until", last=True) == date(2024, 2, 29)
    for text in ("2024-13", "2024-02-30", "last year"):
        with pytest.raises(ImportFilterError, match=f"--since '{text}' is not a date"):
            parse_day(text, "--since", last=False)
    with pytest.raises(ImportFilterError, match="--since 2025-01-01 is after --until 2024-12-31"):
        RecordFilter.parse(None, since="2025", until="2024")


# --- our format: export -> import round trip ------------------------------------------------------


def test_export_then_import_round_trips(tmp_path: Path, corpus_records: list[PaperRecord]) -> None:
    enriched = [
        dataclasses.replace(
            record,
            version=number % 4 or None,
            updated=date(2026, 1, 1 + number % 28) if number % 2 else None,
            doi=f"10.1000/x.{number}" if number % 3 == 0 else None,
            journal_ref="Interspeech 2025" if number % 7 == 0 else None,
            comment="Accepted" if number % 11 == 0 else None,
        )
        for number, record in enumerate(corpus_records)
    ]
    path = tmp_path / "export.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        assert write_jsonl(enriched, stream) == CORPUS_RECORDS
    records, bad = read_all(path)
    assert bad == []
    assert [record for _, record in records] == enriched


def test_written_lines_put_the_primary_category_first() -> None:
    record = PaperRecord(
        "2101.00001",
        "Title",
        ["Ann Lee"],
        categories=["cs.CL", "eess.AS"],
        primary_category="eess.AS",
    )
    stream = io.StringIO()
    write_jsonl([record], stream)
    assert json.loads(stream.getvalue()) == {
        "id": "2101.00001",
        "title": "Title",
        "authors": ["Ann Lee"],
        "abstract": None,
        "categories": ["eess.AS", "cs.CL"],
        "published": None,
    }


# --- the taxonomy --------------------------------------------------------------------------------


def test_subject_names_map_to_codes() -> None:
    assert code_for_subject_name("Computer Science - Sound") == "cs.SD"
    assert code_for_subject_name("Computer Science - Learning") == "cs.LG"
    assert code_for_subject_name("Quantum Physics") == "quant-ph"
    assert code_for_subject_name("Astrophysics") == "astro-ph"
    assert code_for_subject_name("High  Energy Physics - Theory") == "hep-th"
    assert code_for_subject_name("Mathematics - Mathematical Physics") == "math.MP"
    assert code_for_subject_name("05A15") is None
    assert len(CATEGORIES) == 155
