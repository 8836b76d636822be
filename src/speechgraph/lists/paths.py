"""Section paths ("Speech > ASR > Whisper"): the stack of headings and bullet groups that names
the current one, and questions by prefix (which paths at or under a heading hold a mention,
which resources sit under it) answered with sorted paths and binary searches, so a list with
many headings costs a few searches per heading, never a scan of every mention.

Imports only the standard library.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Generic, Protocol, TypeVar

SEPARATOR = " > "
# Paths under "p" start with "p > "; " " and "!" are neighbours, so they sort before "p >!".
_AFTER_SEPARATOR = " >!"


class SectionStack:
    """The headings and bullet groups around the current line, by level (lower is outer),
    with the path they name and every path named so far, in order of first appearance."""

    def __init__(self, heading_levels: int) -> None:
        self.heading_levels = heading_levels  # levels up to this are Markdown headings
        self.entries: list[tuple[int, str, str]] = []  # level, title, path up to it
        self.sections: list[str] = []
        self._seen: set[str] = set()
        self._paths: dict[tuple[str, str], str] = {}  # one shared string per path

    @property
    def path(self) -> str:
        return self.entries[-1][2] if self.entries else ""

    @property
    def title(self) -> str:
        return self.entries[-1][1] if self.entries else ""

    def pop(self, level: int) -> None:
        """Close every entry at `level` or deeper."""
        while self.entries and self.entries[-1][0] >= level:
            self.entries.pop()

    def push(self, level: int, title: str) -> None:
        """Open `title` at `level`, closing what it replaces; empty titles add no path step."""
        self.pop(level)
        title = title.rstrip(":").strip()
        parent = self.path
        path = parent or title
        if parent and title and (path := self._paths.get((parent, title), "")) == "":
            path = self._paths[parent, title] = f"{parent}{SEPARATOR}{title}"
        self.entries.append((level, title, path))
        if path and path not in self._seen:
            self._seen.add(path)
            self.sections.append(path)

    def heading_level(self) -> int:
        """The level of the innermost Markdown heading open (0 if none)."""
        level = 0
        for entry_level, _, _ in self.entries:
            if entry_level > self.heading_levels:
                break
            level = entry_level  # levels rise along the stack
        return level


class MarkedPaths:
    """A fixed set of paths, some of them marked; asks whether a path or any path under it
    is marked. Marks go in a Fenwick tree over the sorted paths."""

    def __init__(self, paths: Iterable[str]) -> None:
        self._paths = sorted(set(paths))
        self._tree = [0] * (len(self._paths) + 1)

    def mark(self, path: str) -> None:
        """Mark `path`, which must be one of the paths given at construction."""
        position = bisect.bisect_left(self._paths, path) + 1
        while position <= len(self._paths):
            self._tree[position] += 1
            position += position & -position

    def _marks_before(self, end: int) -> int:
        total = 0
        while end > 0:
            total += self._tree[end]
            end -= end & -end
        return total

    def _any_marked(self, start: int, end: int) -> bool:
        return start < end and self._marks_before(end) > self._marks_before(start)

    def has_at_or_under(self, path: str) -> bool:
        """True when `path` itself or a path starting with `path + " > "` is marked."""
        exact = bisect.bisect_left(self._paths, path)
        is_known = exact < len(self._paths) and self._paths[exact] == path
        if is_known and self._any_marked(exact, exact + 1):
            return True
        under = bisect.bisect_left(self._paths, path + SEPARATOR)
        beyond = bisect.bisect_left(self._paths, path + _AFTER_SEPARATOR)
        return self._any_marked(under, beyond)


class _HasSection(Protocol):
    @property
    def section(self) -> str: ...


Item = TypeVar("Item", bound=_HasSection)


class ItemsBySection(Generic[Item]):
    """Items (resources) handed out by the prefix of their section, each at most once and
    in their original order."""

    def __init__(self, items: Sequence[Item]) -> None:
        self._items = list(items)
        self._order = sorted(range(len(self._items)), key=lambda index: self._items[index].section)
        self._sections = [self._items[index].section for index in self._order]
        # _next[i]: the first position at or after i in sorted order still not handed out.
        self._next = list(range(len(self._order) + 1))
        self._taken = [False] * len(self._items)

    def _first_left(self, position: int) -> int:
        root = position
        while self._next[root] != root:
            root = self._next[root]
        while self._next[position] != root:
            self._next[position], position = root, self._next[position]
        return root

    def take_starting_with(self, prefix: str) -> list[Item]:
        """Every item not yet taken whose section starts with `prefix`, in original order."""
        taken = []
        position = self._first_left(bisect.bisect_left(self._sections, prefix))
        while position < len(self._order) and self._sections[position].startswith(prefix):
            taken.append(self._order[position])
            self._taken[self._order[position]] = True
            self._next[position] = position + 1
            position = self._first_left(position + 1)
        return [self._items[index] for index in sorted(taken)]

    def remaining(self) -> list[Item]:
        """The items never taken, in original order."""
        return [item for item, taken in zip(self._items, self._taken, strict=True) if not taken]
