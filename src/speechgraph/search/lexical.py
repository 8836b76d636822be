"""Keyword queries: the terms of a query, stop words dropped and FTS syntax made plain text.
The index itself, and what it holds of each paper, is `catalogue.keywords`.
"""

from __future__ import annotations

import re

from speechgraph.text import STOP_WORDS

MAX_TERMS = 32
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def query_terms(query: str) -> list[str]:
    """Distinct lowercase word terms of `query`, stopwords dropped, at most MAX_TERMS.

    Only letters and digits survive, so FTS5 syntax (quotes, `*`, NEAR, AND, `--`) in a query is
    plain text here.
    """
    terms = [word for word in _WORD.findall(query.lower()) if word not in STOP_WORDS]
    return list(dict.fromkeys(terms))[:MAX_TERMS]


def is_only_common_words(query: str) -> bool:
    """Whether `query` has words and every one is a stopword (so no keyword can match)."""
    words = _WORD.findall(query.lower())
    return bool(words) and all(word in STOP_WORDS for word in words)
