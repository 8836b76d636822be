"""What the prose of a list item says: citations written as text (authors, year, quoted
title, venue), bare paper titles, `**Paper:**` labels, system names and leading years.

Pure functions over strings; imports only the standard library.
"""

from __future__ import annotations

import re

from speechgraph.text import LINK_WORDS, STOP_WORDS, word_set

# --- citations written as prose ----------------------------------------------------

# A surname with initials: "Smith, J.", "Smith-Jones, A. B. &". Matched from the start of the
# word (the lookahead finds the capital, also after a hyphen) so that a long run of "A-A-A"
# is read once, not once per capital; the same texts match as with `\b[A-Z][A-Za-z'’-]+,`.
_AUTHOR_SURNAME_FIRST = re.compile(
    r"(?<![A-Za-z'’-])(?=[A-Za-z'’-]*?\b[A-Z][A-Za-z'’-])[A-Za-z'’-]++"
    r",\s(?:[A-Z]\.\s?)+(?:,|\s?&|\.|\s+and\b|\s*\()"
)
_AUTHOR_INITIALS_FIRST = re.compile(
    r"(?:^|,\s|\]\s?)(?:[A-Z]\.\s){1,3}[A-Z][a-z]+(?:[- ][A-Z][a-z]+)?(?:,|\s+and\s)"
)
_YEAR_BLOCK = re.compile(r"\(((?:19|20)\d\d)[a-z]?(?:,\s*[A-Za-z]+\.?)?\)\.?")
_QUOTED_TITLE = re.compile(r"[\"“]([^\"”]{8,}?)[,.]?[\"”]")
_QUOTE_OPEN = re.compile(r"[\"“]")
_QUOTE_CLOSE = re.compile(r"[\"”]")
_VENUE = re.compile(
    r"\b(?:ICASSP|INTERSPEECH|Interspeech|IEEE|Proceedings|Proc\.|Conference|Transactions|"
    r"Letters|Journal|Workshop|Symposium|NeurIPS|ICML|ICLR|ACL|EMNLP|CVPR|arXiv)\b"
)
_ANY_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")


def _quoted_title(text: str) -> re.Match[str] | None:
    """`_QUOTED_TITLE.search(text)` in linear time. A quote that opens no title fails for
    every opening quote before the next closing one too, so the search jumps there."""
    position = 0
    while (opening := _QUOTE_OPEN.search(text, position)) is not None:
        if (match := _QUOTED_TITLE.match(text, opening.start())) is not None:
            return match
        closing = _QUOTE_CLOSE.search(text, opening.start() + 1)
        if closing is None:
            return None
        position = closing.start()
    return None


def is_citation(text: str) -> bool:
    """True for prose written as an academic reference: authors with a year, a quoted
    title or a venue, or a year with a venue."""
    has_author = ("," in text and _AUTHOR_SURNAME_FIRST.search(text) is not None) or (
        "." in text and _AUTHOR_INITIALS_FIRST.search(text) is not None
    )
    has_venue = _VENUE.search(text) is not None
    if has_author and has_venue:
        return True
    if not (has_author or has_venue):
        return False  # most list items: the year and quote searches are skipped
    has_year = "(" in text and _YEAR_BLOCK.search(text) is not None
    return has_year or (('"' in text or "“" in text) and _quoted_title(text) is not None)


def extract_citation(text: str) -> tuple[str | None, int | None]:
    """(title, year) from a citation: the quoted title, or the sentence after the
    "(YEAR[, Month])." block that ends where the venue starts."""
    year_match = _YEAR_BLOCK.search(text)
    year = int(year_match.group(1)) if year_match else None
    title = None
    if quoted := _quoted_title(text):
        title = quoted.group(1)
        if year is None and (later := _ANY_YEAR.search(text, quoted.end())):
            year = int(later.group(1))
    elif year_match:
        rest = text[year_match.end() :].lstrip(" .")
        title = re.split(r"\.(?:\s|$)", rest, maxsplit=1)[0]
    if year is None and (anywhere := _ANY_YEAR.search(text)):
        year = int(anywhere.group(1))
    title = title.strip(" ,.") if title else None
    return title or None, year


def looks_like_title(text: str) -> bool:
    """True for a bare paper title in Title Case ("Emerging Properties in Self-Supervised
    Vision Transformers"), false for sentence-case prose and instructions."""
    words = text.split()
    if not 4 <= len(words) <= 30 or text.endswith((".", "!", ",", ";")) or "(" in text:
        return False
    if not words[0][0].isupper():
        return False
    significant = [word for word in words if word.lower() not in STOP_WORDS]
    capitalised = [word for word in significant if word[0].isupper() or word[0].isdigit()]
    return len(capitalised) >= 0.8 * len(significant)


# --- labels, names and years around links ---------------------------------------------

_LABEL = re.compile(r"^\s*(?:\*\*|__)([A-Za-z][\w ]{0,20}?)\s*(?::\s*(?:\*\*|__)|(?:\*\*|__)\s*:)")
_GENERIC_WORDS = word_set(
    "repo repository github code website homepage slides e-book ebook docs documentation "
    "api tutorial course demo video paper pdf link here blog introduction overview series "
    "book"
)
_ORG_SUFFIX = re.compile(r"\s+[-–—]\s+.*$")
_ORG_YEAR = re.compile(r"\s*\(([^()]*?),?\s*((?:19|20)\d\d)\)\s*$")
_YEAR_PREFIX = re.compile(r"^\s*((?:19|20)\d\d)[.,:]\s")


def split_label(raw: str) -> tuple[str, int]:
    """("paper", end offset) for a line starting `**Paper:**`; ("", 0) without a label."""
    match = _LABEL.match(raw) if "**" in raw or "__" in raw else None
    return (match.group(1).strip().lower(), match.end()) if match else ("", 0)


def leading_year(text: str) -> int | None:
    """The year a list item starts with, as in "2023. [Title](url)"."""
    match = _YEAR_PREFIX.match(text)
    return int(match.group(1)) if match else None


def drop_leading_year(text: str) -> str:
    return _YEAR_PREFIX.sub("", text)


def system_name(text: str) -> tuple[str, int | None]:
    """A system's name from "Whisper - OpenAI" or "Whisper (OpenAI, 2022)", with the year."""
    year = None
    if match := _ORG_YEAR.search(text):
        year, text = int(match.group(2)), text[: match.start()]
    return _ORG_SUFFIX.sub("", text).strip(" -:"), year


def is_name(text: str) -> bool:
    """A short name ("Whisper", "Meta SpiritLM"), not a generic link text ("GitHub repo")."""
    words = text.split()
    return (
        0 < len(words) <= 4
        and "/" not in text
        and not any(word.lower().strip(".,:") in _GENERIC_WORDS for word in words)
    )


def is_title_like(text: str) -> bool:
    """Link text that can stand as a title ("CTC", "Speak, Read and Prompt"), unlike
    "X-vector Paper" or "[pdf]"."""
    words = text.lower().split()
    return bool(words) and not any(word.strip(".,:[]") in LINK_WORDS for word in words)
