"""The two JSON-lines formats of bulk metadata, record by record: arXiv's metadata snapshot
(`versions`, `authors_parsed`, `update_date`, ...) and ours (`id, title, authors, abstract,
categories, published`, written by `write_jsonl`), each to and from `PaperRecord`.

Pure functions over parsed JSON; imports only the ground modules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date
from email.utils import parsedate_to_datetime
from typing import Any, TextIO

from speechgraph.ids import parse_arxiv_id, parse_doi
from speechgraph.records import PaperRecord
from speechgraph.text import one_line

ARXIV_SNAPSHOT = "arxiv"  # arXiv's metadata snapshot, as arXiv distributes it
OUR_JSONL = "jsonl"  # ours: `speechgraph export --format jsonl`, ../shared/corpus/*.jsonl*
FORMATS = (ARXIV_SNAPSHOT, OUR_JSONL)
IMPORT_SOURCE = "import"

# Keys only the arXiv snapshot has; `published` is only ours.
_SNAPSHOT_KEYS = frozenset(
    {"versions", "authors_parsed", "update_date", "submitter", "journal-ref", "report-no"}
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_GMT_DATE = re.compile(r"^\w{3}, (\d{1,2}) (\w{3}) (\d{4}) \d{1,2}:\d{2}:\d{2} GMT$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_VERSION = re.compile(r"^v?(\d+)$")
_AUTHOR_SEPARATOR = re.compile(r",|;|\band\b|&")
_PARENTHESES = re.compile(r"\([^()]*\)")


class RecordError(ValueError):
    """A JSON object that is not a usable paper record; the message is the bad line's reason."""


def detect_format(obj: dict[str, Any]) -> str:
    """ARXIV_SNAPSHOT or OUR_JSONL, from the keys of one record (and, when no key decides,
    from whether `authors` is one string, as in the snapshot, or a list, as in ours)."""
    if _SNAPSHOT_KEYS & obj.keys():
        return ARXIV_SNAPSHOT
    if "published" in obj:
        return OUR_JSONL
    return ARXIV_SNAPSHOT if isinstance(obj.get("authors"), str) else OUR_JSONL


def record_from_json(obj: dict[str, Any], format: str) -> PaperRecord:
    """The record for one object of `format`; raises RecordError saying what is wrong."""
    if format == ARXIV_SNAPSHOT:
        return _record_from_snapshot(obj)
    return _record_from_ours(obj)


def _record_from_snapshot(obj: dict[str, Any]) -> PaperRecord:
    paper_id, id_version = _paper_id(obj)
    categories = _categories(obj.get("categories"))
    first_day, newest = _first_day_and_newest_version(obj.get("versions"))
    return PaperRecord(
        arxiv_id=paper_id,
        title=_title(obj),
        authors=_parsed_authors(obj.get("authors_parsed")) or _authors(obj.get("authors")),
        published=first_day,
        updated=_day(obj.get("update_date")),
        version=newest or id_version,
        categories=categories,
        primary_category=categories[0] if categories else None,
        abstract=_text(obj.get("abstract")),
        doi=_doi(obj.get("doi")),
        journal_ref=_text(obj.get("journal-ref")),
        comment=_text(obj.get("comments")),
        source=IMPORT_SOURCE,
    )


def _record_from_ours(obj: dict[str, Any]) -> PaperRecord:
    paper_id, id_version = _paper_id(obj)
    categories = _categories(obj.get("categories"))
    return PaperRecord(
        arxiv_id=paper_id,
        title=_title(obj),
        authors=_authors(obj.get("authors")),
        published=_day(obj.get("published")),
        updated=_day(obj.get("updated")),
        version=_version_number(obj.get("version")) or id_version,
        categories=categories,
        primary_category=categories[0] if categories else None,
        abstract=_text(obj.get("abstract")),
        doi=_doi(obj.get("doi")),
        journal_ref=_text(obj.get("journal_ref")),
        comment=_text(obj.get("comment")),
        source=IMPORT_SOURCE,
    )


def record_to_json(record: PaperRecord) -> dict[str, Any]:
    """One object of our format; the optional fields only when known."""
    categories = list(record.categories)
    primary = record.primary_category
    if primary and primary in categories and categories[0] != primary:
        categories.remove(primary)
        categories.insert(0, primary)
    obj: dict[str, Any] = {
        "id": record.arxiv_id,
        "title": record.title,
        "authors": record.authors,
        "abstract": record.abstract,
        "categories": categories,
        "published": record.published.isoformat() if record.published else None,
    }
    optional = {
        "version": record.version,
        "updated": record.updated.isoformat() if record.updated else None,
        "doi": record.doi,
        "journal_ref": record.journal_ref,
        "comment": record.comment,
    }
    obj.update({key: value for key, value in optional.items() if value is not None})
    return obj


