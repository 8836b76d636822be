"""Text every layer compares the same way: titles in comparable form, how alike two titles are,
and the one list of stop words.

Pure functions over strings.
"""

from __future__ import annotations

import difflib
import re
import unicodedata


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text`; keeps long constant lists readable."""
    return frozenset(text.split())


# English function words, plus the two words that never say what a paper is about. Keyword
# queries drop them, Title Case detection lets them stay lowercase, topic labels skip them.
STOP_WORDS = word_set(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each else
    even ever every few for from further get got had has have having he her here hers him his
    how i if in into is it its itself just me might more most must my no nor not of off on once
    only or other our ours out over own per same she should so some such than that the their
    theirs them then there these they this those through thus to too under until up upon us
    very via vs vs. was we were what when where whether which while who whom why will with
    within without would yet you your yours use used uses using paper papers"""
)

# Research boilerplate: frequent in every abstract, so it names no topic.
RESEARCH_WORDS = word_set(
    """propose proposed proposes present presents introduce introduces introduced model models
    approach approaches method methods based results result new show shows
    work works study framework task tasks performance improves improve improved achieves data
    training trained train later earlier like well better way makes make single small simple
    strong widely standard original main large-scale"""
)

# Link texts that point at "the paper" (or its code) without naming it: never a name or a title.
LINK_WORDS = word_set("paper pdf arxiv abs html link here code repo slides project blog survey")


def normalize_title(title: str) -> str:
    """Lowercase, strip accents and punctuation, collapse whitespace: the form titles compare in."""
    decomposed = unicodedata.normalize("NFKD", title)
    no_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = re.sub(r"[\W_]+", " ", no_accents.casefold())
    return " ".join(words.split())


def title_similarity(a: str, b: str) -> float:
    """Similarity in [0, 1] of two titles, compared in `normalize_title` form.

    score = (SequenceMatcher ratio of the two strings + Dice overlap of their word sets) / 2,
    where Dice = 2·|A∩B| / (|A| + |B|). The character ratio forgives typos and punctuation; the
    word overlap stops a title that differs by one meaningful word (a sequel, "Recognition" vs
    "Translation") from scoring high just because most characters agree.
    """
    left, right = normalize_title(a), normalize_title(b)
    if not left or not right:
        return 0.0
    ratio = difflib.SequenceMatcher(None, left, right).ratio()
    left_words, right_words = set(left.split()), set(right.split())
    dice = 2 * len(left_words & right_words) / (len(left_words) + len(right_words))
    return (ratio + dice) / 2


# Characters that steer a terminal or the direction of text rather than show anything: C0 and C1
# controls (ESC starts terminal escape sequences) and the bidirectional overrides and isolates.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """`text` as shown anywhere: whitespace runs collapsed to one space, control characters
    (terminal escapes, bidirectional overrides) dropped, so that no title or list text can
    steer the terminal it is printed on."""
    if not text.isprintable():
        text = _CONTROLS.sub("", text)
    return " ".join(text.split())


def shorten(text: str, width: int = 90) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
