"""Plain data for choosing papers without listing them all: the scopes a page can look at, and
the few papers a picker offers for what the user typed (the exact id, name or title first,
then the best search hits). No Streamlit here; `ui/` lays it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from speechgraph.catalogue.queries import Filters, listed_among, paper_cards
from speechgraph.catalogue.store import Store
from speechgraph.errors import InvalidPaperId, PaperNotFound, SearchInputError
from speechgraph.knowledge.names import find_paper
from speechgraph.search.hybrid import Searcher, clean_query
from speechgraph.text import shorten

FIELD = "field"
LISTS = "lists"
SCOPES = {
    FIELD: "The field: every paper imported",
    LISTS: "The lists: papers the reading lists mention",
}
PICKER_MATCHES = 8


def scope_filters(scope: str, filters: Filters | None = None) -> Filters:
    """`filters` narrowed to the scope: the lists' scope keeps papers a reading list mentions."""
    base = filters or Filters()
    if scope not in SCOPES:
        raise SearchInputError(f"unknown scope {scope!r}: choose one of {', '.join(SCOPES)}")
    if scope == LISTS and not base.listed_only:
        return Filters(**{**vars(base), "listed_only": True})
    return base


@dataclass(frozen=True)
class Choice:
    """A paper a picker offers: its id, a one-line plain-text label, whether a list mentions it
    and whether it is exactly what the user typed (an id, a name or a whole title)."""

    id: str
    label: str
    listed: bool
    exact: bool = False


@dataclass
class Matches:
    """What a picker offers for one text: the choices (the exact paper first, when the text
    names one) and a line to show instead when there is none (why, and what to do)."""

    choices: list[Choice] = field(default_factory=list)
    message: str | None = None

    @property
    def exact(self) -> Choice | None:
        return self.choices[0] if self.choices and self.choices[0].exact else None


def choice_label(paper_id: str, title: str, year: int | None, listed: bool) -> str:
    """ "Title (year) · id", with "· listed" for a paper a reading list mentions."""
    shown = f"{shorten(title, 80)} ({year or '?'}) · {paper_id}"
    return f"{shown} · listed" if listed else shown


def paper_matches(
    store: Store,
    searcher: Searcher | None,
    text: str,
    *,
    scope: str = FIELD,
    k: int = PICKER_MATCHES,
) -> Matches:
    """The papers a picker offers for `text`: the paper `find_paper` resolves it to (offered in
    either scope: it is what the user named), then up to `k` search hits within `scope`.

    An arXiv id the catalogue lacks offers nothing in its place: the message says so and how to
    add the paper. Without a searcher (no search index yet) only an exact paper is offered."""
    query, _ = clean_query(text)
    if not query:
        return Matches()
    try:
        exact: Choice | None = _exact_choice(store, find_paper(store, query))
    except PaperNotFound as error:
        return Matches(message=str(error))
    except InvalidPaperId:
        exact = None  # not one paper's id or name: the search offers what comes close
    matches = Matches([exact] if exact else [])
    if searcher is not None:
        try:
            hits = searcher.search(query, k, filters=scope_filters(scope)).results
        except SearchInputError as error:
            matches.message = str(error)
            hits = []
        matches.choices += [
            Choice(hit.id, choice_label(hit.id, hit.title, hit.year, hit.listed), hit.listed)
            for hit in hits
            if exact is None or hit.id != exact.id
        ]
    if not matches.choices and matches.message is None:
        matches.message = (
            f"no paper matches {query!r}: try other words, an arXiv id or a paper's name"
        )
    return matches


def _exact_choice(store: Store, paper_id: str) -> Choice:
    card = paper_cards(store, [paper_id]).get(paper_id)
    listed = bool(listed_among(store, [paper_id]))
    title, year = (card.title, card.year) if card else (paper_id, None)  # a stub: id only
    return Choice(paper_id, choice_label(paper_id, title, year, listed), listed, exact=True)
