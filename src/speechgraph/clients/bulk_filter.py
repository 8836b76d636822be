"""Which imported records to keep: arXiv categories with prefix semantics, the default speech
and audio selection, and a first-version date range. A record the filter drops is `skipped`,
never bad.

Imports only the ground modules and `clients.taxonomy`.
"""

from __future__ import annotations

import calendar
import difflib
import re
from dataclasses import dataclass
from datetime import date

from speechgraph.clients.taxonomy import (
    canonical_code,
    closest_codes,
    is_archive,
    old_archives_within,
    same_category,
)
from speechgraph.errors import ImportFilterError
from speechgraph.records import PaperRecord

ALL = "all"
SPEECH = "speech"  # the default: speech and audio papers, see `is_about_speech`
SPEECH_CATEGORIES = frozenset({"eess.AS", "cs.SD"})
LANGUAGE_CATEGORIES = frozenset(same_category("cs.CL"))  # cs.CL and the old cmp-lg

# Phrases where "speech" or "voice" is not about sound: hate speech, part-of-speech tags,
# speech acts, the passive voice. Removed before the terms below are looked for. "Direct
# speech" stays when it is followed by what a system does with audio.
_IDIOMS = re.compile(
    r"\b(?:"
    r"(?:hate|hateful|toxic|offensive|abusive|harmful|free|counter|political|presidential"
    r"|campaign|inaugural|reported|direct|indirect)[\s-]+speech(?:es)?"
    r"(?![\s-]+(?:translation|recognition|synthesis|to)\b)"
    r"|counterspeech|parts?[\s-]+of[\s-]+speech|speech[\s-]+acts?|figures?[\s-]+of[\s-]+speech"
    r"|(?:active|passive|middle)[\s-]+voice|voices?[\s-]+of[\s-]+(?:the|customers?|people)"
    r")\b",
    re.IGNORECASE,
)
# Terms that name speech or audio work. Tuned on cs.CL papers: the shared corpus' 1,319
# cs.CL-only records and 4,334 cs.CL papers of 2007-2017 (see bench/convert_arxiv_meta.py).
_SPEECH_TERMS = re.compile(
    r"\b(?:speech|voices?|audio|acoustic|ASR|TTS|SLU|prosod\w*|phonem\w*|intonation"
    r"|pronunciations?|vocoders?|spectrograms?|wav2vec|hubert|lip[\s-]?reading"
    r"|dysarthri\w*|stutter\w*|disfluen\w*|keyword[\s-]+spotting"
    r"|spoken[\s-]+(?:language[\s-]+understanding|dialog|dialogue|term|content|document"
    r"|conversation|question|word)s?"
    r"|speaker[\s-]+(?:verification|recognition|identification|diari[sz]ation|adaptation"
    r"|embedding)s?)\b",
    re.IGNORECASE,
)
# Words common in speech papers and in text papers alike: they only tip a single term.
_SUPPORTING_TERMS = re.compile(
    r"\b(?:spoken|speakers?|listeners?|utterances?|phonetics?|phones?|transcri\w+|sounds?"
    r"|accents?|accented|listen\w*|hearing|podcasts?|whisper|syllables?|conversational"
    r"|dialects?)\b",
    re.IGNORECASE,
)
_SPOKEN = re.compile(r"\bspoken\b", re.IGNORECASE)
# Sign language papers say "speech" and "spoken" to contrast with signing.
_SIGN_LANGUAGE = re.compile(r"\bsign(?:ed)?[\s-]+languages?\b|\bsigners?\b", re.IGNORECASE)


def is_about_speech(title: str, abstract: str | None) -> bool:
    """True when a title and abstract are about speech or audio rather than only text.

    Kept: a speech term in the title ("spoken" counts there); otherwise two speech terms in
    title and abstract, or one with two different supporting words. Sign language papers
    need a speech term in the title.
    """
    title_text = _IDIOMS.sub(" ", title)
    if _SPEECH_TERMS.search(title_text):
        return True
    if _SIGN_LANGUAGE.search(title):
        return False
    if _SPOKEN.search(title_text):
        return True
    text = _IDIOMS.sub(" ", f"{title}\n{abstract or ''}")
    terms = _SPEECH_TERMS.findall(text)
    if len(terms) >= 2:
        return True
    supporting = {word.lower() for word in _SUPPORTING_TERMS.findall(text)}
    return len(terms) == 1 and len(supporting) >= 2


