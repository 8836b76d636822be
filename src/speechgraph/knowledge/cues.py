"""The cue words that type a relation: "based on X" builds on X, "outperforms X" compares with it,
"such as X" only mentions it. The nearest cue of the clause that holds the name decides.

Pure functions over one sentence; imports only the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BUILDS_ON = "builds_on"
COMPARES_WITH = "compares_with"
MENTIONS = "mentions"
UNRELATED = "unrelated"  # "unrelated to X despite the similar name": no relation at all

MAX_CUE_WORDS = 10  # a cue further away than this no longer types the name
MAX_TRAILING_CUE_WORDS = 3  # "X as a baseline": a cue after the name stays close
MAX_EXAMPLE_WORDS = 4  # "outperforms strong baselines such as X": the verb types the examples
COMMA_WORDS = 1  # a comma between cue and name counts as this many words
WEAK_CUE_WORDS = 2  # a weak cue ("uses X", "over X") ranks as if this much further away

# (kind, strong, where the cue stands, how many words it reaches) -> its patterns. "before": the
# cue precedes the name; "after": it follows; "adjacent": it follows with no word between.
_CUE_GROUPS: dict[tuple[str, bool, str, int], list[str]] = {
    (BUILDS_ON, True, "before", MAX_CUE_WORDS): [
        r"based\s+(?:up)?on",
        r"buil(?:d|ds|t|ding)\s+(?:up)?on",
        r"on\s+top\s+of",
        r"extend(?:s|ed|ing)?",
        r"extensions?\s+of",
        r"(?:inspired|motivated)\s+by",
        r"follow(?:s|ed|ing)?",
        r"(?:derived|adapted)\s+from",
        r"(?:variants?|versions?|counterpart)\s+of",
        r"redesign(?:s|ed|ing)?",
        r"modif(?:y|ies|ied|ying)",
        r"simplif(?:y|ies|ied|ying)",
        r"improv(?:e|es|ed|ing)\s+(?:up)?on",
        r"initiali[sz](?:e|es|ed|ing)\s+(?:from|with)",
        r"reproduc(?:e|es|ed|ing)",
        r"train(?:s|ed|ing)?\s+(?:on|with|a|an)",
        r"jointly\s+train(?:s|ed|ing)?",
        r"adopt(?:s|ed|ing)?",
        r"borrow(?:s|ed|ing)?",
        r"in\s+the\s+(?:style|spirit)\s+of",
    ],
    (BUILDS_ON, False, "before", MAX_CUE_WORDS): [
        r"us(?:e|es|ed|ing)",
        r"employ(?:s|ed|ing)?",
        r"appl(?:y|ies|ied|ying)",
        r"leverag(?:e|es|ed|ing)",
        r"combin(?:e|es|ed|ing)",
        r"integrat(?:e|es|ed|ing)",
        r"incorporat(?:e|es|ed|ing)",
        r"pair(?:s|ed|ing)?",
        r"coupled\s+with",
        r"upon",
        # The data a paper trains or is evaluated on counts as built on.
        r"(?:evaluat\w*|experiments?|results|tested|conducted|perform\w*|improvements?|"
        r"(?:pre-?)?trained|fine-?tuned)(?:\s+\w+)?\s+on(?:\s+the)?",
    ],
    (BUILDS_ON, True, "before", 1): [r"on(?:\s+the)?"],  # "evaluated on VoxCeleb"
    (BUILDS_ON, True, "adjacent", 0): [r"-(?:based|style|initiali[sz]ed)", r"based", r"style"],
    (BUILDS_ON, True, "after", MAX_TRAILING_CUE_WORDS): [
        r"as\s+(?:a|an|the|its|our)\s+(?:backbone|encoder|decoder|vocoder|teacher|front[- ]end)",
        r"(?:test|evaluation|training|dev)\s+sets?",
        r"data\s*sets?",
        r"corpus",
        r"corpora",
    ],
    (BUILDS_ON, False, "after", MAX_TRAILING_CUE_WORDS): [
        r"(?:is|are|was|were)\s+(?:used|adopted|employed|extended|modified|trained)",
    ],
    (COMPARES_WITH, True, "before", MAX_CUE_WORDS): [
        r"outperform(?:s|ed|ing)?",
        r"surpass(?:es|ed|ing)?",
        r"beat(?:s|ing)?",
        r"exceed(?:s|ed|ing)?",
        r"compar(?:ed|ing|isons?)\s+(?:to|with|against)",
        r"in\s+comparison\s+(?:to|with)",
        r"compar(?:e|es|ed|ing)",
        r"than",
        r"unlike",
        r"in\s+contrast\s+(?:to|with)",
        r"contrary\s+to",
        r"superior\s+to",
        r"competitive\s+(?:to|with)",
        r"on\s+par\s+with",
        r"versus",
        r"vs\.?",
        r"against",
        r"relative\s+to",
        r"instead\s+of",
        r"rather\s+than",
        r"baselines?",
        r"match(?:es|ed)?",
    ],
    (COMPARES_WITH, False, "before", MAX_CUE_WORDS): [r"over"],
    (COMPARES_WITH, True, "after", MAX_TRAILING_CUE_WORDS): [
        r"(?:as\s+(?:a|an|the|our)\s+)?(?:strong\s+)?baselines?",
    ],
    (MENTIONS, True, "before", MAX_CUE_WORDS): [
        r"such\s+as",
        r"e\.g\.?",
        r"for\s+(?:example|instance)",
        r"including",
        r"like",
    ],
    (UNRELATED, True, "before", MAX_CUE_WORDS): [
        r"unrelated\s+to",
        r"not\s+related\s+to",
        r"(?:not\s+to\s+be\s+)?confused\s+with",
    ],
}

# Where a sentence turns ("while", "but", ";"), a cue on one side does not type a name on the
# other; later work ("later", "follow-ups") is not what the paper relies on either.
_BARRIER = re.compile(
    r"[;:]|\b(?:while|whereas|but|however|although|though|later|subsequent|follow-ups?)\b", re.I
)
# A sentence about earlier work ("Prominent methods ... use vocoders such as WaveNet") says what
# others build on, not what this paper builds on.
_BACKGROUND_OPENING = re.compile(
    r"^\W*(?:(?:however|but|yet|still|also|thus|hence|moreover|nevertheless|in)\W+)?(?:the\s+)?"
    r"(?:previous|prior|existing|recent|recently|conventional|traditional|prominent|current|"
    r"earlier|most|many|several|typical|typically|standard)\b",
    re.I,
)
_SELF_REFERENCE = re.compile(r"\b(?:we|our|us|this\s+(?:paper|work|study|report))\b", re.I)


@dataclass(frozen=True)
class _Cue:
    kind: str
    pattern: re.Pattern[str]
    strong: bool
    position: str
    reach: int


@dataclass(frozen=True)
class Typing:
    """How one name is typed: its relation kind, the cue (None without one), how many words
    separate cue and name, whether the cue is strong, and where the cue starts."""

    kind: str
    cue: str | None
    words: int
    strong: bool
    at: int = -1


def _compile(patterns: list[str]) -> re.Pattern[str]:
    # A suffix cue ("-based") sticks to the name; every other cue is a whole word.
    alternatives = [p if p.startswith("-") else rf"(?<![\w-])(?:{p})" for p in patterns]
    return re.compile(rf"(?:{'|'.join(alternatives)})(?![\w-])", re.I)


_CUES = [
    _Cue(kind, _compile(patterns), strong, position, reach)
    for (kind, strong, position, reach), patterns in _CUE_GROUPS.items()
]
_NO_CUE = Typing(MENTIONS, None, 0, True)


def is_background(sentence: str) -> bool:
    """True for a sentence that describes earlier work without speaking of this paper."""
    return bool(_BACKGROUND_OPENING.match(sentence)) and not _SELF_REFERENCE.search(sentence)


def gap_words(gap: str) -> int | None:
    """How far apart a cue and a name are, in ordinary words (a comma counts COMMA_WORDS), or
    None where the sentence turns between them. Other names and "and"/"or" do not count, so one
    cue types a whole list ("outperforms Whisper, OWSM, and Seamless-M4T")."""
    if _BARRIER.search(gap):
        return None
    words = [
        word
        for word in re.findall(r"[\w+]+", gap)
        if word.lower() not in ("and", "or") and not re.search(r"[A-Z]", word)
    ]
    return len(words) + COMMA_WORDS * gap.count(",")


def type_by_cues(sentence: str, start: int, end: int) -> Typing:
    """How the name at `sentence[start:end]` is typed: by the nearest cue of its clause (a cue
    after the name only when close, "X-based" only when adjacent); MENTIONS without a cue.

    Examples take the verb they illustrate: in "outperforms baselines such as X" or "compares
    methods such as X", "such as" defers to the cue before it.
    """
    candidates = [typing for cue in _CUES for typing in _matches(cue, sentence, start, end)]
    if not candidates:
        return _NO_CUE
    best = min(candidates, key=_rank)
    if best.kind == MENTIONS:
        governing = [
            typing
            for typing in candidates
            if typing.kind != MENTIONS and typing.at < best.at and _governs(sentence, typing, best)
        ]
        if governing:
            best = min(governing, key=_rank)
    return best


def _governs(sentence: str, verb: Typing, example: Typing) -> bool:
    """True when a cue stands just before an example list ("compares methods such as")."""
    words = gap_words(sentence[verb.at : example.at])
    return words is not None and words <= MAX_EXAMPLE_WORDS + 1  # + the cue's own word


def _matches(cue: _Cue, sentence: str, start: int, end: int) -> list[Typing]:
    found = []
    for match in cue.pattern.finditer(sentence):
        if cue.position == "before" and match.end() <= start:
            words = gap_words(sentence[match.end() : start])
        elif cue.position == "after" and match.start() >= end:
            words = gap_words(sentence[end : match.start()])
        elif cue.position == "adjacent" and match.start() >= end:
            words = None if sentence[end : match.start()].strip() else 0
        else:
            continue
        if words is not None and words <= cue.reach:
            found.append(Typing(cue.kind, match.group().strip(), words, cue.strong, match.start()))
    return found


def _rank(typing: Typing) -> tuple[int, int]:
    """Nearer first, a weak cue counting WEAK_CUE_WORDS further; at equal distance "unrelated"
    wins, then an explicit comparison, then building on, then a mention."""
    order = {UNRELATED: -1, COMPARES_WITH: 0, BUILDS_ON: 1, MENTIONS: 2}
    return (typing.words + (0 if typing.strong else WEAK_CUE_WORDS), order[typing.kind])
