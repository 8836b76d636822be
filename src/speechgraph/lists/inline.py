"""Links inside one line of a list: Markdown links and images (nested ones too), HTML
`src`/`href` attributes and bare URLs, found in time linear in the line however it is built.

Imports only the standard library; `markdown` cleans text with it and `parser` reads links.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

# Real lists nest at most a badge inside a link. Each nested link's text is a copy of most of
# the line, so links nested deeper than this stay part of their parent's text.
MAX_LINK_NESTING = 8

_BRACKETS = re.compile(r"[\[\]]")
_PARENTHESES = re.compile(r"[()]")
# Two "[" (or "(") with no closing one between: only then can brackets nest.
_NESTING = re.compile(r"\[[^\[\]]*+\[|\([^()]*+\(")
_FLAT_LINK = re.compile(r"(!?)\[([^\[\]]*+)\]\(([^()]*+)\)")
_BARE_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"'|]+")
# Possessive quantifiers where giving characters back can never help a match: the same
# language as the plain patterns, without their backtracking on hostile lines.
_HTML_SRC = re.compile(
    r"<(iframe|img|embed|source|video)\b[^>]*?\bsrc\s*+=\s*+[\"']([^\"']++)[\"'][^>]*+>", re.I
)
_HTML_SRC_START = re.compile(r"<(?:iframe|img|embed|source|video)\b", re.I)
_HTML_ANCHOR = re.compile(r"<a\b[^>]*?\bhref\s*+=\s*+[\"']([^\"']++)[\"'][^>]*+>", re.I)
_HTML_ANCHOR_START = re.compile(r"<a\b", re.I)
_HTML_ANCHOR_END = re.compile(r"</a>", re.I)
_HTML_TITLE = re.compile(r"\btitle\s*+=\s*+[\"']([^\"']*+)[\"']", re.I)


@dataclass(frozen=True, slots=True)
class Link:
    """A link found in a line; `start`/`end` are offsets into that line."""

    text: str
    url: str
    start: int
    end: int
    is_image: bool = False


class _Span(NamedTuple):
    """A Markdown link `[label](target)`: where it starts (at `!` for an image), its `[`,
    the `]` that closes the label, where it ends (after the `)` that closes the target),
    and how deep it sits inside other links' labels."""

    start: int
    opening: int
    closing: int
    end: int
    is_image: bool
    depth: int


def _pairs(text: str, pattern: re.Pattern[str], opening: str) -> dict[int, int]:
    """Where each opening bracket is closed, nesting counted: a bracket's partner is the
    first closing bracket that brings the count since it back to zero."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for match in pattern.finditer(text):
        if match.group() == opening:
            stack.append(match.start())
        elif stack:
            pairs[stack.pop()] = match.start()
    return pairs


def _is_flat(text: str) -> bool:
    """True when every bracket closes before the next one opens: each "[" pairs with the
    next "]" and each "(" with the next ")", so `_FLAT_LINK` reads the line's links."""
    return _NESTING.search(text) is None


def _nested_spans(text: str) -> Iterator[_Span]:
    """Every Markdown link in document order, each followed by the links inside its label.

    A `[` whose label is not followed by `(target)` is plain text, and the brackets inside it
    are read on their own. A link inside a label must close inside that label.
    """
    squares = _pairs(text, _BRACKETS, "[")
    parentheses = _pairs(text, _PARENTHESES, "(")
    openings = sorted(squares)
    # Each region is a line or a link's label: (next opening to look at, region end, depth).
    regions = [(0, len(text), 0)]
    while regions:
        index, region_end, depth = regions.pop()
        while index < len(openings) and openings[index] < region_end:
            opening = openings[index]
            closing = squares[opening]
            target_end = parentheses.get(closing + 1, region_end)
            if not text.startswith("(", closing + 1) or target_end >= region_end:
                index += 1
                continue
            is_image = opening > 0 and text[opening - 1] == "!"
            start = opening - 1 if is_image else opening
            yield _Span(start, opening, closing, target_end + 1, is_image, depth)
            after = bisect.bisect_right(openings, target_end, index + 1)
            regions.append((after, region_end, depth))
            regions.append((index + 1, closing, depth + 1))
            break


def _markdown_links(text: str) -> Iterator[Link]:
    if "](" not in text:
        return
    if _is_flat(text):
        for match in _FLAT_LINK.finditer(text):
            target = match.group(3).strip()
            url = target.split(maxsplit=1)[0].strip("<>") if target else ""
            yield Link(match.group(2), url, match.start(), match.end(), match.group(1) == "!")
        return
    for span in _nested_spans(text):
        if span.depth >= MAX_LINK_NESTING:
            continue
        target = text[span.closing + 2 : span.end - 1].strip()
        url = target.split(maxsplit=1)[0].strip("<>") if target else ""
        label = text[span.opening + 1 : span.closing]
        yield Link(label, url, span.start, span.end, span.is_image)


