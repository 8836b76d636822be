"""Reading lists -> mentions: arXiv ids in every URL form, DOIs, publisher links, text-only
citations, and the non-paper resources around them.

Pure functions over text; reading files and URLs is `lists`' job. Imports `records`,
`errors`, `links`, `markdown` and `prose` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from speechgraph import records
from speechgraph.ids import find_arxiv_ids_in_text, parse_arxiv_url, parse_doi
from speechgraph.lists.links import classify_url, is_research_blog
from speechgraph.lists.markdown import (
    PSEUDO_HEADING_LEVEL,
    Block,
    BlockKind,
    Link,
    bold_heading_text,
    clean_text,
    find_links,
    is_table_separator,
    split_blocks,
    table_cells,
    text_outside_links,
)
from speechgraph.lists.prose import (
    drop_leading_year,
    extract_citation,
    is_citation,
    is_name,
    is_title_like,
    leading_year,
    looks_like_title,
    split_label,
    system_name,
)
from speechgraph.records import Mention, ParsedList, Resource
from speechgraph.text import word_set

__all__ = ["clean_text", "parse_reading_list"]

# --- parsing a list ------------------------------------------------------------------

_PAPER_KINDS = {"arxiv": records.ARXIV, "doi": records.DOI, "publisher": records.PUBLISHER}
_RESOURCE_LABELS = dict(
    pair.split(":")
    for pair in word_set(
        """code:code github:code kaggle:code colab:code notebook:code demo:demo
    app:demo blog:blog article:blog dataset:dataset datasets:dataset data:dataset model:model
    models:model video:video slides:other project:other website:other"""
    )
)
_PAPER_LABELS = word_set("paper papers pdf arxiv publication")
_NO_PAPERS_HERE = re.compile(r"\bbooks?\b", re.I)
_NO_NAMES_HERE = re.compile(
    r"\b(?:books?|tool(?:kit)?s?|frameworks?|librar(?:y|ies)|resources?|demos?|courses?|"
    r"tutorials?|products?|apps?|repos?|repositor(?:y|ies))\b",
    re.I,
)
_EMPTY_CELLS = frozenset(["", "-", "tbd", "n/a", "todo", "none"])
_GROUP_LEVEL = 10  # bullet groups nest below headings (1-6) and bold pseudo-headings (7)


@dataclass
class _Item:
    """One bullet, line, heading or table cell, with its links already classified."""

    block: Block
    offset: int  # where `raw` starts in the block's logical line
    raw: str
    section: str
    bullet: bool = False
    index: int | None = None
    paper_column: bool | None = None  # None outside tables
    label: str = ""
    body_start: int = 0
    links: list[Link] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return self.raw[self.body_start :]

    def line_at(self, position: int) -> int:
        return self.block.source.line_at(self.offset + position)


def _depth(block: Block) -> int:
    # Markdown nests a bullet only when it is indented past its parent's marker.
    return block.indent // 2


class _ListParser:
    """One pass over a list's blocks, keeping the heading path and each section's last
    paper mention, to which the non-paper links that follow are attached."""

    def __init__(self, list_name: str, blocks: list[Block]) -> None:
        self.list_name, self.blocks = list_name, blocks
        self.stack: list[tuple[int, str]] = []
        self.mentions: list[Mention] = []
        self.resources: list[Resource] = []
        self.sections: list[str] = []
        self.last_mention: dict[str, Mention] = {}
        self.headings: list[tuple[int, str, str, int]] = []  # level, path, title, line
        self.paper_label_levels: set[int] = set()

    @property
    def section(self) -> str:
        return " > ".join(title for _, title in self.stack if title)

    def parse(self) -> ParsedList:
        index = 0
        while index < len(self.blocks):
            block = self.blocks[index]
            if block.kind is BlockKind.TABLE_ROW:
                index = self._table(index)
                continue
            if block.kind is BlockKind.HEADING:
                self._heading(block)
            elif block.kind is BlockKind.BULLET:
                self._bullet(index)
            elif block.kind is BlockKind.TEXT:
                self._pop(_GROUP_LEVEL)
                self._item(block, block.start, block.content)
            index += 1
        self._add_named_sections()
        self.mentions.sort(key=lambda mention: mention.line)
        return ParsedList(self.list_name, self.mentions, self.resources, self.sections)

    # structure: headings, bullet groups, tables

    def _pop(self, level: int) -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()

    def _push(self, level: int, title: str) -> None:
        self._pop(level)
        self.stack.append((level, title.rstrip(":").strip()))
        if self.section and self.section not in self.sections:
            self.sections.append(self.section)

    def _heading(self, block: Block) -> None:
        raw = block.content
        if block.level == PSEUDO_HEADING_LEVEL:
            raw = bold_heading_text(raw) or raw
        self._push(block.level, clean_text(raw))
        if block.level < PSEUDO_HEADING_LEVEL:
            heading = (block.level, self.section, self.stack[-1][1], block.source.number)
            self.headings.append(heading)
        self._item(block, block.start, block.content)

    def _is_group(self, index: int) -> bool:
        content = self.blocks[index].content
        if bold_heading_text(content) is not None:
            return True
        following = [b for b in self.blocks[index + 1 :] if b.kind is not BlockKind.BLANK][:1]
        has_children = any(
            b.kind is BlockKind.BULLET and _depth(b) > _depth(self.blocks[index]) for b in following
        )
        return has_children and not find_links(content) and not is_citation(clean_text(content))

    def _bullet(self, index: int) -> None:
        block = self.blocks[index]
        self._pop(_GROUP_LEVEL + _depth(block))
        if self._is_group(index):
            title = bold_heading_text(block.content) or block.content
            self._push(_GROUP_LEVEL + _depth(block), clean_text(title))
        else:
            self._item(block, block.start, block.content, bullet=True, index=index)

    def _siblings_are_citations(self, index: int) -> bool:
        depth, siblings = _depth(self.blocks[index]), []
        for step in (-1, 1):
            position = index + step
            while 0 <= position < len(self.blocks):
                block = self.blocks[position]
                is_bullet = block.kind is BlockKind.BULLET
                if is_bullet and _depth(block) == depth:
                    siblings.append(position)
                elif block.kind is not BlockKind.BLANK and not (
                    is_bullet and _depth(block) > depth
                ):
                    break
                position += step
        siblings = [position for position in siblings if not self._is_group(position)]
        cited = [i for i in siblings if is_citation(clean_text(self.blocks[i].content))]
        return bool(cited) and len(cited) * 2 >= len(siblings)

    def _table(self, index: int) -> int:
        end = index
        while end < len(self.blocks) and self.blocks[end].kind is BlockKind.TABLE_ROW:
            end += 1
        rows = self.blocks[index:end]
        if len(rows) > 1 and is_table_separator(rows[1].content):
            rows = rows[2:]
        self._pop(_GROUP_LEVEL)
        # A column where some row links a paper names papers in its other rows too.
        paper_columns = {
            column
            for row in rows
            for column, (_, cell) in enumerate(table_cells(row.content))
            if any(classify_url(link.url) in _PAPER_KINDS for link in find_links(cell))
        }
        for row in rows:
            for column, (offset, cell) in enumerate(table_cells(row.content)):
                self._item(row, row.start + offset, cell, paper_column=column in paper_columns)
        return end

    # items

    def _item(
        self,
        block: Block,
        offset: int,
        raw: str,
        *,
        bullet: bool = False,
        index: int | None = None,
        paper_column: bool | None = None,
    ) -> None:
        label, body_start = split_label(raw)
        if label in _PAPER_LABELS:
            levels = [level for level, _ in self.stack if level < PSEUDO_HEADING_LEVEL]
            self.paper_label_levels.add(max(levels, default=0))
        links = [link for link in find_links(raw) if link.start >= body_start]
        kinds = ["image" if link.is_image else classify_url(link.url) for link in links]
        item = _Item(
            block, offset, raw, self.section, bullet, index, paper_column, label, body_start,
            links, kinds,
        )  # fmt: skip
        papers = [
            self._is_paper_link(item, link, kind) for link, kind in zip(links, kinds, strict=True)
        ]
        current = self.last_mention.get(item.section)
        if not any(papers) and (bullet or paper_column is not None):
            for mention in self._text_mentions(item):
                current = self._add(mention)
        for link, kind, is_paper in zip(links, kinds, papers, strict=True):
            if is_paper:
                current = self._add(self._link_mention(item, link, kind))
                continue
            kind = "image" if kind == "image" else _RESOURCE_LABELS.get(label, kind)
            text = clean_text(link.text) or clean_text(text_outside_links(item.body))
            resource = Resource(link.url, kind, text, item.section, item.line_at(link.start))
            (current.resources if current else self.resources).append(resource)

    def _add(self, mention: Mention) -> Mention:
        self.mentions.append(mention)
        self.last_mention[mention.section] = mention
        return mention

    def _is_paper_link(self, item: _Item, link: Link, kind: str) -> bool:
        if link.is_image or item.label in _RESOURCE_LABELS:
            return False
        if kind in _PAPER_KINDS:
            return not _NO_PAPERS_HERE.search(item.section)
        if item.label in _PAPER_LABELS:
            return kind in ("blog", "docs", "other")
        return item.bullet and kind == "blog" and is_research_blog(link.url)

    def _new(self, item: _Item, position: int, kind: str, **fields: Any) -> Mention:
        line = item.line_at(position)
        return Mention(self.list_name, item.section, kind=kind, line=line, **fields)

    def _link_mention(self, item: _Item, link: Link, url_kind: str) -> Mention:
        link_text = clean_text(link.text)
        outside = clean_text(text_outside_links(item.body))
        kind = _PAPER_KINDS.get(url_kind, records.TEXT)
        title, year = None, None
        if is_citation(link_text):
            title, year = extract_citation(link_text)
        elif kind != records.ARXIV and is_citation(outside):
            title, year = extract_citation(outside)
        elif kind != records.ARXIV and is_title_like(link_text):
            title = link_text
        arxiv = parse_arxiv_url(link.url) if kind == records.ARXIV else None
        return self._new(
            item, link.start, kind, link_text=link_text, url=link.url,
            arxiv_id=arxiv[0] if arxiv else None, version=arxiv[1] if arxiv else None,
            doi=parse_doi(link.url) if kind != records.ARXIV else None, title=title,
            year=year or leading_year(clean_text(item.body)),
            reference=(clean_text(item.raw) if item.paper_column is not None else "")
            or link_text or outside,
        )  # fmt: skip

    def _text_mentions(self, item: _Item) -> list[Mention]:
        text = clean_text(item.body)
        if is_citation(text):
            title, year = extract_citation(text)
            anchor = re.search(r"\((?:19|20)\d\d|\"", item.raw)
            position = anchor.start() if anchor else 0
            fields = {"link_text": "", "title": title, "year": year, "reference": text}
            return [
                self._new(
                    item, position, records.ARXIV, arxiv_id=paper_id, version=version, **fields
                )
                for paper_id, version in find_arxiv_ids_in_text(text)
            ] or [self._new(item, position, records.TEXT, **fields)]
        if not text or _NO_NAMES_HERE.search(item.section):
            return []
        title, year = self._named_thing(item, text)
        if title is None:
            return []
        first = item.links[0] if item.links else None
        return [
            self._new(
                item,
                first.start if first else 0,
                records.TEXT,
                link_text=clean_text(first.text) if first else "",
                title=title,
                year=year or leading_year(text),
                reference=text,
            )
        ]

    def _named_thing(self, item: _Item, text: str) -> tuple[str | None, int | None]:
        """A bare title, a named method among cited siblings, or a system named by its
        table cell or by the text of its code link."""
        if not item.links:
            if item.paper_column:
                too_long = text.lower() in _EMPTY_CELLS or len(text.split()) > 8
                return (None, None) if too_long else system_name(text)
            if item.bullet and looks_like_title(text):
                return text, None
            if item.bullet and item.index is not None and len(text.split()) <= 3:
                return (text, None) if self._siblings_are_citations(item.index) else (None, None)
            return None, None
        outer = [
            kind for link, kind in zip(item.links, item.kinds, strict=True) if not link.is_image
        ]
        outside = drop_leading_year(clean_text(text_outside_links(item.body)))
        if outside.strip() or not outer or any(kind != "code" for kind in outer):
            return None, None
        name, year = system_name(clean_text(item.links[0].text))
        return (name, year) if is_name(name) else (None, None)

    def _add_named_sections(self) -> None:
        """In lists written as one heading per system with **Paper:** lines, a heading
        whose section links no paper still names a system: mention it by name."""
        if not self.paper_label_levels:
            return
        leaf = max(self.paper_label_levels)
        for level, path, title, line in self.headings:
            inside = (path, path + " > ")
            if level != leaf or not title or " vs " in f" {title.lower()} ":
                continue
            if _NO_NAMES_HERE.search(path) or any(
                m.section == path or m.section.startswith(inside[1]) for m in self.mentions
            ):
                continue
            name, year = system_name(title)
            mention = Mention(self.list_name, path, "", line, records.TEXT, title=name, year=year)
            mention.reference = title
            mention.resources = [r for r in self.resources if r.section.startswith(inside)]
            self.resources = [r for r in self.resources if r not in mention.resources]
            self.mentions.append(mention)


def parse_reading_list(text: str, list_name: str) -> ParsedList:
    """Every paper mention in a Markdown or plain-text reading list, with its section path,
    link text, line and the resources (code, videos, blogs, images) found near it."""
    return _ListParser(list_name, split_blocks(text)).parse()
