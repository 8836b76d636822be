"""Relations a paper's text states to earlier catalogue papers: builds on, compares with, mentions.

Each name of another catalogue paper found in the title or abstract (the longest name wins, as in
`knowledge.names`) becomes a relation typed by the nearest cue in the same clause ("based on X",
"outperforms X", "X-based", "X as a baseline"; see `knowledge.cues`), with the sentence as
evidence. Also the date rule of prerequisites (`submitted_before`). Pure functions over strings
and the name index; imports `ids` and the `knowledge` modules names, cues, introduced, sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from speechgraph.ids import parse_arxiv_id
from speechgraph.knowledge.cues import (
    BUILDS_ON,
    COMPARES_WITH,
    MENTIONS,
    UNRELATED,
    Typing,
    is_background,
    type_by_cues,
)
from speechgraph.knowledge.introduced import IntroducedName, introduced_names
from speechgraph.knowledge.names import MethodName, NameIndex, find_names, title_name, tokenize
from speechgraph.knowledge.sentences import split_sentences

RELATION_KINDS = (BUILDS_ON, COMPARES_WITH, MENTIONS)

# Confidence before the name's trust, the cue's distance and ambiguity are applied.
BASE_CONFIDENCE = {BUILDS_ON: 0.8, COMPARES_WITH: 0.75, MENTIONS: 0.5}
TITLE_DEFAULT_CONFIDENCE = 0.65  # a title naming another method, no cue: it is built on
WEAK_CUE_FACTOR = 0.85  # "uses X", "over X": usually but not always the relation
DISTANCE_STEP = 0.02  # confidence lost per word between the cue and the name
OWN_NAME_CONFIDENCE = 0.6  # introduced names at or above this are the paper's own

_TOKEN = re.compile(r"\+\+|[a-z]+|\d+")
_DOT_ZERO = re.compile(r"(\d)\.0\b")


@dataclass(frozen=True)
class TextRelation:
    """What paper `source_id`'s text says about catalogue paper `target_id`.

    `name` is the catalogue name matched, `evidence` the sentence (or the title) verbatim, `cue`
    the words that typed the relation (None for a bare mention), `field` where it was found.
    """

    source_id: str
    target_id: str
    kind: str
    name: str
    evidence: str
    confidence: float
    cue: str | None = None
    field: str = "abstract"


def _token_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the tokens of `names.tokenize(text)`, in the same order."""
    # ".0" becomes two spaces instead of vanishing, so offsets still point into `text`.
    lowered = _DOT_ZERO.sub(lambda match: match.group(1) + "  ", text).lower()
    return [match.span() for match in _TOKEN.finditer(lowered)]


def _own_spans(tokens: list[str], own: set[tuple[str, ...]]) -> set[int]:
    """Token positions covered by one of the paper's own names."""
    covered: set[int] = set()
    for name in own:
        for start in range(len(tokens) - len(name) + 1):
            if tuple(tokens[start : start + len(name)]) == name:
                covered.update(range(start, start + len(name)))
    return covered


def _is_later_version(
    text: str, tokens: list[str], spans: list[tuple[int, int]], after: int
) -> bool:
    """True when a version number 2 or higher follows the name closely ("CosyVoice2",
    "CosyVoice 2", "LRS-3"): the text names another work than the catalogue's."""
    if after >= len(tokens) or not tokens[after].isdigit() or int(tokens[after]) < 2:
        return False
    return text[spans[after - 1][1] : spans[after][0]] in ("", " ", "-")


def own_name_tokens(
    paper_id: str,
    title: str,
    abstract: str | None,
    names: NameIndex,
) -> set[tuple[str, ...]]:
    """Token forms of the names the paper gives itself: its title's "X:", the names its abstract
    introduces (confidence >= OWN_NAME_CONFIDENCE) and its own entries in `names`."""
    own = {tuple(tokenize(head)) for head in [title_name(title)] if head}
    own |= {
        tuple(tokenize(name.text))
        for name in introduced_names(title, abstract)
        if name.confidence >= OWN_NAME_CONFIDENCE
    }
    index = names if isinstance(names, NameIndex) else NameIndex(names)
    own |= index.by_paper.get(paper_id, set())
    return {key for key in own if key}


