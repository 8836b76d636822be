"""One item of a list (a bullet, a line, a heading or a table cell) with its links classified,
and the texts the parser reads around them, each cleaned once however many links ask.

Imports only the `lists` modules `inline`, `markdown` and `prose`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from speechgraph.lists.inline import Link, text_outside_links
from speechgraph.lists.markdown import Block, clean_text
from speechgraph.lists.prose import extract_citation, is_citation


@dataclass
class Item:
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

    # Each link of an item reads these; computed once, so a line with many links stays linear.
    @cached_property
    def clean_body(self) -> str:
        return clean_text(self.body)

    @cached_property
    def clean_raw(self) -> str:
        return clean_text(self.raw)

    @cached_property
    def outside(self) -> str:
        """The item's text outside its links, cleaned."""
        return clean_text(text_outside_links(self.body))

    @cached_property
    def outside_citation(self) -> tuple[str | None, int | None] | None:
        """(title, year) when the text outside the links is a citation."""
        return extract_citation(self.outside) if is_citation(self.outside) else None

    def line_at(self, position: int) -> int:
        return self.block.source.line_at(self.offset + position)
