"""What a catalogue's texts say, derived paper by paper: the names each paper goes by (stored, so
that the name index of a large field is read, not recomputed), and the relations its title and
abstract state to earlier papers, with our curation as a labelled overlay.

A relation's `origin` is "curation" when it rests on our data (a note, a builds-on or
compares-with list, or a name only our aliases give the target) and "text" when the paper's own
title or abstract states it with a name the data gives; without curation only the latter count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from speechgraph.knowledge.introduced import IntroducedName, introduced_names
from speechgraph.knowledge.names import (
    MethodName,
    find_names,
    make_name,
    names_of,
    resolve_claims,
    tokenize,
)
from speechgraph.knowledge.relations import (
    BUILDS_ON,
    COMPARES_WITH,
    NameIndex,
    TextRelation,
    expand_name_index,
    prune_by_date,
    relations_of,
)
from speechgraph.records import PaperView, Relation, StoredName

TEXT, CURATION = "text", "curation"
INTRODUCED = "introduced"
CURATED_LIST_CONFIDENCE = {BUILDS_ON: 0.85, COMPARES_WITH: 0.8}


def paper_names(paper: PaperView) -> list[StoredName]:
    """Every name `paper` goes by: its aliases, its title's head and usable link texts
    (`names.names_of`), and the names its abstract introduces."""
    found = [StoredName(paper.id, name.text, name.source) for name in names_of(paper)]
    # an introduced name that only our aliases also give is kept: without curation it is the
    # paper's own
    known = {tuple(tokenize(name.text)) for name in found if name.source != "alias"}
    for name in introduced_names(paper.title, paper.abstract):
        if tuple(tokenize(name.text)) not in known:
            found.append(StoredName(paper.id, name.text, INTRODUCED, round(name.confidence, 4)))
    return found


def name_index(names: Iterable[StoredName], *, curated: bool = True) -> NameIndex:
    """The index `relations_of` matches against: each name by its tokens, a name claimed by
    several papers kept for the most trusted claims, introduced names and their variants added
    as `relations.expand_name_index` does. Without `curated`, our aliases are left out."""
    claims: list[MethodName] = []
    introduced: dict[str, list[IntroducedName]] = {}
    for name in names:
        if name.source == "alias" and not curated:
            continue
        if name.source == INTRODUCED:
            introduced.setdefault(name.paper_id, []).append(
                IntroducedName(name.text, name.confidence, INTRODUCED)
            )
        elif (made := make_name(name.paper_id, name.text, name.source)) is not None:
            claims.append(made)
    return expand_name_index(resolve_claims(claims), introduced)


def relations_among(papers: Sequence[PaperView]) -> list[Relation]:
    """Every relation the given papers state to one another (names and dates from them alone):
    what `update.derive` stores for a catalogue, for a set of papers held in hand."""
    names = [name for paper in papers for name in paper_names(paper)]
    curated, uncurated = name_index(names, curated=True), name_index(names, curated=False)
    dates = {paper.id: paper.submitted for paper in papers}
    return [
        relation for paper in papers for relation in relations_for(paper, curated, uncurated, dates)
    ]


def relations_for(
    paper: PaperView,
    names: NameIndex,
    uncurated: NameIndex,
    dates: Mapping[str, date | str | None],
) -> list[Relation]:
    """The relations `paper` states, earlier papers only. `names` is the index with our
    aliases, `uncurated` the one without: a relation found only through an alias, in our note
    or in our curated lists is a curation relation."""
    stated = relations_of(paper.id, paper.title, paper.abstract, names, note=paper.note)
    plain = {(found.target_id, found.kind) for found in stated}
    if any(_rests_on_curation(relation, names) for relation in stated):
        plain = {
            (found.target_id, found.kind)
            for found in relations_of(paper.id, paper.title, paper.abstract, uncurated)
        }
    found = [_with_origin(relation, plain) for relation in stated]
    found += _curated_list_relations(paper, names)
    kept = prune_by_date(found, dates)  # type: ignore[arg-type]
    return _strongest([relation for relation in kept if isinstance(relation, Relation)])


def _rests_on_curation(relation: TextRelation, names: NameIndex) -> bool:
    """True when our note states it or the name matched is one only our aliases may give: then
    whether the text alone states it takes a pass without them."""
    if relation.field == "note":
        return True
    claims = names.get(tuple(tokenize(relation.name)), [])
    return any(name.source == "alias" for name in claims if name.paper_id == relation.target_id)


def _with_origin(relation: TextRelation, plain: set[tuple[str, str]]) -> Relation:
    from_text = relation.field != "note" and (relation.target_id, relation.kind) in plain
    return Relation(
        relation.source_id,
        relation.target_id,
        relation.kind,
        relation.name,
        relation.evidence,
        relation.confidence,
        TEXT if from_text else CURATION,
    )


def _curated_list_relations(paper: PaperView, names: NameIndex) -> list[Relation]:
    """Our builds-on and compares-with lists, each entry matched to a catalogue paper."""
    found = []
    for kind, entries in ((BUILDS_ON, paper.builds_on), (COMPARES_WITH, paper.compares_with)):
        verb = "builds on" if kind == BUILDS_ON else "compares with"
        for entry in entries:
            for _, name in find_names(entry, names):
                if name.paper_id == paper.id:
                    continue
                found.append(
                    Relation(
                        paper.id,
                        name.paper_id,
                        kind,
                        name.text,
                        f"our notes list '{name.text}' among the methods it {verb}",
                        CURATED_LIST_CONFIDENCE[kind] * name.trust,
                        CURATION,
                    )
                )
    return found


def _strongest(relations: Sequence[Relation]) -> list[Relation]:
    """One relation per target and kind: a text one over a curated one, then the most
    confident (so that without curation nothing the text states is lost)."""
    best: dict[tuple[str, str], Relation] = {}
    for relation in relations:
        key = (relation.target_id, relation.kind)
        current = best.get(key)
        if current is None or _rank(relation) > _rank(current):
            best[key] = relation
    return sorted(best.values(), key=lambda r: (-r.confidence, r.target_id, r.kind))


def _rank(relation: Relation) -> tuple[bool, float]:
    return (relation.origin == TEXT, relation.confidence)
