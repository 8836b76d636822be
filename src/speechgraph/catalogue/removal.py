"""What removing a reading list takes with it: the papers no other list mentions and no import
or harvest brought, and the citation stubs only they cited. Queries inside the writer's
transaction (`writes.Writer.remove_list` does the deleting)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.schema import Citation, Paper, PaperOrigin, in_chunks

FIELD_ORIGINS = ("import", "harvest")  # origins a reading list's removal never takes back


@dataclass(frozen=True)
class ListRemoval:
    """What `Writer.remove_list` deleted."""

    name: str
    mentions: int
    papers: list[str]  # the papers only this list brought
    stubs: int  # citation stubs nothing cites any more


def mentioned_elsewhere(session: Session, list_id: int | None, ids: set[str]) -> set[str]:
    found: set[str] = set()
    for chunk in in_chunks(ids):
        found.update(
            paper_id
            for paper_id in session.exec(
                select(models.Mention.paper_id).where(
                    col(models.Mention.list_id) != list_id, col(models.Mention.paper_id).in_(chunk)
                )
            ).all()
            if paper_id
        )
    return found


def brought_by_field(session: Session, ids: set[str]) -> set[str]:
    """Those of `ids` that an import or a harvest brought (a list alone never keeps them)."""
    found: set[str] = set()
    for chunk in in_chunks(ids):
        found.update(
            session.exec(
                select(PaperOrigin.paper_id).where(
                    col(PaperOrigin.origin).in_(FIELD_ORIGINS), col(PaperOrigin.paper_id).in_(chunk)
                )
            ).all()
        )
    return found


def cited_stubs(session: Session, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in in_chunks(ids):
        found.update(
            session.exec(
                select(Citation.cited_id)
                .join(Paper, col(Paper.id) == col(Citation.cited_id))
                .where(col(Citation.citing_id).in_(chunk), col(Paper.is_stub).is_(True))
            ).all()
        )
    return found


def uncited(session: Session, stub_ids: set[str]) -> list[str]:
    """Those of `stub_ids` that no citation and no mention points to any more."""
    still: set[str] = set()
    for chunk in in_chunks(stub_ids):
        still.update(
            session.exec(select(Citation.cited_id).where(col(Citation.cited_id).in_(chunk))).all()
        )
        still.update(
            paper_id
            for paper_id in session.exec(
                select(models.Mention.paper_id).where(col(models.Mention.paper_id).in_(chunk))
            ).all()
            if paper_id
        )
    return sorted(stub_ids - still)
