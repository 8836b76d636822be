"""Which paper each mention of a reading list points to: arXiv links, resolutions recorded in the
snapshot or by earlier title searches, names, and (online) arXiv title search.

A text citation resolves only on a confident match; every resolution records its method and
score. The resolver returns what it found (`ResolvedList`); the caller stores and reports it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from speechgraph.catalogue.snapshot import Snapshot, reference_key
from speechgraph.clients.arxiv import TITLE_MATCH_THRESHOLD, YEAR_TOLERANCE
from speechgraph.knowledge.names import lookup_names
from speechgraph.knowledge.titles import TitleIndex
from speechgraph.lists.registry import LoadedList
from speechgraph.records import (
    ARXIV,
    Mention,
    PaperRecord,
    Resolution,
    ResolvedList,
    TitleMatch,
    unresolved,
)
from speechgraph.text import normalize_title

log = logging.getLogger(__name__)

MIN_SEARCH_WORDS = 3  # shorter "titles" (i-vector, Whisper) are names, not searchable titles


class TitleSearcher(Protocol):
    """What the resolver needs of the arXiv client."""

    def search_title(self, title: str, year: int | None = None) -> TitleMatch | None: ...


class Resolver:
    """Resolves the mentions of one refresh against the papers it knows."""

    def __init__(
        self,
        snapshot: Snapshot | None,
        known: Iterable[tuple[str, str, Sequence[str]]],
        previous: Iterable[tuple[Mention, Resolution]] = (),
        *,
        curated: bool = True,
    ) -> None:
        """`known`: (id, title, aliases) of the catalogue's papers; `previous`: title-search
        resolutions stored by earlier refreshes, so reruns do not search again. Without
        `curated`, the snapshot's recorded resolutions and aliases are not used: its facts
        (titles, years) are, like any other paper's."""
        self.snapshot = snapshot
        self.curated = curated
        self.searched: dict[str, Resolution] = {}
        self.previous = {reference_key(mention): found for mention, found in previous}
        self.names: dict[str, str] = {}
        self.titles = TitleIndex()
        self.years: dict[str, int | None] = {}
        for paper_id, title, aliases in known:
            self.learn(paper_id, title, aliases)
        if snapshot is not None:
            for paper_id, entry in snapshot.papers.items():
                aliases = entry.aliases if curated else []
                self.learn(paper_id, entry.record.title, aliases, entry.record.year)

    def learn(
        self, paper_id: str, title: str, aliases: Iterable[str], year: int | None = None
    ) -> None:
        """Remember a paper's title, names and year for matching text citations."""
        self.titles.add(paper_id, title)
        if year is not None or paper_id not in self.years:
            self.years[paper_id] = year
        for key in lookup_names(title, aliases):
            self.names.setdefault(key, paper_id)

    def cited_ids(self, lists: Sequence[LoadedList]) -> list[str]:
        """Papers the lists' text citations resolve to without asking arXiv: recorded in the
        snapshot (with curation), or named or titled like a known paper. They must be in the
        catalogue for the citation to resolve, so the refresh brings them in."""
        found = []
        for loaded in lists:
            for mention in loaded.parsed.mentions:
                if _is_linked(mention):
                    continue
                match = self._recorded(loaded.source.name, mention) or self._by_name(mention)
                if match is not None and match.paper_id:
                    found.append(match.paper_id)
        return found

    def search_titles(
        self,
        lists: Sequence[LoadedList],
        records: dict[str, PaperRecord],
        client: TitleSearcher,
        progress: Callable[[str, int, int], None],
    ) -> None:
        """Online: look up on arXiv, by title, the text citations nothing else resolves; the
        papers found join `records`."""
        for record in records.values():
            self.learn(record.arxiv_id, record.title, [])
        pending = {
            reference_key(mention): mention
            for loaded in lists
            for mention in loaded.parsed.mentions
            if self._needs_search(loaded.source.name, mention)
        }
        for done, (key, mention) in enumerate(pending.items(), start=1):
            found = client.search_title(mention.title or "", mention.year)
            progress("titles", done, len(pending))
            if found is None:
                continue
            records.setdefault(found.record.arxiv_id, found.record)
            self.learn(found.record.arxiv_id, found.record.title, [])
            self.searched[key] = Resolution(
                found.record.arxiv_id,
                "title-search",
                round(found.score, 3),
                f"arXiv title search matched {found.record.title!r}",
            )

    def _needs_search(self, list_name: str, mention: Mention) -> bool:
        if _is_linked(mention) or not mention.title:
            return False
        if len(mention.title.split()) < MIN_SEARCH_WORDS:
            return False
        return self._recorded(list_name, mention) is None and self._by_name(mention) is None

    def resolve(self, list_name: str, mention: Mention, known: set[str]) -> Resolution:
        """The paper a mention points to when it can be told with confidence, else an
        unresolved resolution that says why."""
        if mention.kind == ARXIV and mention.arxiv_id:
            if mention.arxiv_id in known:
                return Resolution(mention.arxiv_id, "link")
            return unresolved(unresolved_reason(mention))
        for match in (
            self._recorded(list_name, mention),
            self.searched.get(reference_key(mention)),
            self.previous.get(reference_key(mention)),
            self._by_name(mention),
        ):
            if match is not None and match.paper_id in known:
                return match
        return unresolved(unresolved_reason(mention))

    def resolve_list(self, loaded: LoadedList, location: str, known: set[str]) -> ResolvedList:
        """One list's mentions, each resolved, and its resources with the paper they belong to."""
        mentions = []
        resources: list[tuple[Any, str | None]] = []
        for mention in loaded.parsed.mentions:
            resolution = self.resolve(loaded.source.name, mention, known)
            mentions.append((mention, resolution))
            resources.extend((resource, resolution.paper_id) for resource in mention.resources)
        resources.extend((resource, None) for resource in loaded.parsed.resources)
        return ResolvedList(loaded.source.name, location, loaded.content_hash, mentions, resources)

    def _recorded(self, list_name: str, mention: Mention) -> Resolution | None:
        if self.snapshot is None or not self.curated:
            return None
        return self.snapshot.resolution_for(list_name, mention)

    def _by_name(self, mention: Mention) -> Resolution | None:
        """A citation whose title is a known paper's title or well-known name."""
        candidates = [mention.title, mention.link_text if mention.kind != ARXIV else None]
        for candidate in filter(None, candidates):
            key = normalize_title(candidate)
            if key in self.names:
                return Resolution(self.names[key], "alias", 1.0, f"names {candidate!r}")
        if mention.title and len(mention.title.split()) >= MIN_SEARCH_WORDS:
            best = self.titles.best(mention.title, TITLE_MATCH_THRESHOLD)
            if best is not None and self._year_fits(mention.year, best[1]):
                return Resolution(
                    best[1], "title", round(best[0], 3), "same title as a catalogue paper"
                )
        return None

    def _year_fits(self, cited: int | None, paper_id: str) -> bool:
        """A citation's year, when given, is within a year of the paper's (an arXiv version may
        precede or follow the venue by a year)."""
        year = self.years.get(paper_id)
        return cited is None or year is None or abs(cited - year) <= YEAR_TOLERANCE


def _is_linked(mention: Mention) -> bool:
    return mention.kind == ARXIV and bool(mention.arxiv_id)


def unresolved_reason(mention: Mention) -> str:
    if _is_linked(mention):
        return f"arXiv id {mention.arxiv_id} could not be fetched"
    if not mention.title:
        return "no title could be read from the citation"
    if len(mention.title.split()) < MIN_SEARCH_WORDS:
        return "a name, not a title, and no catalogue paper goes by it"
    return "no confident arXiv match by title"


def unresolved_entry(list_name: str, mention: Mention) -> dict[str, Any]:
    """How the refresh report lists a mention that resolved to nothing."""
    return {
        "list": list_name,
        "section": mention.section,
        "line": mention.line,
        "kind": mention.kind,
        "reference": mention.reference or mention.link_text,
        "url": mention.url,
        "reason": unresolved_reason(mention),
    }
