"""The names papers go by, in one place: which paper a user means by an id, a title or a name
(`find_paper`, used by every command and page), and the method names by which abstracts and
notes refer to earlier papers (`names_of`, `find_names`, for builds-on edges).

A paper answers to its aliases, the part of its title before a colon and its whole title; in
running text, where plain words must not pass for names, only distinctive names count (see
`title_name`) and link texts join them. Matching is by whole tokens, case- and hyphen-
insensitive; the longest name wins at each place.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from speechgraph.catalogue.queries import paper_names
from speechgraph.catalogue.store import Store
from speechgraph.errors import InvalidPaperId, PaperNotFound
from speechgraph.ids import parse_arxiv_id
from speechgraph.records import PaperView
from speechgraph.text import LINK_WORDS, normalize_title

# Trust in a name by where it came from: reading lists sometimes label a link with another
# paper's name ("FastSpeech" linking WaveGlow), so link texts rank below our curated aliases.
NAME_TRUST = {"alias": 1.0, "title": 0.95, "link text": 0.85}
MAX_NAME_WORDS = 4
MAX_NAME_CHARS = 40

_TOKEN = re.compile(r"\+\+|[a-z]+|\d+")
_DOT_ZERO = re.compile(r"(\d)\.0\b")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class MethodName:
    """A name by which `paper_id`'s method is known; `source` is a key of NAME_TRUST."""

    paper_id: str
    text: str
    source: str
    tokens: tuple[str, ...]
    case_sensitive: bool  # plain English words ("Deep Speech") must keep their capitals

    @property
    def trust(self) -> float:
        return NAME_TRUST[self.source]


class NameIndex(dict[tuple[str, ...], list[MethodName]]):
    """Names by token sequence, each with the claims on it. Built once, then only read: the
    longest name and each paper's own names are worked out on first use and kept."""

    @cached_property
    def longest(self) -> int:
        return max((len(key) for key in self), default=0)

    @cached_property
    def by_paper(self) -> dict[str, set[tuple[str, ...]]]:
        owned: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        for key, named in self.items():
            for name in named:
                owned[name.paper_id].add(key)
        return owned


def tokenize(text: str) -> list[str]:
    """Lowercase tokens with letters and digits split apart, so "FastSpeech2" = "FastSpeech 2"."""
    return _TOKEN.findall(_DOT_ZERO.sub(r"\1", text).lower())


def _cased_tokens(text: str) -> list[str]:
    return re.findall(r"\+\+|[A-Za-z]+|\d+", _DOT_ZERO.sub(r"\1", text))


def is_distinctive(name: str) -> bool:
    """True when a name cannot be an ordinary phrase: one word, or a word with digits, inner
    capitals, hyphens or symbols ("HiFi-GAN", "wav2vec 2.0", "CAM++")."""
    words = name.split()
    if len(words) == 1:
        return True
    return any(re.search(r"[\d\-+.]|.[A-Z]", word) for word in words)


def title_name(title: str) -> str | None:
    """The short name before a title's colon ("HiFi-GAN: Generative ..." -> "HiFi-GAN")."""
    head, colon, _ = title.partition(":")
    head = head.strip()
    if not colon or not head or len(head.split()) > MAX_NAME_WORDS or not is_distinctive(head):
        return None
    return head


def _is_usable_link_text(text: str, paper: PaperView) -> bool:
    """A link text names the paper only when short and sharing a word with its title or aliases."""
    if len(text) > MAX_NAME_CHARS or len(text.split()) > MAX_NAME_WORDS or "et al" in text:
        return False
    tokens = set(tokenize(text))
    if not tokens or tokens <= LINK_WORDS:
        return False
    known = set(tokenize(paper.title))
    for alias in paper.aliases:
        known.update(tokenize(alias))
    joined = "".join(tokenize(text))
    return bool(tokens & known) or any(joined == "".join(tokenize(a)) for a in paper.aliases)


def names_of(paper: PaperView) -> list[MethodName]:
    """Every name of one paper, best source first, without repeats."""
    candidates = [(alias, "alias") for alias in paper.aliases]
    if (name := title_name(paper.title)) is not None:
        candidates.append((name, "title"))
    candidates += [
        (mention.link_text, "link text")
        for mention in paper.mentions
        if _is_usable_link_text(mention.link_text, paper)
    ]
    names: dict[tuple[str, ...], MethodName] = {}
    for text, source in candidates:
        made = make_name(paper.id, text, source)
        if made is not None and made.tokens not in names:
            names[made.tokens] = made
    return list(names.values())


