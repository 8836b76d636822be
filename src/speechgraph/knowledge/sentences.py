"""Sentences of an abstract (or a note), as verbatim slices of it.

Pure functions over strings; imports only `text`. Abstracts are real-world text:
abbreviations ("et al.", "e.g.", "vs."), version names ("wav2vec 2.0", "v3.1"), URLs and LaTeX
math (`$46.3\\%$`) must not end a sentence.
"""

from __future__ import annotations

import re
from itertools import pairwise

from speechgraph.text import word_set

# Words that end with a period without ending the sentence (compared lowercased, no final dot).
ABBREVIATIONS = word_set(
    """e.g i.e vs cf al fig figs eq eqs no nos sec secs approx resp viz ca dr mr ms prof inc
    ltd jr st u.s ref refs tab"""
)

_PROTECTED = re.compile(r"\$\$.+?\$\$|\$[^$]+\$|https?://\S+", re.S)
# Digests sometimes drop the space after a period ("corpora.However"): lowercase word, period,
# then a capitalised word also ends a sentence.
_CANDIDATE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)|(?<=[a-z\])]{2})\.(?=[A-Z][a-z])")
# A sentence starts with a capital, a digit, an opening mark, or a lowercase name ("wav2vec 2.0
# masks ...", "dGSLM is ...", "pyannote.audio also ...").
_SENTENCE_START = re.compile(r"\s*(?:[\"'“‘(\[$\\]|[A-Z0-9]|[a-z]+(?:\d|[A-Z]|\.[a-z]))")
_WORD_BEFORE = re.compile(r"(\S+)$")


def _protected_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _PROTECTED.finditer(text):
        end = match.end()
        if match.group().startswith("http"):
            # A URL ending a sentence keeps its text but gives the final period back.
            end -= len(match.group()) - len(match.group().rstrip(".,;:)"))
        spans.append((match.start(), end))
    return spans


def _is_abbreviation(text: str, period: int) -> bool:
    match = _WORD_BEFORE.search(text, 0, period)
    if match is None:
        return False
    word = match.group(1).lstrip("([\"'").lower()
    if word in ABBREVIATIONS:
        return True
    # "J. Smith": a single capital letter is an initial, not the end of a sentence.
    if len(word) == 1 and text[match.start(1)].isupper():
        return True
    return word.isdigit() and len(word) <= 2 and _is_list_marker(text, match.start(1))


def _is_list_marker(text: str, start: int) -> bool:
    """ "1. First ... 2. Second": a small number opening a sentence or following a colon."""
    before = text[:start].rstrip()
    return not before or before[-1] in ".:;)" or text[start - 1] == "\n"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence of `text`, whitespace trimmed."""
    protected = _protected_spans(text)
    cuts = [0]
    for match in _CANDIDATE_END.finditer(text):
        position = match.start()
        if any(start <= position < end for start, end in protected):
            continue
        rest = text[match.end() :]
        if rest.strip() and not _SENTENCE_START.match(rest):
            continue
        if text[position] == "." and _is_abbreviation(text, position):
            continue
        cuts.append(match.end())
    cuts.append(len(text))
    spans = []
    for start, end in pairwise(cuts):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, each a verbatim slice of it (so it can be shown as evidence)."""
    return [text[start:end] for start, end in sentence_spans(text or "")]