def _html_sources(text: str) -> Iterator[Link]:
    position, failed_until = 0, -1
    for found in _HTML_SRC_START.finditer(text):
        start = found.start()
        if start < position or start < failed_until:
            continue
        match = _HTML_SRC.match(text, start)
        if match is None:
            # A later tag before the same ">" sees a subset of what this one saw.
            failed_until = text.find(">", start)
            if failed_until == -1:
                return
            continue
        title = _HTML_TITLE.search(match.group())
        yield Link(
            title.group(1) if title else "",
            match.group(2),
            match.start(),
            match.end(),
            is_image=match.group(1).lower() == "img",
        )
        position = match.end()


def _html_anchors(text: str) -> Iterator[Link]:
    """`<a href="url">text</a>`; the text ends at the first `</a>` on the same line."""
    ends = [match.start() for match in _HTML_ANCHOR_END.finditer(text)]
    newlines = [match.start() for match in re.finditer("\n", text)] if "\n" in text else []
    position, failed_until = 0, -1
    for found in _HTML_ANCHOR_START.finditer(text):
        start = found.start()
        if start < position or start < failed_until:
            continue
        opening = _HTML_ANCHOR.match(text, start)
        closing = _anchor_end(opening.end(), ends, newlines) if opening else None
        if opening is None or closing is None:
            tag_end = text.find(">", start)
            if tag_end == -1:
                return
            # A later tag before the same ">" sees a subset of what this one saw, and when
            # this tag ended there too, the same search for its "</a>".
            if opening is None or opening.end() == tag_end + 1:
                failed_until = tag_end
            continue
        yield Link(text[opening.end() : closing], opening.group(1), start, closing + 4)
        position = closing + 4


def _anchor_end(start: int, ends: list[int], newlines: list[int]) -> int | None:
    at = bisect.bisect_left(ends, start)
    if at == len(ends):
        return None
    newline = bisect.bisect_left(newlines, start)
    return None if newline < len(newlines) and newlines[newline] < ends[at] else ends[at]


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _bare_urls(text: str, taken: list[tuple[int, int]]) -> Iterator[Link]:
    """URLs written out, outside every span in `taken`."""
    covered, index = _merged(taken), 0
    for match in _BARE_URL.finditer(text):
        while index < len(covered) and covered[index][1] <= match.start():
            index += 1
        if index < len(covered) and covered[index][0] <= match.start():
            continue
        url = match.group().rstrip(".,;:!?")
        yield Link(url, url, match.start(), match.start() + len(url))


def find_links(text: str) -> list[Link]:
    """Every link in `text`, in order: Markdown links and images (nested ones too, up to
    MAX_LINK_NESTING deep), HTML `src`/`href` attributes, and bare URLs outside those."""
    return list(_links_in(text))


@functools.lru_cache(maxsize=64)
def _links_in(text: str) -> tuple[Link, ...]:
    # Cached: the parser asks about the same line for its links, its text and its structure.
    if "](" not in text and "<" not in text and "http" not in text and "www." not in text:
        return ()
    links = [*_markdown_links(text)]
    if "<" in text:
        links += [*_html_sources(text), *_html_anchors(text)]
    links += _bare_urls(text, [(link.start, link.end) for link in links])
    return tuple(sorted(links, key=lambda link: (link.start, -link.end)))


def forget_recent_lines() -> None:
    """Empty the caches of recently read lines (they may be large)."""
    _links_in.cache_clear()


def replace_links_with_text(text: str) -> str:
    """Markdown links become their text; images disappear (badges, figures)."""
    if "](" not in text:
        return text
    if _is_flat(text):
        return _FLAT_LINK.sub(_flat_link_text, text)
    pieces: list[str] = []
    position = 0
    labels_open: list[tuple[int, int]] = []  # (label's "]", link end) of the links we are in
    for span in _nested_spans(text):
        while labels_open and labels_open[-1][0] <= span.start:
            closing, end = labels_open.pop()
            pieces.append(text[position:closing])
            position = end
        if span.start < position:
            continue  # inside an image, which goes as a whole
        pieces.append(text[position : span.start])
        if span.is_image:
            position = span.end
        else:
            position = span.opening + 1
            labels_open.append((span.closing, span.end))
    if not pieces:
        return text
    while labels_open:
        closing, end = labels_open.pop()
        pieces.append(text[position:closing])
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _flat_link_text(match: re.Match[str]) -> str:
    return "" if match.group(1) else match.group(2)


def text_outside_links(text: str) -> str:
    """`text` with every link span removed."""
    spans = sorted((link.start, link.end) for link in find_links(text))
    kept, position = [], 0
    for start, end in spans:
        if start >= position:
            kept.append(text[position:start])
            position = end
    kept.append(text[position:])
    return " ".join(kept)
