"""Finding a paper by its title among many: an inverted index of title words narrows the
candidates to papers that can still reach the similarity threshold, and only those are scored
with `text.title_similarity`. Exact, not approximate: a paper the brute-force scan would accept
is never missed.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from speechgraph.text import normalize_title, title_similarity


class TitleIndex:
    """Titles by paper id, searchable by similarity."""

    def __init__(self) -> None:
        self.titles: dict[str, str] = {}
        self._words: dict[str, frozenset[str]] = {}
        self._postings: dict[str, set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self.titles)

    def add(self, paper_id: str, title: str) -> None:
        for word in self._words.get(paper_id, frozenset()):
            self._postings[word].discard(paper_id)
        words = frozenset(normalize_title(title).split())
        self.titles[paper_id] = title
        self._words[paper_id] = words
        for word in words:
            self._postings[word].add(paper_id)

    def best(self, title: str, threshold: float) -> tuple[float, str] | None:
        """The most similar title scoring at least `threshold`, as (score, paper id)."""
        words = frozenset(normalize_title(title).split())
        best: tuple[float, str] | None = None
        for paper_id in self._candidates(words, threshold):
            score = title_similarity(title, self.titles[paper_id])
            if score >= threshold and (best is None or (score, paper_id) > best):
                best = (score, paper_id)
        return best

    def _candidates(self, words: frozenset[str], threshold: float) -> list[str]:
        """Papers whose word overlap with `words` can still give `threshold`.

        similarity = (ratio + dice) / 2 with ratio <= 1, so dice >= 2·threshold - 1 = d. Sharing
        s words with a title of |B| words (s <= |B|) needs 2s >= d(|A| + s), s >= d|A|/(2 - d):
        a candidate holds at least that many of our words, so at least one of the rarest
        |A| - that + 1 of them. Only those words' postings are read.
        """
        if not words:
            return []
        dice = max(0.0, 2 * threshold - 1)
        least_shared = max(1, math.ceil(dice * len(words) / (2 - dice)))
        by_rarity = sorted(words, key=lambda word: len(self._postings.get(word, ())))
        seeds = by_rarity[: len(words) - least_shared + 1]
        pool: Counter[str] = Counter()
        for word in seeds:
            pool.update(self._postings.get(word, ()))
        candidates = []
        for paper_id in pool:
            other = self._words[paper_id]
            shared = len(words & other)
            if 2 * shared >= dice * (len(words) + len(other)):
                candidates.append(paper_id)
        return candidates
