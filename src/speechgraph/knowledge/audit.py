"""Catalogue health: mislabelled links, one paper linked in several forms, unresolved links
and unresolved text citations.

A link text is judged right when it resembles the paper's title, names the paper by a
well-known name (`names.lookup_names`), or cites its first author.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from speechgraph.catalogue.queries import list_mentions, load_papers, stored_names
from speechgraph.catalogue.store import Store
from speechgraph.knowledge.derive import INTRODUCED
from speechgraph.knowledge.names import lookup_names
from speechgraph.records import ARXIV, PaperView
from speechgraph.text import LINK_WORDS, normalize_title, title_similarity

TITLE_LIKE = 0.6  # link texts are often shortened titles: "ECAPA-TDNN: Emphasized Channel ..."
INTRODUCED_TRUST = 0.7  # names an abstract introduces at least this surely count as the paper's
_ACRONYM_WORD = re.compile(r"^[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*$")


@dataclass
class AuditReport:
    mislabelled: list[dict[str, Any]] = field(default_factory=list)
    several_forms: list[dict[str, Any]] = field(default_factory=list)
    unresolved_links: list[dict[str, Any]] = field(default_factory=list)
    unresolved_citations: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": {
                "mislabelled": len(self.mislabelled),
                "several_forms": len(self.several_forms),
                "unresolved_links": len(self.unresolved_links),
                "unresolved_citations": len(self.unresolved_citations),
            },
            "mislabelled": self.mislabelled,
            "several_forms": self.several_forms,
            "unresolved_links": self.unresolved_links,
            "unresolved_citations": self.unresolved_citations,
        }


def audit_catalogue(store: Store) -> AuditReport:
    papers = {paper.id: paper for paper in load_papers(store)}
    mentions = list_mentions(store)
    introduced = introduced_keys(store)
    report = AuditReport()
    for mention in mentions:
        paper = papers.get(mention["paper_id"] or "")
        if mention["kind"] == ARXIV and paper is not None and mention["resolution"] == "link":
            finding = judge_label(mention, paper, papers.values(), introduced)
            if finding is not None:
                report.mislabelled.append(finding)
        elif mention["paper_id"] is None:
            target = (
                report.unresolved_citations
                if mention["kind"] != ARXIV or not mention["url"]
                else report.unresolved_links
            )
            target.append(_unresolved(mention))
    report.several_forms = _several_forms(mentions, papers)
    return report


def introduced_keys(store: Store) -> dict[str, list[str]]:
    """The names each paper's own title and abstract introduce (`knowledge.introduced`, stored
    by `speechgraph index`), in `normalize_title` form: what the texts call a paper without our
    curation."""
    keys: dict[str, list[str]] = defaultdict(list)
    for name in stored_names(store):
        if name.source == INTRODUCED and (name.confidence or 0.0) >= INTRODUCED_TRUST:
            keys[name.paper_id].append(normalize_title(name.text))
    return keys


def judge_label(
    mention: dict[str, Any],
    paper: PaperView,
    catalogue: Iterable[PaperView],
    introduced: dict[str, list[str]] | None = None,
) -> dict[str, Any] | None:
    """A finding when the link text names something other than the paper it links.

    A text fits when it resembles the title, abbreviates it ("Dialogue GSLM" for "Generative
    Spoken Dialogue Language Modeling") or cites the first author, or when the most specific
    name it contains is the linked paper's (its aliases, its title's head, the names its abstract
    introduces: `introduced`): "Tacotron 2" names 1712.05884 even though it contains "Tacotron",
    the name of 1703.10135.
    """
    texts = _label_texts(mention)
    if not texts or any(_resembles(text, paper) for text in texts):
        return None
    named = _most_specific_names(texts, catalogue, introduced or {})
    if paper.id in named:
        return None
    other = next(iter(named.values())) if len(named) == 1 else None
    return {
        "list": mention["list"],
        "section": mention["section"],
        "line": mention["line"],
        "link_text": mention["link_text"],
        "url": mention["url"],
        "linked_id": paper.id,
        "linked_title": paper.title,
        "names_instead": {"id": other.id, "title": other.title} if other else None,
        "reason": (
            f"the text names {other.id} ({other.title})"
            if other
            else "the text matches neither the title, a known name nor the first author"
        ),
    }


def _label_texts(mention: dict[str, Any]) -> list[str]:
    """The link text, and the table cell around it ('DeepSpeech (Hannun et al.)') if any."""
    texts = [mention["link_text"], mention["reference"]]
    useful = []
    for text in texts:
        cleaned = (text or "").strip()
        if cleaned and normalize_title(cleaned) not in LINK_WORDS and cleaned not in useful:
            useful.append(cleaned)
    return useful


def _resembles(text: str, paper: PaperView) -> bool:
    normalized = normalize_title(text.rstrip(". …"))
    if not normalized:
        return True
    if normalize_title(paper.title).startswith(normalized):
        return True
    return (
        title_similarity(text, paper.title) >= TITLE_LIKE
        or _cites_first_author(text, paper)
        or _abbreviates(text, paper.title)
    )


def _abbreviates(text: str, title: str) -> bool:
    """Whether `text` is the title's acronym with some of its words: each capitalised short word
    ("GSLM") spells initials of the title's words in order, and every other word is in the title
    ("Dialogue GSLM" for "Generative Spoken Dialogue Language Modeling")."""
    words = text.split()
    acronyms = [word for word in words if _ACRONYM_WORD.match(word) and len(word) >= 3]
    if not acronyms:
        return False
    title_words = normalize_title(title.replace("-", " ")).split()
    initials = "".join(word[0] for word in title_words)
    others = [normalize_title(word) for word in words if word not in acronyms]
    return all(_spells(acronym.lower(), initials) for acronym in acronyms) and all(
        word in title_words for word in others if word
    )


def _spells(acronym: str, initials: str) -> bool:
    """Whether the letters of `acronym` appear among `initials` in order, the first one first."""
    if not acronym or not initials or acronym[0] != initials[0]:
        return False
    remaining = iter(initials)
    return all(letter in remaining for letter in acronym if letter.isalpha())


def _is_name_in(name: str, normalized_text: str) -> bool:
    """The name appears in the text as whole words ('Tacotron 2' in 'tacotron 2 google')."""
    key = normalize_title(name)
    compact_text = normalized_text.replace(" ", "")
    if not key:
        return False
    if re.search(rf"(^|\s){re.escape(key)}(\s|$)", normalized_text):
        return True
    return key.replace(" ", "") == compact_text  # "Tacotron2" / "Tacotron 2"


def _cites_first_author(text: str, paper: PaperView) -> bool:
    """'Hannun et al.' is a right label for a paper whose first author is Awni Hannun."""
    match = re.search(r"([A-Z][\w'\-]+)\s+et\s+al", text)
    if not match or not paper.authors:
        return False
    return normalize_title(paper.authors[0]).split()[-1] == normalize_title(match.group(1))


def _most_specific_names(
    texts: Sequence[str], catalogue: Iterable[PaperView], introduced: dict[str, list[str]]
) -> dict[str, PaperView]:
    """The papers whose longest matching name is the longest name any paper matches."""
    best: dict[str, tuple[int, PaperView]] = {}
    for paper in catalogue:
        names = [*lookup_names(paper.title, paper.aliases), *introduced.get(paper.id, ())]
        for text in texts:
            for name in names:
                if _is_name_in(name, normalize_title(text)):
                    length = len(normalize_title(name))
                    if length > best.get(paper.id, (0, paper))[0]:
                        best[paper.id] = (length, paper)
    if not best:
        return {}
    longest = max(length for length, _ in best.values())
    return {paper_id: paper for paper_id, (length, paper) in best.items() if length == longest}


def _several_forms(
    mentions: Sequence[dict[str, Any]], papers: dict[str, PaperView]
) -> list[dict[str, Any]]:
    """Papers reached through more than one link form (abs/pdf/html, versions, text citation)."""
    forms: dict[str, set[str]] = defaultdict(set)
    places: dict[str, list[str]] = defaultdict(list)
    for mention in mentions:
        if mention["paper_id"] is None:
            continue
        form = _form(mention)
        forms[mention["paper_id"]].add(form)
        places[mention["paper_id"]].append(f"{mention['list']}:{mention['line']} {form}")
    return [
        {
            "id": paper_id,
            "title": papers[paper_id].title if paper_id in papers else None,
            "forms": sorted(found),
            "places": places[paper_id],
        }
        for paper_id, found in sorted(forms.items())
        if len(found) > 1
    ]


def _form(mention: dict[str, Any]) -> str:
    if mention["kind"] != ARXIV or not mention["url"]:
        return f"{mention['kind']} citation"
    url = mention["url"]
    kind = next((part for part in ("pdf", "html", "abs") if f"/{part}/" in url), "other")
    version = f"v{mention['linked_version']}" if mention["linked_version"] else "no version"
    return f"arxiv {kind} ({version})"


def _unresolved(mention: dict[str, Any]) -> dict[str, Any]:
    return {
        "list": mention["list"],
        "section": mention["section"],
        "line": mention["line"],
        "kind": mention["kind"],
        "reference": mention["reference"] or mention["link_text"],
        "url": mention["url"],
        "reason": mention["resolution_detail"],
    }
