"""A straightforward reference for the list parser: the same rules written the obvious way, which
rescans lines, siblings and mentions (quadratic on big lists, exponential on some hostile lines).
Tests parse small lists with both and expect the same ParsedList; nothing here is fast.

`reference_parse` swaps these functions into the parser's modules for the length of one parse.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any
from unittest import mock

from speechgraph import ids, records
from speechgraph.lists import inline, items, markdown, parser, prose
from speechgraph.lists.inline import Link
from speechgraph.lists.links import classify_url
from speechgraph.lists.markdown import Block, BlockKind, SourceLine
from speechgraph.lists.paths import SectionStack
from speechgraph.records import Mention, ParsedList

# The patterns as first written, before they were made linear.
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
BOLD_ONLY = re.compile(r"^\s*(\*\*|__)(?P<text>[^*_]+?)\1\s*(?:<br\s*/?>\s*)*$", re.I)
HTML_SRC = re.compile(
    r"<(iframe|img|embed|source|video)\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"'][^>]*>", re.I
)
HTML_ANCHOR = re.compile(r"<a\b[^>]*?\bhref\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a>", re.I)
HTML_TITLE = re.compile(r"\btitle\s*=\s*[\"']([^\"']*)[\"']", re.I)
BARE_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"'|]+")
AUTHOR_SURNAME_FIRST = re.compile(
    r"\b[A-Z][A-Za-z'’-]+,\s(?:[A-Z]\.\s?)+(?:,|\s?&|\.|\s+and\b|\s*\()"
)
QUOTED_TITLE = re.compile(r"[\"“]([^\"”]{8,}?)[,.]?[\"”]")
ARXIV_URL_IN_TEXT = re.compile(r"(?:https?://)?(?:[\w-]+\.)*(?:arxiv|ar5iv)\.org/[^\s)\]>\"']+")
TABLE_SEPARATOR = re.compile(r"\s*\|?[\s:|-]+\|?\s*")


# --- links ---------------------------------------------------------------------------


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


def markdown_links(text: str, offset: int = 0) -> Iterator[Link]:
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
        yield from markdown_links(label, offset + index + 1)
        index = text.find("[", url_end + 1)


def html_links(text: str) -> Iterator[Link]:
    for match in HTML_SRC.finditer(text):
        title = HTML_TITLE.search(match.group())
        yield Link(
            title.group(1) if title else "",
            match.group(2),
            match.start(),
            match.end(),
            is_image=match.group(1).lower() == "img",
        )
    for match in HTML_ANCHOR.finditer(text):
        yield Link(match.group(2), match.group(1), match.start(), match.end())


def find_links(text: str) -> list[Link]:
    links = [*markdown_links(text), *html_links(text)]
    taken = [(link.start, link.end) for link in links]
    for match in BARE_URL.finditer(text):
        if any(start <= match.start() < end for start, end in taken):
            continue
        url = match.group().rstrip(".,;:!?")
        links.append(Link(url, url, match.start(), match.start() + len(url)))
    return sorted(links, key=lambda link: (link.start, -link.end))


def replace_links_with_text(text: str) -> str:
    links = list(markdown_links(text))
    outermost = [
        link
        for link in links
        if not any(other.start < link.start and link.end <= other.end for other in links)
    ]
    for link in sorted(outermost, key=lambda item: -item.start):
        replacement = "" if link.is_image else replace_links_with_text(link.text)
        text = text[: link.start] + replacement + text[link.end :]
    return text


def clean_text(text: str) -> str:
    text = markdown.repair_mojibake(text)
    text = replace_links_with_text(text)
    text = markdown._HTML_TAG.sub(" ", text)
    text = html.unescape(text)
    text = markdown._EMPHASIS.sub("", text)
    text = "".join(char for char in text if not markdown._is_decoration(char))
    return " ".join(text.split())


# --- prose -----------------------------------------------------------------------------


def is_citation(text: str) -> bool:
    has_author = bool(
        AUTHOR_SURNAME_FIRST.search(text) or prose._AUTHOR_INITIALS_FIRST.search(text)
    )
    has_year = bool(prose._YEAR_BLOCK.search(text))
    has_quote = bool(QUOTED_TITLE.search(text))
    has_venue = bool(prose._VENUE.search(text))
    if has_author:
        return has_year or has_quote or has_venue
    return (has_year or has_quote) and has_venue


def extract_citation(text: str) -> tuple[str | None, int | None]:
    with mock.patch.object(prose, "_quoted_title", QUOTED_TITLE.search):
        return prose.extract_citation(text)


def split_label(raw: str) -> tuple[str, int]:
    match = prose._LABEL.match(raw)
    return (match.group(1).strip().lower(), match.end()) if match else ("", 0)


def bold_heading_text(content: str) -> str | None:
    match = BOLD_ONLY.match(content)
    if match is None or match.group("text").strip().endswith(":"):
        return None
    return match.group("text")


# --- blocks ----------------------------------------------------------------------------


def _logical_lines(lines: list[str], first: int) -> Iterator[SourceLine]:
    index = first
    while index < len(lines):
        source = SourceLine(lines[index], index + 1, [])
        index += 1
        while (
            source.text.count("[") > source.text.count("]")
            and index < len(lines)
            and lines[index].count("]") > lines[index].count("[")
        ):
            assert isinstance(source.breaks, list)
            source.breaks.append(len(source.text) + 1)
            source.text = f"{source.text} {lines[index].strip()}"
            index += 1
        yield source


def _classify(source: SourceLine) -> Block:
    text = source.text
    if not text.strip() or markdown._RULE.match(text):
        return Block(BlockKind.BLANK, source)
    if match := HEADING.match(text):
        return Block(BlockKind.HEADING, source, match.start(2), level=len(match.group(1)))
    if bold_heading_text(text) is not None:
        return Block(BlockKind.HEADING, source, 0, level=markdown.PSEUDO_HEADING_LEVEL)
    if match := markdown._BULLET.match(text):
        return Block(BlockKind.BULLET, source, match.end(), indent=markdown._indent_of(text))
    stripped = text.lstrip()
    start = len(text) - len(stripped)
    if stripped.startswith("|"):
        return Block(BlockKind.TABLE_ROW, source, start)
    if stripped.startswith(">"):
        start += 1
    return Block(BlockKind.TEXT, source, start, indent=markdown._indent_of(text))


def split_blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    for source in _logical_lines(lines, markdown._front_matter_end(lines)):
        block = _classify(source)
        previous = blocks[-1] if blocks else None
        if (
            block.kind is BlockKind.TEXT
            and previous is not None
            and previous.kind is BlockKind.BULLET
            and block.indent > previous.indent
        ):
            assert isinstance(previous.source.breaks, list)
            previous.source.breaks.append(len(previous.source.text) + 1)
            previous.source.text = f"{previous.source.text} {block.content.strip()}"
            continue
        blocks.append(block)
    return blocks


def table_cells(row: str) -> list[tuple[int, str]]:
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
    return bool(TABLE_SEPARATOR.fullmatch(row)) and "-" in row


# --- the parser ------------------------------------------------------------------------


class _JoinedStack(SectionStack):
    """Section paths joined afresh from the stack at every step."""

    def push(self, level: int, title: str) -> None:
        self.pop(level)
        self.entries.append((level, title.rstrip(":").strip(), ""))
        path = self.path
        if path and path not in self.sections:
            self.sections.append(path)

    @property
    def path(self) -> str:
        return " > ".join(title for _, title, _ in self.entries if title)

    @property
    def title(self) -> str:
        return self.entries[-1][1]

    def heading_level(self) -> int:
        levels = [level for level, _, _ in self.entries if level < markdown.PSEUDO_HEADING_LEVEL]
        return max(levels, default=0)


class _ReferenceParser(parser._ListParser):
    def __init__(self, list_name: str, blocks: list[Block]) -> None:
        super().__init__(list_name, blocks)
        self.stack = _JoinedStack(markdown.PSEUDO_HEADING_LEVEL - 1)

    def _kind_of(self, url: str) -> str:
        return classify_url(url)

    def _section_says(self, words: re.Pattern[str], section: str) -> bool:
        return bool(words.search(section))

    def _is_group(self, index: int) -> bool:
        content = self.blocks[index].content
        if bold_heading_text(content) is not None:
            return True
        following = [b for b in self.blocks[index + 1 :] if b.kind is not BlockKind.BLANK][:1]
        has_children = any(
            b.kind is BlockKind.BULLET and b.depth > self.blocks[index].depth for b in following
        )
        return has_children and not find_links(content) and not is_citation(clean_text(content))

    def _siblings_are_citations(self, index: int) -> bool:
        depth, siblings = self.blocks[index].depth, []
        for step in (-1, 1):
            position = index + step
            while 0 <= position < len(self.blocks):
                block = self.blocks[position]
                is_bullet = block.kind is BlockKind.BULLET
                if is_bullet and block.depth == depth:
                    siblings.append(position)
                elif block.kind is not BlockKind.BLANK and not (is_bullet and block.depth > depth):
                    break
                position += step
        siblings = [position for position in siblings if not self._is_group(position)]
        cited = [i for i in siblings if is_citation(clean_text(self.blocks[i].content))]
        return bool(cited) and len(cited) * 2 >= len(siblings)

    def _add_named_sections(self) -> None:
        if not self.paper_label_levels:
            return
        leaf = max(self.paper_label_levels)
        for level, path, title, line in self.headings:
            inside = (path, path + " > ")
            if level != leaf or not title or " vs " in f" {title.lower()} ":
                continue
            if parser._NO_NAMES_HERE.search(path) or any(
                m.section == path or m.section.startswith(inside[1]) for m in self.mentions
            ):
                continue
            name, year = prose.system_name(title)
            mention = Mention(self.list_name, path, "", line, records.TEXT, title=name, year=year)
            mention.reference = title
            mention.resources = [r for r in self.resources if r.section.startswith(inside)]
            self.resources = [r for r in self.resources if r not in mention.resources]
            self.mentions.append(mention)


def _swaps() -> list[tuple[Any, str, Any]]:
    def links_in(text: str) -> tuple[Link, ...]:
        return tuple(find_links(text))

    def quoted_title(text: str) -> re.Match[str] | None:
        return QUOTED_TITLE.search(text)

    return [
        (inline, "_links_in", links_in),
        (markdown, "replace_links_with_text", replace_links_with_text),
        (markdown, "bold_heading_text", bold_heading_text),
        *[(module, "clean_text", clean_text) for module in (markdown, parser, items)],
        *[(module, "is_citation", is_citation) for module in (prose, parser, items)],
        (parser, "bold_heading_text", bold_heading_text),
        (parser, "split_label", split_label),
        (parser, "table_cells", table_cells),
        (parser, "is_table_separator", is_table_separator),
        (prose, "_AUTHOR_SURNAME_FIRST", AUTHOR_SURNAME_FIRST),
        (prose, "_quoted_title", quoted_title),
        (ids, "_ARXIV_URL_IN_TEXT", ARXIV_URL_IN_TEXT),
    ]


def reference_parse(text: str, list_name: str) -> ParsedList:
    """What `parse_reading_list` must return, computed the straightforward way."""
    with ExitStack() as stack:
        for module, name, replacement in _swaps():
            stack.enter_context(mock.patch.object(module, name, replacement))
        return _ReferenceParser(list_name, split_blocks(text)).parse()