def _relations_in(
    paper_id: str,
    text: str,
    field: str,
    names: NameIndex,
    own: set[tuple[str, ...]],
) -> Iterable[TextRelation]:
    tokens = tokenize(text)
    spans = _token_spans(text)
    typed = len(spans) == len(tokens)  # a tokenizer change upstream makes every match a mention
    covered = _own_spans(tokens, own)
    for position, name in find_names(text, names):
        length = len(name.tokens)
        if name.paper_id == paper_id or name.tokens in own:
            continue
        if covered & set(range(position, position + length)):
            continue  # "Conformer" inside the paper's own "Fast Conformer"
        if typed and _is_later_version(text, tokens, spans, position + length):
            continue  # "CosyVoice2", "LRS3": a later or different work of that name
        typing = Typing(MENTIONS, None, 0, True)
        if typed:
            typing = type_by_cues(text, spans[position][0], spans[position + length - 1][1])
        if typing.kind == UNRELATED:
            continue
        if typing.kind == BUILDS_ON and field != "title" and is_background(text):
            typing = Typing(MENTIONS, None, 0, True)
        kind, base = typing.kind, BASE_CONFIDENCE[typing.kind]
        if field == "title" and typing.cue is None:
            kind, base = BUILDS_ON, TITLE_DEFAULT_CONFIDENCE
        confidence = base * (1.0 if typing.strong else WEAK_CUE_FACTOR)
        confidence *= (1 - DISTANCE_STEP * typing.words) * name.trust / len(names[name.tokens])
        yield TextRelation(
            paper_id, name.paper_id, kind, name.text, text, round(confidence, 3), typing.cue, field
        )


def relations_of(
    paper_id: str,
    title: str,
    abstract: str | None,
    names: NameIndex,
    *,
    note: str | None = None,
) -> list[TextRelation]:
    """The relations paper `paper_id`'s title, abstract (and our note, where curation is on) state
    to the papers in `names` (the index of `knowledge.names.catalogue_names`).

    One relation per target and kind, the most confident evidence kept; a bare mention is dropped
    where the same target is also built on or compared with. A paper never relates to itself, and
    its own names (see `own_name_tokens`) are never mentions of another paper of that name.
    """
    own = own_name_tokens(paper_id, title, abstract, names)
    found: list[TextRelation] = list(_relations_in(paper_id, title, "title", names, own))
    for field, text in (("abstract", abstract), ("note", note)):
        for sentence in split_sentences(text or ""):
            found += _relations_in(paper_id, sentence, field, names, own)
    best: dict[tuple[str, str], TextRelation] = {}
    for relation in found:
        key = (relation.target_id, relation.kind)
        if key not in best or relation.confidence > best[key].confidence:
            best[key] = relation
    typed = {target for target, kind in best if kind != MENTIONS}
    kept = [r for (target, kind), r in best.items() if kind != MENTIONS or target not in typed]
    return sorted(kept, key=lambda r: (-r.confidence, r.target_id, r.kind))


def expand_name_index(
    names: NameIndex,
    introduced: Mapping[str, Sequence[IntroducedName]],
    *,
    threshold: float = OWN_NAME_CONFIDENCE,
) -> NameIndex:
    """`names` plus each paper's introduced names at or above `threshold`, plus the other ways
    every name gets written (`name_variants`), for catalogues without curated aliases.

    An introduced name enters as a "title" name (the paper's own naming, like its title's "X:").
    A name already in `names` keeps its claims; a new name claimed by several papers keeps the most
    confident claims; a variant never displaces a name some paper actually uses.
    """
    merged = NameIndex({key: list(named) for key, named in names.items()})
    new_claims: dict[tuple[str, ...], list[tuple[float, MethodName]]] = {}
    for paper_id, found in introduced.items():
        for name in found:
            made = _method_name(paper_id, name.text)
            if name.confidence >= threshold and made is not None and made.tokens not in merged:
                new_claims.setdefault(made.tokens, []).append((name.confidence, made))
    for tokens, claims in new_claims.items():
        top = max(confidence for confidence, _ in claims)
        merged[tokens] = [made for confidence, made in claims if confidence == top]
    # An all-capitals name ("ACCENT", "JETS") is an acronym: the ordinary word it spells is not it.
    merged = NameIndex(
        {key: [_with_capitals_kept(claim) for claim in named] for key, named in merged.items()}
    )
    variants = NameIndex()
    for named in merged.values():
        for claim in named:
            for text in name_variants(claim.text):
                made = _method_name(claim.paper_id, text, claim.source)
                if made is not None and made.tokens not in merged:
                    variants.setdefault(made.tokens, []).append(made)
    return NameIndex(merged | variants)


