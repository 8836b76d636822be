"""Reading lists -> mentions: arXiv ids in every URL form, DOIs, publisher links, text-only
citations, and the non-paper resources around them.

One pass over the list's blocks; every look around a block (the next line, a bullet's
siblings, the mentions under a heading) is precomputed or cached, so parsing takes time
linear in the list. Pure functions over text; reading files and URLs is `registry`'s job.
Imports `records`, `ids`, `text` and the `lists` modules `links`, `inline`, `items`,
`markdown`, `paths` and `prose` only.
"""

from __future__ import annotations

import re
from typing import Any

from speechgraph import records
from speechgraph.ids import find_arxiv_ids_in_text, parse_arxiv_url, parse_doi
from speechgraph.lists.inline import Link, find_links
from speechgraph.lists.items import Item
from speechgraph.lists.links import classify_url, is_research_blog
from speechgraph.lists.markdown import (
    PSEUDO_HEADING_LEVEL,
    Block,
    BlockKind,
    bold_heading_text,
    bullet_siblings,
    clean_text,
    forget_recent_lines,
    is_table_separator,
    next_non_blank,
    split_blocks,
    table_cells,
)
from speechgraph.lists.paths import ItemsBySection, MarkedPaths, SectionStack
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


class _ListParser:
    """One pass over a list's blocks, keeping the heading path and each section's last
    paper mention, to which the non-paper links that follow are attached."""

    def __init__(self, list_name: str, blocks: list[Block]) -> None:
        self.list_name, self.blocks = list_name, blocks
        self.following = next_non_blank(blocks)
        self.siblings = bullet_siblings(blocks)
        self.stack = SectionStack(PSEUDO_HEADING_LEVEL - 1)
        self.mentions: list[Mention] = []
        self.resources: list[Resource] = []
        self.last_mention: dict[str, Mention] = {}
        self.headings: list[tuple[int, str, str, int]] = []  # level, path, title, line
        self.paper_label_levels: set[int] = set()
        self._groups: dict[int, bool] = {}
        self._cited_siblings: dict[int, tuple[int, set[int]]] = {}
        self._section_words: dict[tuple[str, str], bool] = {}
        self._url_kinds: dict[str, str] = {}

    @property
    def section(self) -> str:
        return self.stack.path

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
                self.stack.pop(_GROUP_LEVEL)
                self._item(block, block.start, block.content)
            index += 1
        self._add_named_sections()
        self.mentions.sort(key=lambda mention: mention.line)
        return ParsedList(self.list_name, self.mentions, self.resources, self.stack.sections)

    # structure: headings, bullet groups, tables

    def _heading(self, block: Block) -> None:
        raw = block.content
        if block.level == PSEUDO_HEADING_LEVEL:
            raw = bold_heading_text(raw) or raw
        self.stack.push(block.level, clean_text(raw))
        if block.level < PSEUDO_HEADING_LEVEL:
            heading = (block.level, self.section, self.stack.title, block.source.number)
            self.headings.append(heading)
        self._item(block, block.start, block.content)

    def _is_group(self, index: int) -> bool:
        """A bullet that titles the bullets under it: all bold, or with deeper bullets next
        and neither a link nor a citation of its own."""
        if (known := self._groups.get(index)) is not None:
            return known
        block = self.blocks[index]
        content = block.content
        following = self.following[index]
        has_children = (
            following < len(self.blocks)
            and self.blocks[following].kind is BlockKind.BULLET
            and self.blocks[following].depth > block.depth
        )
        is_group = bold_heading_text(content) is not None or (
            has_children and not find_links(content) and not is_citation(clean_text(content))
        )
        self._groups[index] = is_group
        return is_group

    def _bullet(self, index: int) -> None:
        block = self.blocks[index]
        self.stack.pop(_GROUP_LEVEL + block.depth)
        if self._is_group(index):
            title = bold_heading_text(block.content) or block.content
            self.stack.push(_GROUP_LEVEL + block.depth, clean_text(title))
        else:
            self._item(block, block.start, block.content, bullet=True, index=index)

    def _siblings_are_citations(self, index: int) -> bool:
        """True when at least half of the bullet's other siblings (groups aside) are
        citations, and one is. Counted once per list of siblings."""
        family = self.siblings[index]
        if family[0] not in self._cited_siblings:
            items = [i for i in family if not self._is_group(i)]
            cited = {i for i in items if is_citation(clean_text(self.blocks[i].content))}
            self._cited_siblings[family[0]] = (len(items), cited)
        items_count, cited = self._cited_siblings[family[0]]
        others = items_count - (not self._is_group(index))
        cited_others = len(cited) - (index in cited)
        return cited_others > 0 and cited_others * 2 >= others

    def _table(self, index: int) -> int:
        end = index
        while end < len(self.blocks) and self.blocks[end].kind is BlockKind.TABLE_ROW:
            end += 1
        rows = self.blocks[index:end]
        if len(rows) > 1 and is_table_separator(rows[1].content):
            rows = rows[2:]
        self.stack.pop(_GROUP_LEVEL)
        cells = [
            (row, column, offset, cell, find_links(cell))
            for row in rows
            for column, (offset, cell) in enumerate(table_cells(row.content))
        ]
        # A column where some row links a paper names papers in its other rows too.
        paper_columns = {
            column
            for _, column, _, _, links in cells
            if any(self._kind_of(link.url) in _PAPER_KINDS for link in links)
        }
        for row, column, offset, cell, links in cells:
            in_paper_column = column in paper_columns
            self._item(row, row.start + offset, cell, paper_column=in_paper_column, found=links)
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
        found: list[Link] | None = None,
    ) -> None:
        label, body_start = split_label(raw)
        if label in _PAPER_LABELS:
            self.paper_label_levels.add(self.stack.heading_level())
        found = find_links(raw) if found is None else found
        links = [link for link in found if link.start >= body_start]
        if not links and not bullet and paper_column is None:
            return  # a heading or a line of prose without links: nothing to record
        kinds = ["image" if link.is_image else self._kind_of(link.url) for link in links]
        item = Item(
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
            text = clean_text(link.text) or item.outside
            resource = Resource(link.url, kind, text, item.section, item.line_at(link.start))
            (current.resources if current else self.resources).append(resource)

    def _kind_of(self, url: str) -> str:
        if (kind := self._url_kinds.get(url)) is None:
            kind = self._url_kinds[url] = classify_url(url)
        return kind

    def _add(self, mention: Mention) -> Mention:
        self.mentions.append(mention)
        self.last_mention[mention.section] = mention
        return mention

    def _is_paper_link(self, item: Item, link: Link, kind: str) -> bool:
        if link.is_image or item.label in _RESOURCE_LABELS:
            return False
        if kind in _PAPER_KINDS:
            return not self._section_says(_NO_PAPERS_HERE, item.section)
        if item.label in _PAPER_LABELS:
            return kind in ("blog", "docs", "other")
        return item.bullet and kind == "blog" and is_research_blog(link.url)

    def _section_says(self, words: re.Pattern[str], section: str) -> bool:
        """Whether `section` holds one of `words`; asked once per section, not per link."""
        if (known := self._section_words.get((words.pattern, section))) is None:
            known = self._section_words[words.pattern, section] = bool(words.search(section))
        return known

    def _new(self, item: Item, position: int, kind: str, **fields: Any) -> Mention:
        line = item.line_at(position)
        return Mention(self.list_name, item.section, kind=kind, line=line, **fields)

    def _link_mention(self, item: Item, link: Link, url_kind: str) -> Mention:
        link_text = clean_text(link.text)
        kind = _PAPER_KINDS.get(url_kind, records.TEXT)
        title, year = None, None
        if is_citation(link_text):
            title, year = extract_citation(link_text)
        elif kind != records.ARXIV and item.outside_citation is not None:
            title, year = item.outside_citation
        elif kind != records.ARXIV and is_title_like(link_text):
            title = link_text
        arxiv = parse_arxiv_url(link.url) if kind == records.ARXIV else None
        return self._new(
            item, link.start, kind, link_text=link_text, url=link.url,
            arxiv_id=arxiv[0] if arxiv else None, version=arxiv[1] if arxiv else None,
            doi=parse_doi(link.url) if kind != records.ARXIV else None, title=title,
            year=year or leading_year(item.clean_body),
            reference=(item.clean_raw if item.paper_column is not None else "")
            or link_text or item.outside,
        )  # fmt: skip

    def _text_mentions(self, item: Item) -> list[Mention]:
        text = item.clean_body
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
        if not text or self._section_says(_NO_NAMES_HERE, item.section):
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

    def _named_thing(self, item: Item, text: str) -> tuple[str | None, int | None]:
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
        if not outer or any(kind != "code" for kind in outer):
            return None, None
        if drop_leading_year(item.outside).strip():
            return None, None
        name, year = system_name(clean_text(item.links[0].text))
        return (name, year) if is_name(name) else (None, None)

    def _add_named_sections(self) -> None:
        """In lists written as one heading per system with **Paper:** lines, a heading
        whose section links no paper still names a system: mention it by name, with the
        resources left in its section."""
        if not self.paper_label_levels:
            return
        leaf = max(self.paper_label_levels)
        named = [
            (path, title, line)
            for level, path, title, line in self.headings
            if level == leaf and title and " vs " not in f" {title.lower()} "
        ]
        mentioned = MarkedPaths([m.section for m in self.mentions] + [path for path, _, _ in named])
        for mention in self.mentions:
            mentioned.mark(mention.section)
        loose = ItemsBySection(self.resources)
        for path, title, line in named:
            if self._section_says(_NO_NAMES_HERE, path) or mentioned.has_at_or_under(path):
                continue
            name, year = system_name(title)
            mention = Mention(self.list_name, path, "", line, records.TEXT, title=name, year=year)
            mention.reference = title
            mention.resources = loose.take_starting_with(path)
            self.mentions.append(mention)
            mentioned.mark(path)
        self.resources = loose.remaining()


def parse_reading_list(text: str, list_name: str) -> ParsedList:
    """Every paper mention in a Markdown or plain-text reading list, with its section path,
    link text, line and the resources (code, videos, blogs, images) found near it."""
    try:
        return _ListParser(list_name, split_blocks(text)).parse()
    finally:
        forget_recent_lines()  # the caches hold lines of this list; let them go with it
