"""Reading Markdown the way hand-written reading lists use it: mojibake repair and text
cleaning, and the line structure (front matter, headings, bullets with continuations, table
rows), each in one pass over the text.

Imports the standard library and `inline` (links in a line); `prose` reads what an item's
text says, and `parser` builds mentions on top of both.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

from speechgraph.lists import inline
from speechgraph.lists.inline import replace_links_with_text
from speechgraph.text import one_line

# Mis-decoded UTF-8 seen in real lists: Windows-1252, Turkish Windows-1254 (emoji as
# "ğŸ¥‘") and Mac Roman ("Hautam√§ki"). Latin-1 comes last as the catch-all.
_MOJIBAKE_CODECS = ("cp1252", "cp1254", "mac_roman", "latin-1")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_EMOJI_CATEGORIES = {"So", "Sk", "Co", "Cn", "Cs", "Cf", "Me"}
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"\*+|`+|~~|(?<!\w)__|__(?!\w)")


def _is_lead_then_continuation(raw: bytes) -> bool:
    """True when `raw` has the byte shape of UTF-8: every lead byte is followed by a
    continuation byte. Mojibake keeps that shape even when a byte was lost."""
    if len(raw) < 3 or not 0xC2 <= raw[0] <= 0xF4:
        return False
    for index, byte in enumerate(raw):
        if byte >= 0xC0 and (index + 1 == len(raw) or not 0x80 <= raw[index + 1] <= 0xBF):
            return False
    return True


# Runs of non-ASCII characters repeat across a list (the same emoji on every bullet).
@functools.lru_cache(maxsize=1024)
def _repair_run(run: str) -> str:
    for codec in _MOJIBAKE_CODECS:
        try:
            raw = run.encode(codec)
        except UnicodeEncodeError:
            continue
        try:
            fixed = raw.decode("utf-8")
        except UnicodeDecodeError:
            # Undefined code points (0x8D, 0x8F, ...) were dropped when the text was
            # mangled, so strict decoding fails; what survives is emoji debris.
            if not _is_lead_then_continuation(raw):
                continue
            fixed = raw.decode("utf-8", errors="ignore")
        if len(fixed) < len(run):
            return fixed
    return run


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was read as a legacy 8-bit encoding, one non-ASCII run at a time."""
    if text.isascii():
        return text
    return _NON_ASCII_RUN.sub(lambda match: _repair_run(match.group()), text)


def _is_decoration(char: str) -> bool:
    if char.isascii():
        return False
    if "\ufe00" <= char <= "\ufe0f" or char == "\ufffd":
        return True
    return unicodedata.category(char) in _EMOJI_CATEGORIES


@functools.lru_cache(maxsize=1024)
def _undecorated(run: str) -> str:
    return "".join(char for char in run if not _is_decoration(char))


def _strip_run(match: re.Match[str]) -> str:
    return _undecorated(match.group())


def strip_decorations(text: str) -> str:
    """Remove emoji, pictographs and other symbols that decorate headings and bullets."""
    return text if text.isascii() else _NON_ASCII_RUN.sub(_strip_run, text)


@functools.lru_cache(maxsize=32)
def clean_text(text: str) -> str:
    """Plain readable text: mojibake repaired; emoji, HTML tags and entities, Markdown
    links (kept as their text), emphasis and backticks removed; whitespace collapsed."""
    # Each step is skipped when its marker is absent: most items are short and plain.
    is_ascii = text.isascii()
    if not is_ascii:
        text = repair_mojibake(text)
    text = replace_links_with_text(text)
    if "<" in text:
        text = _HTML_TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
        is_ascii = text.isascii()
    if "*" in text or "`" in text or "~" in text or "_" in text:
        text = _EMPHASIS.sub("", text)
    if not is_ascii:
        text = strip_decorations(text)
    return one_line(text)


def forget_recent_lines() -> None:
    """Empty the caches of recently cleaned lines and their links (they may be large)."""
    clean_text.cache_clear()
    _repair_run.cache_clear()
    _undecorated.cache_clear()
    inline.forget_recent_lines()


class BlockKind(Enum):
    BLANK = "blank"
    HEADING = "heading"
    BULLET = "bullet"
    TABLE_ROW = "table_row"
    TEXT = "text"


@dataclass(slots=True)
class SourceLine:
    """One logical line: a physical line, plus any lines joined onto it."""

    text: str
    number: int
    breaks: Sequence[int] = ()  # where each joined line starts in `text`

    def line_at(self, offset: int) -> int:
        """The 1-based physical line number holding character `offset`."""
        return self.number + bisect.bisect_right(self.breaks, offset)


@dataclass(slots=True)
class Block:
    """A classified logical line; `start` is where its content begins in `source.text`."""

    kind: BlockKind
    source: SourceLine
    start: int = 0
    indent: int = 0
    level: int = 0

    @property
    def content(self) -> str:
        return self.source.text[self.start :]

    @property
    def depth(self) -> int:
        # Markdown nests a bullet only when it is indented past its parent's marker.
        return self.indent // 2


PSEUDO_HEADING_LEVEL = 7
# Only where a heading's text starts matters: everything after the marker is its content.
_HEADING = re.compile(r" {0,3}(#{1,6})\s+")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}[.)])\s+")
_BOLD_ONLY = re.compile(r"^\s*(\*\*|__)(?P<text>[^*_]+?)\1\s*(?:<br\s*/?>\s*)*$", re.I)
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
_TABLE_SEPARATOR = re.compile(r"[\s:|-]+")


