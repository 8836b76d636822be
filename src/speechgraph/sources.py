"""Reading lists -> mentions: arXiv ids in every URL form, DOIs, publisher links, text-only
citations, and the non-paper resources around them.

Pure functions over text (`read_list_file` is the one that reads a file). Imports
`records`, `errors` and `markdown` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from speechgraph import records
from speechgraph.errors import InvalidPaperId, ReadingListError
from speechgraph.markdown import (
    PSEUDO_HEADING_LEVEL,
    Block,
    BlockKind,
    Link,
    bold_heading_text,
    clean_text,
    drop_leading_year,
    extract_citation,
    find_links,
    is_citation,
    is_name,
    is_table_separator,
    is_title_like,
    leading_year,
    looks_like_title,
    split_blocks,
    split_label,
    system_name,
    table_cells,
    text_outside_links,
    word_set,
)
from speechgraph.records import Mention, ParsedList, Resource

__all__ = [
    "classify_url",
    "clean_text",
    "ensure_has_papers",
    "find_arxiv_ids_in_text",
    "normalize_arxiv_id",
    "parse_arxiv_url",
    "parse_doi",
    "parse_reading_list",
    "read_list_file",
]

# --- arXiv ids and DOIs -------------------------------------------------------------

_NEW_ID = r"(?P<new>\d{4}\.\d{4,5})"
_OLD_ID = r"(?P<old>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z][A-Za-z-]+)?/(?P<number>\d{7})"
_ID_WITH_VERSION = rf"(?:{_NEW_ID}|{_OLD_ID})(?:v(?P<version>\d+))?(?![\d])"
_ARXIV_HOST = re.compile(r"^(?:(?:www|export)\.)?arxiv\.org$|^ar5iv(?:\.labs\.arxiv)?\.org$")
_ARXIV_PATH = re.compile(
    rf"^/(?:abs|pdf|html|format|ps|src|e-print|view)/(?:arxiv:)?{_ID_WITH_VERSION}", re.I
)
_ARXIV_IN_TEXT = re.compile(rf"\barxiv:\s?{_ID_WITH_VERSION}", re.I)
_ARXIV_URL_IN_TEXT = re.compile(r"(?:https?://)?(?:[\w-]+\.)*(?:arxiv|ar5iv)\.org/[^\s)\]>\"']+")
_BARE_ID = re.compile(rf"^(?:arxiv:)?{_ID_WITH_VERSION}$", re.I)
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"<>]+")


def _id_from_match(match: re.Match[str]) -> tuple[str, int | None] | None:
    version = int(match.group("version")) if match.group("version") else None
    if match.group("new"):
        paper_id = match.group("new")
        year_month, number = paper_id.split(".")
        month = int(year_month[2:])
        # Five-digit numbers started in January 2015; four digits before.
        if not 1 <= month <= 12 or (len(number) == 5) != (year_month >= "1501"):
            return None
        return paper_id, version
    return f"{match.group('old').lower()}/{match.group('number')}", version


def _absolute(url: str) -> str:
    url = url.strip().strip("<>")
    if url.startswith("//"):
        return "https:" + url
    if not re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) and re.match(r"^(?:www\.)?[\w-]+\.", url):
        host = url.split("/", 1)[0]
        if re.search(r"\.(?:org|com|net|io|co|edu|dev|ai|science|pub|press|cc|tv)$", host):
            return "https://" + url
    return url


def parse_arxiv_url(url: str) -> tuple[str, int | None] | None:
    """(id without version, version) for an arXiv or ar5iv link in any form, else None."""
    parts = urlsplit(_absolute(url))
    if not _ARXIV_HOST.match((parts.hostname or "").lower()):
        return None
    match = _ARXIV_PATH.match(unquote(parts.path))
    return _id_from_match(match) if match else None


def find_arxiv_ids_in_text(text: str) -> list[tuple[str, int | None]]:
    """arXiv ids cited in prose (`arXiv:2005.07143`, arXiv URLs), first occurrence order."""
    found: list[tuple[str, int | None]] = []
    candidates = [(m.start(), _id_from_match(m)) for m in _ARXIV_IN_TEXT.finditer(text)]
    candidates += [
        (m.start(), parse_arxiv_url(m.group())) for m in _ARXIV_URL_IN_TEXT.finditer(text)
    ]
    seen: set[str] = set()
    for _, paper in sorted(candidates, key=lambda item: item[0]):
        if paper is not None and paper[0] not in seen:
            seen.add(paper[0])
            found.append(paper)
    return found


def normalize_arxiv_id(raw: str) -> tuple[str, int | None]:
    """(id, version) from `2006.11477v2`, `arXiv:2006.11477`, `hep-th/9901001` or an arXiv URL.

    Raises InvalidPaperId when `raw` is none of these.
    """
    text = raw.strip()
    match = _BARE_ID.match(text)
    paper = _id_from_match(match) if match else parse_arxiv_url(text)
    if paper is None:
        raise InvalidPaperId(
            f"{raw!r} is not an arXiv id; write it like 2006.11477, 2006.11477v2 or hep-th/9901001"
        )
    return paper


def parse_doi(url_or_text: str) -> str | None:
    """The lowercased DOI in a doi.org link, `doi:` text, or a publisher URL that embeds one."""
    parts = urlsplit(_absolute(url_or_text))
    host = (parts.hostname or "").lower()
    if parts.scheme in ("http", "https") and host:
        path = unquote(parts.path).lstrip("/")
        if host in ("doi.org", "dx.doi.org", "www.doi.org"):
            return path.rstrip("/").lower() if path.startswith("10.") else None
        # Publisher paths put the DOI between other segments: keep its first suffix segment.
        match = re.search(r"\b10\.\d{4,9}/[^/?#\s]+", path)
        if match is None:
            return None
        return re.sub(r"\.(?:pdf|html?)$", "", match.group(), flags=re.I).lower()
    match = _DOI.search(url_or_text)
    return match.group().rstrip(".,;:)]}").lower() if match else None


# --- URL kinds ---------------------------------------------------------------------

_PUBLISHER_HOSTS = word_set("""ieeexplore.ieee.org aclanthology.org aclweb.org openaccess.thecvf.com
    proceedings.mlr.press isca-archive.org isca-speech.org sciencedirect.com mdpi.com
    direct.mit.edu springer.com dl.acm.org openreview.net proceedings.neurips.cc
    papers.nips.cc neurips.cc icml.cc jmlr.org distill.pub hal.science archives-ouvertes.fr
    nature.com aaai.org ijcai.org ecva.net tandfonline.com wiley.com frontiersin.org
    cambridge.org iopscience.iop.org pubs.aip.org""")
_VIDEO_HOSTS = word_set("youtube.com youtu.be youtube-nocookie.com bilibili.com b23.tv vimeo.com")
_CODE_HOSTS = word_set(
    "github.com gitlab.com bitbucket.org colab.research.google.com nbviewer.org "
    "sourceforge.net codeberg.org"
)
_IMAGE_HOSTS = word_set(
    "shields.io badgen.net camo.githubusercontent.com googleusercontent.com bp.blogspot.com"
)
_BLOG_HOSTS = ("medium.com", "github.io", "substack.com", "towardsdatascience.com")
_IMAGE_SUFFIX = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|bmp)$", re.I)
_HF_HOSTS = ("huggingface.co", "hf.co")
_HF_DOCS = word_set("docs learn course tasks join pricing models papers")
# Research labs publish papers as blog posts; a bare bullet link there is a paper mention.
RESEARCH_BLOG_HOSTS = word_set(
    "blog.research.google research.google ai.googleblog.com ai.meta.com ai.facebook.com "
    "deepmind.com deepmind.google machinelearning.apple.com microsoft.com"
)


def _host_in(host: str, hosts: Iterable[str]) -> bool:
    return any(host == known or host.endswith("." + known) for known in hosts)


def _huggingface_kind(path: str) -> str:
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return "other"
    if segments[0] == "spaces":
        return "code"
    if segments[0] == "blog":
        return "blog"
    if segments[0] in _HF_DOCS:
        return "docs"
    return "model" if len(segments) >= 2 and segments[0] != "datasets" else "other"


def classify_url(url: str) -> str:
    """What a link points at: "arxiv", "doi", "publisher", "code", "video", "image",
    "model", "blog", "docs" or "other" (relative links to the list's own files are "other")."""
    absolute = _absolute(url)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "other"
    host, path = parts.hostname.lower(), unquote(parts.path)
    if parse_arxiv_url(absolute):
        return "arxiv"
    if host in ("doi.org", "dx.doi.org", "www.doi.org"):
        return "doi"
    if _IMAGE_SUFFIX.search(path) or _host_in(host, _IMAGE_HOSTS):
        return "image"
    if _host_in(host, _VIDEO_HOSTS):
        return "video"
    if _host_in(host, _HF_HOSTS):
        return _huggingface_kind(path)
    if _host_in(host, _CODE_HOSTS) or (host.endswith("kaggle.com") and "/code" in path):
        return "code"
    if host == "catalog.ngc.nvidia.com" or host.endswith("modelscope.cn"):
        return "model"
    if _host_in(host, _PUBLISHER_HOSTS) or path.lower().endswith(".pdf"):
        return "publisher"
    if _host_in(host, _BLOG_HOSTS) or "blog" in host or re.search(r"/blogs?(?:/|$)", path):
        return "blog"
    if host.startswith(("docs.", "developer.")) or "readthedocs" in host or "/docs/" in path:
        return "docs"
    return "other"


# --- reading files -----------------------------------------------------------------


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    controls = sum(1 for char in text if not char.isprintable() and char not in "\n\r\t\f")
    return controls > max(8, len(text) // 20)


def read_list_file(path: Path) -> str:
    """The text of a local reading list.

    Raises ReadingListError naming the path when it is missing, a directory, unreadable,
    binary, or empty.
    """
    if not path.exists():
        raise ReadingListError(f"reading list {path} does not exist; check the path")
    if path.is_dir():
        raise ReadingListError(f"reading list {path} is a directory; give a Markdown file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ReadingListError(
            f"cannot read reading list {path} ({error.strerror}); check its permissions"
        ) from error
    return decode_list_bytes(data, str(path))


def decode_list_bytes(data: bytes, location: str) -> str:
    """The text of a reading list read from a file or a URL; raises ReadingListError naming
    `location` when it is empty or binary."""
    if not data.strip():
        raise ReadingListError(f"reading list {location} is empty; add paper links to it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if _looks_binary(text):
        raise ReadingListError(
            f"reading list {location} is not text (binary data); give a Markdown or text file"
        )
    return text


def ensure_has_papers(parsed: ParsedList, location: str) -> None:
    """Raises ReadingListError when a parsed list has no paper links or citations."""
    if not parsed.mentions:
        raise ReadingListError(
            f"reading list {location} has no paper links (arXiv, DOI, publisher) or "
            "citations; check that it is a list of papers"
        )


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


def _is_research_blog(url: str) -> bool:
    return _host_in((urlsplit(_absolute(url)).hostname or "").lower(), RESEARCH_BLOG_HOSTS)


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
        return item.bullet and kind == "blog" and _is_research_blog(link.url)

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
