"""The offline snapshot in ingest/: facts, our notes and list mentions; enough for a catalogue.

Reads the snapshot file into plain records and writes one from a catalogue. The snapshot never
holds abstracts: those are arXiv's text, fetched live and kept only in the user's own database.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.queries import papers_in_session
from speechgraph.catalogue.store import Store
from speechgraph.errors import SnapshotError
from speechgraph.files import atomic_write_text
from speechgraph.records import Mention, PaperRecord, Resolution, Resource

SNAPSHOT_FORMAT = 1


@dataclass
class SnapshotPaper:
    record: PaperRecord
    note: str | None = None
    aliases: list[str] = field(default_factory=list)
    topic: str | None = None
    builds_on: list[str] = field(default_factory=list)
    compares_with: list[str] = field(default_factory=list)  # baselines, kept out of builds_on


@dataclass
class SnapshotList:
    name: str
    location: str
    mentions: list[Mention]
    resolutions: list[Resolution | None]
    resources: list[Resource]
    resource_papers: list[str | None]  # the paper each resource was attached to


@dataclass
class Snapshot:
    papers: dict[str, SnapshotPaper]
    lists: dict[str, SnapshotList]

    def resolution_for(self, list_name: str, mention: Mention) -> Resolution | None:
        """The recorded resolution of the same reference in the same list, if any."""
        recorded = self.lists.get(list_name)
        if recorded is None:
            return None
        key = reference_key(mention)
        for candidate, resolution in zip(recorded.mentions, recorded.resolutions, strict=True):
            if resolution is not None and reference_key(candidate) == key:
                return resolution
        return None


def reference_key(mention: Mention) -> str:
    """A line-independent key for a mention: its kind and normalised reference text."""
    text = mention.reference or mention.link_text or mention.title or ""
    return mention.kind + ":" + re.sub(r"[^0-9a-z]+", " ", text.lower()).strip()[:160]


def load_snapshot(path: Path) -> Snapshot:
    """Read the snapshot. Raises SnapshotError naming the file and how to regenerate it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(
            f"offline snapshot {path} is missing: restore it from the repository "
            "or run `speechgraph snapshot` on a catalogue"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SnapshotError(f"offline snapshot {path} is unreadable ({error})") from None
    if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(
            f"offline snapshot {path} has an unknown format: expected format {SNAPSHOT_FORMAT}"
        )
    try:
        papers = {entry["id"]: _paper_from_json(entry) for entry in data["papers"]}
        lists = {entry["name"]: _list_from_json(entry) for entry in data["lists"]}
    except (KeyError, TypeError, ValueError) as error:
        raise SnapshotError(f"offline snapshot {path} is malformed ({error!r})") from None
    return Snapshot(papers=papers, lists=lists)


def snapshot_from_catalogue(store: Store) -> dict[str, Any]:
    """The snapshot of a catalogue as JSON-ready data: facts, notes, mentions; no abstracts."""
    with store.reading() as session:
        return _snapshot_data(session)


def _snapshot_data(session: Session) -> dict[str, Any]:
    papers = [_paper_to_json(view) for view in papers_in_session(session)]
    lists = []
    for reading_list in session.exec(
        select(models.ReadingList).order_by(col(models.ReadingList.name))
    ):
        mentions = session.exec(
            select(models.Mention)
            .where(models.Mention.list_id == reading_list.id)
            .order_by(col(models.Mention.line), col(models.Mention.id))
        ).all()
        resources = session.exec(
            select(models.Resource)
            .where(models.Resource.list_id == reading_list.id)
            .order_by(col(models.Resource.line), col(models.Resource.id))
        ).all()
        lists.append(
            {
                "name": reading_list.name,
                "location": reading_list.location,
                "mentions": [_mention_row_to_json(row) for row in mentions],
                "resources": [_resource_row_to_json(row) for row in resources],
            }
        )
    return {"format": SNAPSHOT_FORMAT, "papers": papers, "lists": lists}


def write_snapshot(data: dict[str, Any], path: Path) -> None:
    """Write atomically: a crash leaves the previous snapshot in place."""
    atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def _paper_to_json(view: Any) -> dict[str, Any]:
    return {
        "id": view.id,
        "version": view.version,
        "title": view.title,
        "authors": view.authors,
        "published": view.published.isoformat() if view.published else None,
        "categories": view.categories,
        "primary_category": view.primary_category,
        "doi": view.doi,
        "aliases": view.aliases,
        "topic": view.topic,
        "builds_on": view.builds_on,
        # Read with getattr until catalogue views carry the field (the store does not keep it yet).
        "compares_with": view.compares_with,
        "note": view.note,
    }


def _paper_from_json(entry: dict[str, Any]) -> SnapshotPaper:
    published = date.fromisoformat(entry["published"]) if entry.get("published") else None
    record = PaperRecord(
        arxiv_id=entry["id"],
        title=entry["title"],
        authors=list(entry.get("authors") or []),
        published=published,
        version=entry.get("version"),
        categories=list(entry.get("categories") or []),
        primary_category=entry.get("primary_category"),
        doi=entry.get("doi"),
        source="snapshot",
    )
    return SnapshotPaper(
        record=record,
        note=entry.get("note"),
        aliases=list(entry.get("aliases") or []),
        topic=entry.get("topic"),
        builds_on=list(entry.get("builds_on") or []),
        compares_with=list(entry.get("compares_with") or []),
    )


_MENTION_FIELDS = [f.name for f in fields(Mention) if f.name not in ("resources", "list_name")]


def _mention_row_to_json(row: models.Mention) -> dict[str, Any]:
    return {
        "section": row.section,
        "link_text": row.link_text,
        "line": row.line,
        "kind": row.kind,
        "url": row.url,
        "arxiv_id": row.paper_id if row.resolution == "link" else None,
        "version": row.linked_version,
        "doi": row.doi,
        "title": row.title,
        "year": row.year,
        "reference": row.reference,
        "paper_id": row.paper_id,
        "resolution": row.resolution,
        "resolution_score": row.resolution_score,
        "resolution_detail": row.resolution_detail,
    }


def _resource_row_to_json(row: models.Resource) -> dict[str, Any]:
    return {
        "url": row.url,
        "kind": row.kind,
        "text": row.text,
        "section": row.section,
        "line": row.line,
        "paper_id": row.paper_id,
    }


def _list_from_json(entry: dict[str, Any]) -> SnapshotList:
    mentions = [
        Mention(list_name=entry["name"], **{key: item.get(key) for key in _MENTION_FIELDS})
        for item in entry["mentions"]
    ]
    for mention in mentions:
        mention.reference = mention.reference or ""
    resolutions = [
        Resolution(
            item["paper_id"],
            item.get("resolution") or "snapshot",
            item.get("resolution_score"),
            item.get("resolution_detail"),
        )
        if item.get("paper_id")
        else None
        for item in entry["mentions"]
    ]
    raw_resources = entry.get("resources", [])
    resources = [
        Resource(item["url"], item["kind"], item["text"], item["section"], item["line"])
        for item in raw_resources
    ]
    resource_papers = [item.get("paper_id") for item in raw_resources]
    return SnapshotList(
        entry["name"], entry["location"], mentions, resolutions, resources, resource_papers
    )