def catalogue_names(papers: Sequence[PaperView]) -> NameIndex:
    """Names of all papers by token sequence (see `resolve_claims`)."""
    return resolve_claims(name for paper in papers for name in names_of(paper))


def resolve_claims(names: Iterable[MethodName]) -> NameIndex:
    """Names by token sequence. A name claimed by several papers keeps only the claims from the
    most trusted source ("Tacotron 2" as alias beats "Tacotron 2" as link text)."""
    claims: dict[tuple[str, ...], list[MethodName]] = defaultdict(list)
    for name in names:
        claims[name.tokens].append(name)
    resolved = NameIndex()
    for tokens, named in claims.items():
        best = max(name.trust for name in named)
        resolved[tokens] = [name for name in named if name.trust == best]
    return resolved


def make_name(paper_id: str, text: str, source: str) -> MethodName | None:
    """A name of `paper_id`, or None for text without a token. Plain English words ("Deep
    Speech") must keep their capitals to match."""
    tokens = tuple(tokenize(text))
    if not tokens:
        return None
    return MethodName(paper_id, text.strip(), source, tokens, not is_distinctive(text.strip()))


def find_names(
    text: str, names: dict[tuple[str, ...], list[MethodName]]
) -> list[tuple[int, MethodName]]:
    """The names occurring in `text` as whole tokens, longest first at overlapping places.

    Returns (token position, name) pairs; "FastSpeech" inside "FastSpeech 2" and "Conformer"
    inside "Fast Conformer" are not reported when the longer name is also a catalogue name.
    """
    tokens = tokenize(text)
    cased = _cased_tokens(text)
    max_length = (names if isinstance(names, NameIndex) else NameIndex(names)).longest
    found: list[tuple[int, int, tuple[str, ...]]] = []
    for start in range(len(tokens)):
        for length in range(min(max_length, len(tokens) - start), 0, -1):
            key = tuple(tokens[start : start + length])
            if key in names:
                found.append((start, length, key))
    taken: set[int] = set()
    matches: list[tuple[int, MethodName]] = []
    for start, length, key in sorted(found, key=lambda item: (-item[1], item[0])):
        span = set(range(start, start + length))
        if span & taken:
            continue
        taken |= span
        for name in names[key]:
            if name.case_sensitive and cased[start : start + length] != _cased_tokens(name.text):
                continue
            matches.append((start, name))
    return sorted(matches, key=lambda item: item[0])


# --- which paper the user means -----------------------------------------------------------------


FIND_OR_ADD = (
    "run `speechgraph list` to see its papers or `speechgraph search` to find one; add a paper "
    "with `speechgraph refresh --list FILE`, `speechgraph import FILE` or an online refresh"
)


def lookup_names(title: str, aliases: Iterable[str]) -> list[str]:
    """What a user may call a paper: its aliases, its title's head before a colon ("Less is
    More"), and its whole title; each in `normalize_title` form."""
    head, colon, _ = title.partition(":")
    names = [*aliases, head if colon else "", title]
    return [key for key in dict.fromkeys(normalize_title(name) for name in names) if key]


def find_paper(store: Store, raw: str) -> str:
    """The catalogue id `raw` means: an arXiv id in any form (version, URL, `arXiv:`), an `s2:`
    id, or the name or title of exactly one catalogue paper, in any case and punctuation.

    Raises PaperNotFound for a well-formed id the catalogue lacks, InvalidPaperId for a name
    that names no paper or several (both say what to run)."""
    rows = paper_names(store)
    return match_paper(
        raw, {row[0] for row in rows}, {row[0]: lookup_names(*row[1:]) for row in rows}
    )


def match_paper(raw: str, ids: Iterable[str], names: Mapping[str, Sequence[str]]) -> str:
    """`find_paper` over given ids and `lookup_names` keys (paper id -> keys)."""
    text = raw.strip()
    parsed = parse_arxiv_id(text)
    is_id = parsed is not None or text.startswith("s2:")
    if parsed is not None:
        text = parsed[0]
    if text in set(ids):
        return text
    if is_id:
        raise PaperNotFound(f"{text} is not in the catalogue: {FIND_OR_ADD}")
    wanted = normalize_title(text)
    matches = sorted(paper_id for paper_id, keys in names.items() if wanted and wanted in keys)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InvalidPaperId(f"{raw!r} names several papers ({', '.join(matches)}): give its id")
    raise InvalidPaperId(
        f"{raw!r} is not an arXiv id (like 2106.06103) nor the name of one catalogue paper: "
        f"{FIND_OR_ADD}"
    )