def name_variants(text: str) -> list[str]:
    """Other ways a name is written: joined ("Fast Conformer" -> "FastConformer"), split at its
    inner capitals ("SeamlessM4T" -> "Seamless M4T", as in "Seamless-M4T"), without a release
    suffix ("OWSM v3.1" -> "OWSM")."""
    words = text.split()
    found = []
    if 1 < len(words) <= 3 and all(re.fullmatch(r"[A-Z][A-Za-z]*", word) for word in words):
        found.append("".join(words))
    split = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    if split != text:
        found.append(split)
    bare = re.sub(r"\s+v\d+(?:\.\d+)*$", "", text)
    if bare != text:
        found.append(bare)
    return found


def _with_capitals_kept(name: MethodName) -> MethodName:
    if name.case_sensitive or not re.fullmatch(r"[A-Z][A-Z0-9+\-]*[A-Z0-9+]", name.text):
        return name
    return MethodName(name.paper_id, name.text, name.source, name.tokens, True)


def _method_name(paper_id: str, text: str, source: str = "title") -> MethodName | None:
    tokens = tuple(tokenize(text))
    return MethodName(paper_id, text, source, tokens, _is_plain_phrase(text)) if tokens else None


def _is_plain_phrase(text: str) -> bool:
    """Plain English words ("Deep Speech", "Sort Loss") must keep their capitals to match."""
    words = text.split()
    return len(words) > 1 and not any(re.search(r"[\d\-+.]|.[A-Z]", word) for word in words)


def prune_by_date(
    relations: Iterable[TextRelation], dates: Mapping[str, date | str | None]
) -> list[TextRelation]:
    """The relations whose target was submitted before their source (unknown order is kept)."""
    return [
        relation
        for relation in relations
        if submitted_before(
            relation.target_id,
            dates.get(relation.target_id),
            relation.source_id,
            dates.get(relation.source_id),
        )
        is not False
    ]


# --- the date rule -------------------------------------------------------------------------------


def _precise_date(value: date | str | None) -> tuple[int, ...] | None:
    """(year,), (year, month) or (year, month, day) from a date or an ISO prefix string."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return (value.year, value.month, value.day)
    parts = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", value.strip())
    if parts is None:
        return None
    return tuple(int(part) for part in parts.groups() if part is not None)


def _arxiv_month(paper_id: str) -> tuple[tuple[int, int], int | None] | None:
    """((year, month), number within the month) of an arXiv id; the number only for new-style
    ids, whose numbers are handed out in submission order."""
    parsed = parse_arxiv_id(paper_id)
    if parsed is None:
        return None
    arxiv_id = parsed[0]
    if "/" in arxiv_id:  # old style: hep-th/9901001, numbered per archive
        digits = arxiv_id.split("/")[1]
        year = int(digits[:2])
        return ((1900 + year if year >= 91 else 2000 + year, int(digits[2:4])), None)
    year_month, number = arxiv_id.split(".")
    return ((2000 + int(year_month[:2]), int(year_month[2:])), int(number))


def submitted_before(
    a_id: str, a_date: date | str | None, b_id: str, b_date: date | str | None
) -> bool | None:
    """Whether paper a was submitted before paper b: True, False, or None when unknown.

    A paper submitted after X is never a prerequisite of X. Full dates (year-month-day) decide
    where both are known; two new-style arXiv ids of the same month are ordered by their number,
    the submission order. Ties are never "before" (False). Where only months or years are known
    and they are equal, the order is unknown (None). Pass "YYYY-MM" for a date whose day is not
    known: a `date` object is taken as a full date.
    """
    if a_id == b_id:
        return False
    a_month, a_number = _arxiv_month(a_id) or (None, None)
    b_month, b_number = _arxiv_month(b_id) or (None, None)
    if a_month is not None and a_month == b_month and a_number is not None and b_number is not None:
        return a_number < b_number
    a_when = _precise_date(a_date) or a_month
    b_when = _precise_date(b_date) or b_month
    if a_when is None or b_when is None:
        return None
    common = min(len(a_when), len(b_when))
    if a_when[:common] != b_when[:common]:
        return a_when[:common] < b_when[:common]
    return False if common == 3 else None