@dataclass(frozen=True)
class CategoryFilter:
    """Which categories to keep: archives (`cs` keeps every cs.*), codes, `speech`, or all."""

    archives: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()
    speech: bool = False
    everything: bool = False

    @classmethod
    def parse(cls, text: str | None) -> CategoryFilter:
        """The filter for a `--category` value: comma-separated arXiv codes (`eess.AS`),
        archives (`cs`, `physics`, `cmp-lg`), `speech` (the default when `text` is None or
        empty) or `all`. Raises ImportFilterError naming an unknown code."""
        entries = [entry.strip() for entry in (text or "").split(",") if entry.strip()]
        if not entries:
            return cls(speech=True)
        archives: set[str] = set()
        codes: set[str] = set()
        speech = everything = False
        for entry in entries:
            if entry.lower() == ALL:
                everything = True
            elif entry.lower() == SPEECH:
                speech = True
            elif (code := canonical_code(entry)) is None:
                raise ImportFilterError(_unknown_category_message(entry))
            elif is_archive(code):
                archives.add(code)
                codes |= old_archives_within(code)
            else:
                codes |= same_category(code)
        return cls(frozenset(archives), frozenset(codes), speech, everything)

    def matches(self, record: PaperRecord) -> bool:
        if self.everything:
            return True
        categories = set(record.categories)
        if self.codes & categories:
            return True
        if any(category.split(".")[0] in self.archives for category in categories):
            return True
        return self.speech and is_speech_record(record)

    def describe(self) -> str:
        """The filter as a `--category` value would write it."""
        if self.everything:
            return ALL
        parts = sorted(self.archives | self.codes) + ([SPEECH] if self.speech else [])
        return ",".join(parts)


def is_speech_record(record: PaperRecord) -> bool:
    """The default selection: eess.AS or cs.SD, or cs.CL about speech (`is_about_speech`)."""
    categories = set(record.categories)
    if categories & SPEECH_CATEGORIES:
        return True
    return bool(categories & LANGUAGE_CATEGORIES) and is_about_speech(record.title, record.abstract)


def _unknown_category_message(entry: str) -> str:
    hint = difflib.get_close_matches(entry.lower(), [ALL, SPEECH], n=1) or closest_codes(entry)
    did_you_mean = f"did you mean {' or '.join(hint)}? " if hint else ""
    return (
        f"{entry!r} is not an arXiv category or archive; {did_you_mean}"
        "write codes like eess.AS,cs.SD, archives like cs, or all"
    )


@dataclass(frozen=True)
class RecordFilter:
    """Categories plus a range of first-version dates, both ends included. A record with no
    known first-version date is kept only when no date range is set."""

    categories: CategoryFilter
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise ImportFilterError(
                f"--since {self.since} is after --until {self.until}; swap them"
            )

    @classmethod
    def parse(
        cls, categories: str | None, since: str | None = None, until: str | None = None
    ) -> RecordFilter:
        """From the option values: `--category` as in `CategoryFilter.parse`, `--since` and
        `--until` as YYYY, YYYY-MM or YYYY-MM-DD (a year or month means its first day for
        `since` and its last day for `until`)."""
        return cls(
            CategoryFilter.parse(categories),
            parse_day(since, "--since", last=False) if since else None,
            parse_day(until, "--until", last=True) if until else None,
        )

    def describe(self) -> str:
        """The filter in words: categories, then the date range when there is one."""
        dates = f", {self.since or '…'} to {self.until or '…'}" if self.since or self.until else ""
        return self.categories.describe() + dates

    def accepts(self, record: PaperRecord) -> bool:
        if (self.since or self.until) and record.published is None:
            return False
        if self.since and record.published and record.published < self.since:
            return False
        if self.until and record.published and record.published > self.until:
            return False
        return self.categories.matches(record)


_DAY = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def parse_day(text: str, option: str, *, last: bool) -> date:
    """`2024` / `2024-03` / `2024-03-05` as a date: the first day of the year or month, or the
    last day when `last`. Raises ImportFilterError naming `option`."""
    match = _DAY.match(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        year = int(match.group(1))
        month = int(match.group(2) or (12 if last else 1))
        if match.group(3):
            return date(year, month, int(match.group(3)))
        day = calendar.monthrange(year, month)[1] if last else 1
        return date(year, month, day)
    except ValueError:
        raise ImportFilterError(
            f"{option} {text!r} is not a date; write it as YYYY, YYYY-MM or YYYY-MM-DD"
        ) from None
