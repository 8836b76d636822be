"""Reading Markdown the way hand-written reading lists use it: mojibake repair and text
cleaning, links in every form (Markdown, HTML, bare URLs), and the line structure
(front matter, headings, bullets with continuations, table rows).

Imports only the standard library; `prose` reads what an item's text says, and `sources`
builds mentions on top of both.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

# Mis-decoded UTF-8 seen in real lists: Windows-1252, Turkish Windows-1254 (emoji as
# "ğŸ¥‘") and Mac Roman ("Hautam√§ki"). Latin-1 comes last as the catch-all.
_MOJIBAKE_CODECS = ("cp1252", "cp1254", "mac_roman", "latin-1")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_EMOJI_CATEGORIES = {"So", "Sk", "Co", "Cn", "Cs", "Cf", "Me"}
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"\*+|`+|~~|(?<!\w)__|__(?!\w)")
_BARE_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"'|]+")
_HTML_SRC = re.compile(
    r"<(iframe|img|embed|source|video)\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>", re.I
)
_HTML_ANCHOR = re.compile(r"<a\b[^>]*?\bhref\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a>", re.I)
_HTML_TITLE = re.compile(r"\btitle\s*=\s*[\"']([^\"']*)[\"']", re.I)


def _is_lead_then_continuation(raw: bytes) -> bool:
    """True when `raw` has the byte shape of UTF-8: every lead byte is followed by a
    continuation byte. Mojibake keeps that shape even when a byte was lost."""
    if len(raw) < 3 or not 0xC2 <= raw[0] <= 0xF4:
        return False
    for index, byte in enumerate(raw):
        if byte >= 0xC0 and (index + 1 == len(raw) or not 0x80 <= raw[index + 1] <= 0xBF):
            return False
    return True


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
    return _NON_ASCII_RUN.sub(lambda match: _repair_run(match.group()), text)


def _is_decoration(char: str) -> bool:
    if char.isascii():
        return False
    if "\ufe00" <= char <= "\ufe0f" or char == "\ufffd":
        return True
    return unicodedata.category(char) in _EMOJI_CATEGORIES


def strip_decorations(text: str) -> str:
    """Remove emoji, pictographs and other symbols that decorate headings and bullets."""
    return "".join(char for char in text if not _is_decoration(char))


def clean_text(text: str) -> str:
    """Plain readable text: mojibake repaired; emoji, HTML tags and entities, Markdown
    links (kept as their text), emphasis and backticks removed; whitespace collapsed."""
    text = repair_mojibake(text)
    text = replace_links_with_text(text)
    text = _HTML_TAG.sub(" ", text)
    text = html.unescape(text)
    text = _EMPHASIS.sub("", text)
    text = strip_decorations(text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Link:
    """A link found in a line; `start`/`end` are offsets into that line."""

    text: str
    url: str
    start: int
    end: int
    is_image: bool = False


def _matching(text: str, start: int, opening: str, closing: str) -> int | None:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == opening:
            depth += 1
        elif text[index] == closing:
            depth -= 1
            if depth == 0:
                return index
    return None


def _markdown_links(text: str, offset: int = 0) -> Iterator[Link]:
    index = text.find("[")
    while index != -1:
        close = _matching(text, index, "[", "]")
        if close is None or not text.startswith("(", close + 1):
            index = text.find("[", index + 1)
            continue
        url_end = _matching(text, close + 1, "(", ")")
        if url_end is None:
            index = text.find("[", index + 1)
            continue
        target = text[close + 2 : url_end].strip()
        url = target.split()[0].strip("<>") if target else ""
        is_image = index > 0 and text[index - 1] == "!"
        start = index - 1 if is_image else index
        label = text[index + 1 : close]
        yield Link(label, url, offset + start, offset + url_end + 1, is_image)
        yield from _markdown_links(label, offset + index + 1)
        index = text.find("[", url_end + 1)


def _html_links(text: str) -> Iterator[Link]:
    for match in _HTML_SRC.finditer(text):
        title = _HTML_TITLE.search(match.group())
        yield Link(
            title.group(1) if title else "",
            match.group(2),
            match.start(),
            match.end(),
            is_image=match.group(1).lower() == "img",
        )
    for match in _HTML_ANCHOR.finditer(text):
        yield Link(match.group(2), match.group(1), match.start(), match.end())


def find_links(text: str) -> list[Link]:
    """Every link in `text`, in order: Markdown links and images (nested ones too),
    HTML `src`/`href` attributes, and bare URLs outside those."""
    links = [*_markdown_links(text), *_html_links(text)]
    taken = [(link.start, link.end) for link in links]
    for match in _BARE_URL.finditer(text):
        if any(start <= match.start() < end for start, end in taken):
            continue
        url = match.group().rstrip(".,;:!?")
        links.append(Link(url, url, match.start(), match.start() + len(url)))
    return sorted(links, key=lambda link: (link.start, -link.end))


def replace_links_with_text(text: str) -> str:
    """Markdown links become their text; images disappear (badges, figures)."""
    links = list(_markdown_links(text))
    outermost = [
        link
        for link in links
        if not any(other.start < link.start and link.end <= other.end for other in links)
    ]
    for link in sorted(outermost, key=lambda item: -item.start):
        replacement = "" if link.is_image else replace_links_with_text(link.text)
        text = text[: link.start] + replacement + text[link.end :]
    return text


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


class BlockKind(Enum):
    BLANK = "blank"
    HEADING = "heading"
    BULLET = "bullet"
    TABLE_ROW = "table_row"
    TEXT = "text"


@dataclass
class SourceLine:
    """One logical line: a physical line, plus any lines joined onto it."""

    text: str
    number: int
    breaks: list[int] = field(default_factory=list)

    def line_at(self, offset: int) -> int:
        """The 1-based physical line number holding character `offset`."""
        return self.number + bisect.bisect_right(self.breaks, offset)

    def extend(self, more: str) -> None:
        self.breaks.append(len(self.text) + 1)
        self.text = f"{self.text} {more.strip()}"


@dataclass
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


PSEUDO_HEADING_LEVEL = 7
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}[.)])\s+")
_BOLD_ONLY = re.compile(r"^\s*(\*\*|__)(?P<text>[^*_]+?)\1\s*(?:<br\s*/?>\s*)*$", re.I)
_RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")


def bold_heading_text(content: str) -> str | None:
    """The text of a line that is all bold (`**Overview**`), unless it is a label ending ':'."""
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


def _logical_lines(lines: list[str], first: int) -> Iterator[SourceLine]:
    index = first
    while index < len(lines):
        source = SourceLine(lines[index], index + 1)
        index += 1
        # A link text broken over lines: "[Title ...\n](https://...)".
        while (
            source.text.count("[") > source.text.count("]")
            and index < len(lines)
            and lines[index].count("]") > lines[index].count("[")
        ):
            source.extend(lines[index])
            index += 1
        yield source


def _indent_of(text: str) -> int:
    prefix = text[: len(text) - len(text.lstrip())]
    return len(prefix.replace("\t", "    "))


def _classify(source: SourceLine) -> Block:
    text = source.text
    if not text.strip() or _RULE.match(text):
        return Block(BlockKind.BLANK, source)
    if match := _HEADING.match(text):
        return Block(BlockKind.HEADING, source, match.start(2), level=len(match.group(1)))
    if bold_heading_text(text) is not None:
        return Block(BlockKind.HEADING, source, 0, level=PSEUDO_HEADING_LEVEL)
    if match := _BULLET.match(text):
        return Block(BlockKind.BULLET, source, match.end(), indent=_indent_of(text))
    stripped = text.lstrip()
    start = len(text) - len(stripped)
    if stripped.startswith("|"):
        return Block(BlockKind.TABLE_ROW, source, start)
    if stripped.startswith(">"):
        start += 1
    return Block(BlockKind.TEXT, source, start, indent=_indent_of(text))


def split_blocks(text: str) -> list[Block]:
    """Classify every line of a list, skipping YAML front matter and joining indented
    continuation lines onto the bullet they continue."""
    lines = text.splitlines()
    blocks: list[Block] = []
    for source in _logical_lines(lines, _front_matter_end(lines)):
        block = _classify(source)
        previous = blocks[-1] if blocks else None
        if (
            block.kind is BlockKind.TEXT
            and previous is not None
            and previous.kind is BlockKind.BULLET
            and block.indent > previous.indent
        ):
            previous.source.breaks.append(len(previous.source.text) + 1)
            previous.source.text = f"{previous.source.text} {block.content.strip()}"
            continue
        blocks.append(block)
    return blocks


def table_cells(row: str) -> list[tuple[int, str]]:
    """Cells of a Markdown table row as (offset in row, raw cell text)."""
    stripped = row.strip()
    base = row.index(stripped) if stripped else 0
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
    return bool(re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", row)) and "-" in row
