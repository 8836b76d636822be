"""The reading lists the catalogue holds, as plain rows for `speechgraph lists`: where each was
read from, how many mentions and papers it has, when it was last read. (Their removal is a
write: `writes.Writer.remove_list`.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select

from speechgraph.catalogue.schema import Mention, ReadingList
from speechgraph.catalogue.store import Store


@dataclass(frozen=True)
class ListSummary:
    name: str
    location: str  # the path or URL it was read from ("snapshot (was …)" when only that was)
    mentions: int
    papers: int  # distinct catalogue papers its mentions resolved to
    read_at: datetime | None  # when a refresh last read it

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "location": self.location,
            "mentions": self.mentions,
            "papers": self.papers,
            "last_refresh": self.read_at.isoformat(timespec="seconds") if self.read_at else None,
        }


def list_summaries(store: Store) -> list[ListSummary]:
    """Every reading list of the catalogue, by name."""
    counts = (
        select(  # type: ignore[call-overload]
            Mention.list_id,
            func.count(col(Mention.id)).label("mentions"),
            func.count(func.distinct(Mention.paper_id)).label("papers"),
        )
        .group_by(col(Mention.list_id))
        .subquery()
    )
    query = (
        select(  # type: ignore[call-overload]
            ReadingList.name,
            ReadingList.location,
            func.coalesce(counts.c.mentions, 0),
            func.coalesce(counts.c.papers, 0),
            ReadingList.read_at,
        )
        .outerjoin(counts, counts.c.list_id == ReadingList.id)
        .order_by(col(ReadingList.name))
    )
    with store.reading() as session:
        rows = session.exec(query).all()
    return [
        ListSummary(name, location, int(mentions), int(papers), read_at)
        for name, location, mentions, papers, read_at in rows
    ]