def bold_heading_text(content: str) -> str | None:
    """The text of a line that is all bold (`**Overview**`), unless it is a label ending ':'."""
    if "**" not in content and "__" not in content:
        return None
    match = _BOLD_ONLY.match(content)
    if match is None or match.group("text").strip().endswith(":"):
        return None
    return match.group("text")


def _front_matter_end(lines: list[str]) -> int:
    if not lines or lines[0].strip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return index + 1
    return 0


def _closes_more_than_opens(line: str) -> bool:
    return line.count("]") > line.count("[")


def _logical_lines(lines: list[str], first: int) -> Iterator[SourceLine]:
    index = first
    while index < len(lines):
        text, number = lines[index], index + 1
        index += 1
        unclosed = text.count("[") - text.count("]")
        if unclosed <= 0 or index == len(lines) or not _closes_more_than_opens(lines[index]):
            yield SourceLine(text, number)
            continue
        # A link text broken over lines: "[Title ...\n](https://...)".
        parts, breaks, length = [text], [], len(text)
        while unclosed > 0 and index < len(lines) and _closes_more_than_opens(lines[index]):
            part = lines[index].strip()
            unclosed += part.count("[") - part.count("]")
            breaks.append(length + 1)
            parts.append(part)
            length += 1 + len(part)
            index += 1
        yield SourceLine(" ".join(parts), number, breaks)


def _indent_of(text: str) -> int:
    prefix = text[: len(text) - len(text.lstrip())]
    return len(prefix.replace("\t", "    "))


def _classify(source: SourceLine) -> Block:
    text = source.text
    stripped = text.strip()
    # Each pattern is tried only where the line's first character allows it.
    first = stripped[:1]
    if not stripped or (first in "-*_" and _RULE.match(text)):
        return Block(BlockKind.BLANK, source)
    if first == "#" and (match := _HEADING.match(text)):
        return Block(BlockKind.HEADING, source, match.end(), level=len(match.group(1)))
    if bold_heading_text(text) is not None:
        return Block(BlockKind.HEADING, source, 0, level=PSEUDO_HEADING_LEVEL)
    if (first in "-*+" or first.isdecimal()) and (match := _BULLET.match(text)):
        return Block(BlockKind.BULLET, source, match.end(), indent=_indent_of(text))
    stripped = text.lstrip()
    start = len(text) - len(stripped)
    if stripped.startswith("|"):
        return Block(BlockKind.TABLE_ROW, source, start)
    if stripped.startswith(">"):
        start += 1
    return Block(BlockKind.TEXT, source, start, indent=_indent_of(text))


def _join_continuations(block: Block, continuations: list[str]) -> None:
    source = block.source
    breaks, length = list(source.breaks), len(source.text)
    for part in continuations:
        breaks.append(length + 1)
        length += 1 + len(part)
    source.text, source.breaks = " ".join([source.text, *continuations]), breaks


def split_blocks(text: str) -> list[Block]:
    """Classify every line of a list, skipping YAML front matter and joining indented
    continuation lines onto the bullet they continue."""
    lines = text.splitlines()
    blocks: list[Block] = []
    continuations: list[str] = []  # lines that continue the last bullet, joined once at its end
    for source in _logical_lines(lines, _front_matter_end(lines)):
        block = _classify(source)
        previous = blocks[-1] if blocks else None
        if (
            block.kind is BlockKind.TEXT
            and previous is not None
            and previous.kind is BlockKind.BULLET
            and block.indent > previous.indent
        ):
            continuations.append(block.content.strip())
            continue
        if continuations and previous is not None:
            _join_continuations(previous, continuations)
            continuations = []
        blocks.append(block)
    if continuations:
        _join_continuations(blocks[-1], continuations)
    return blocks


def next_non_blank(blocks: Sequence[Block]) -> list[int]:
    """For each block, the index of the first non-blank block after it (len(blocks) if none)."""
    following, upcoming = [len(blocks)] * len(blocks), len(blocks)
    for index in range(len(blocks) - 1, -1, -1):
        following[index] = upcoming
        if blocks[index].kind is not BlockKind.BLANK:
            upcoming = index
    return following


def bullet_siblings(blocks: Sequence[Block]) -> dict[int, list[int]]:
    """For each bullet, the bullets of its list at its depth (itself included): those reached
    past blank lines and deeper bullets, before a shallower bullet or any other line."""
    siblings: dict[int, list[int]] = {}
    open_lists: list[tuple[int, list[int]]] = []  # (depth, bullets so far), deepest last
    for index, block in enumerate(blocks):
        if block.kind is BlockKind.BLANK:
            continue
        if block.kind is not BlockKind.BULLET:
            open_lists.clear()
            continue
        while open_lists and open_lists[-1][0] > block.depth:
            open_lists.pop()
        if not open_lists or open_lists[-1][0] < block.depth:
            open_lists.append((block.depth, []))
        open_lists[-1][1].append(index)
        siblings[index] = open_lists[-1][1]
    return siblings


def table_cells(row: str) -> list[tuple[int, str]]:
    """Cells of a Markdown table row as (offset in row, raw cell text)."""
    stripped = row.strip()
    base = len(row) - len(row.lstrip()) if stripped else 0
    if stripped.startswith("|"):
        stripped, base = stripped[1:], base + 1
    if stripped.endswith("|"):
        stripped = stripped[:-1]
    cells, position = [], 0
    for part in stripped.split("|"):
        cells.append((base + position, part))
        position += len(part) + 1
    return cells


def is_table_separator(row: str) -> bool:
    # The same rows as `\s*\|?[\s:|-]+\|?\s*`, which backtracks on long runs of spaces.
    return "-" in row and _TABLE_SEPARATOR.fullmatch(row) is not None