def write_jsonl(records: Iterable[PaperRecord], stream: TextIO) -> int:
    """Write `records` to `stream` in our format, one object per line; the count written."""
    count = 0
    for record in records:
        stream.write(json.dumps(record_to_json(record), ensure_ascii=False))
        stream.write("\n")
        count += 1
    return count


def _paper_id(obj: dict[str, Any]) -> tuple[str, int | None]:
    raw = obj.get("id")
    if raw is None or raw == "":
        raise RecordError("no id")
    if not isinstance(raw, str):
        raise RecordError(f"id {raw!r} is not a string")
    parsed = parse_arxiv_id(raw)
    if parsed is None:
        raise RecordError(f"impossible arXiv id {raw[:40]!r}")
    return parsed


def _title(obj: dict[str, Any]) -> str:
    title = _text(obj.get("title"))
    if not title:
        raise RecordError("no title")
    return title


def _text(value: Any) -> str | None:
    """`value` with whitespace collapsed and control characters dropped; None when absent or
    blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{value!r:.40} is not a string")
    return one_line(value) or None


def _parsed_authors(value: Any) -> list[str]:
    """Names from the snapshot's `authors_parsed`: [last, first, suffix] -> "first last suffix"."""
    if not isinstance(value, list):
        return []
    names = []
    for parts in value:
        if not isinstance(parts, list) or not parts:
            continue
        try:
            name = one_line(" ".join([*parts[1:2], parts[0], *parts[2:3]]))
        except TypeError:  # a part that is not a string
            continue
        if name:
            names.append(name)
    return names


def _authors(value: Any) -> list[str]:
    """A list of names as given, or one string split at commas, semicolons and "and"
    (affiliations in parentheses dropped)."""
    if value is None:
        return []
    if isinstance(value, list):
        given = [name for name in value if isinstance(name, str)]
    elif isinstance(value, str):
        while _PARENTHESES.search(value):
            value = _PARENTHESES.sub(" ", value)
        given = _AUTHOR_SEPARATOR.split(value)
    else:
        raise RecordError("authors is neither a list nor a string")
    names = [one_line(name) for name in given]
    return [name for name in names if name]


def _categories(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(code, str) for code in value):
        return [code.strip() for code in value if code.strip()]
    raise RecordError("categories is neither a list nor a string")


def _first_day_and_newest_version(value: Any) -> tuple[date | None, int | None]:
    """The day the oldest listed version was created, and the newest version's number."""
    if not isinstance(value, list):
        return None, None
    numbered = [
        (number, entry)
        for entry in value
        if isinstance(entry, dict) and (number := _version_number(entry.get("version")))
    ]
    if not numbered:
        return None, None
    oldest = min(numbered, key=lambda version: version[0])
    return _rfc2822_day(oldest[1].get("created")), max(number for number, _ in numbered)


def _version_number(value: Any) -> int | None:
    if type(value) is str and value[:1] == "v" and value[1:].isascii() and value[1:].isdigit():
        return int(value[1:]) or None  # arXiv's own form, "v2", read without the pattern
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _VERSION.match(value.strip()) if isinstance(value, str) else None
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def _rfc2822_day(value: Any) -> date | None:
    """The UTC day of "Mon, 2 Apr 2007 19:18:42 GMT" (fast path for arXiv's GMT stamps)."""
    if not isinstance(value, str):
        return None
    match = _GMT_DATE.match(value.strip())
    try:
        if match and match.group(2) in _MONTHS:
            return date(int(match.group(3)), _MONTHS[match.group(2)], int(match.group(1)))
    except ValueError:
        return None
    try:
        stamp = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return stamp.astimezone(UTC).date() if stamp.tzinfo else stamp.date()


def _day(value: Any) -> date | None:
    """The day of "YYYY-MM-DD" (a longer ISO timestamp is cut to its day); None otherwise."""
    match = _ISO_DAY.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _doi(value: Any) -> str | None:
    """The first DOI of a field that may list several, lowercased."""
    if not isinstance(value, str) or not value.strip():
        return None
    return parse_doi(re.split(r"[\s,;]+", value.strip())[0])
