"""The names a paper gives its own method, read from its title and abstract, with a confidence.

Four signals: the short name before a title's colon ("HiFi-GAN: ..."), the object of "we propose /
present / introduce X", "called / dubbed / named / namely X" (and "we refer to it as X"), and an
acronym defined next to such a cue ("angular softmax (A-Softmax)"). Pure functions over strings;
imports `text`, `knowledge.names` and `knowledge.sentences`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from speechgraph.knowledge.names import MAX_NAME_CHARS, MAX_NAME_WORDS, title_name, tokenize
from speechgraph.knowledge.sentences import split_sentences
from speechgraph.text import word_set

# Confidence by the pattern that found a name, and the `how` it is reported as. A name found by
# two different `how`s gains AGREEMENT_BONUS.
PATTERNS = {
    "title": ("title", 0.9),  # "HiFi-GAN: Generative adversarial networks for ..."
    "called": ("called", 0.9),  # "a novel CNN architecture, called SincNet"
    "lowercase": ("called", 0.65),  # "we refer to the embedding as the xi-vector"
    "propose": ("propose", 0.85),  # "we propose HiFi-GAN, which ..."
    "apposition": ("propose", 0.75),  # "we propose a new ... architecture, the Transformer, ..."
    "proposed": ("propose", 0.7),  # "with the proposed LGL"
    "acronym": ("acronym", 0.75),  # "we propose the angular softmax (A-Softmax) loss"
    "long form": ("acronym", 0.6),  # "Momentum Contrast (MoCo)" gives "Momentum Contrast" too
}
AGREEMENT_BONUS = 0.05

# Capitalised words that are never a method's own name (field terms, metrics, hardware).
GENERIC_NAMES = word_set(
    """we our this the a an in it tts asr llm llms slm slms ai ml nlp cnn cnns rnn rnns dnn dnns
    lstm gru gan gans vae gpu gpus cpu sota mos wer cer eer bleu mt st s2st s2tt vad ser sv sid
    aed mfcc mfccs plda fft stft english chinese mandarin"""
)

_WORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9+'’.\-]*[A-Za-z0-9+])?")
_SUBJECT = r"\b(?:we|paper|work|report|study|article|letter|thesis|authors)\b"
_VERB = (
    r"(?:propose[sd]?|present(?:s|ed)?|introduce[sd]?|describe[sd]?|develop(?:s|ed)?|"
    r"design(?:s|ed)?|curate[sd]?|create[sd]?|builds?|release[sd]?|construct(?:s|ed)?|"
    r"devise[sd]?)"
)
# "we ... propose X", up to six words between the subject and the verb ("we use this pipeline to
# curate VoxCeleb"); "this work builds upon X" names an earlier method, not a new one.
_INTRO = re.compile(
    rf"{_SUBJECT}(?:\s+[\w-]+){{0,6}}?\s+(?P<verb>{_VERB})\b(?!\s+(?:up)?on\b)\s+", re.I
)
_CALLED = re.compile(
    r"\b(?:called|dubbed|named|namely|termed|coined|"
    r"(?:refer(?:red)?\s+to\s+(?:it|them|this|(?:the|our)\s+[\w-]+)\s+as)|"
    r"we\s+call\s+(?:it|them|this|(?:the|our)\s+[\w-]+))\s+",
    re.I,
)
_PROPOSED = re.compile(r"\b(?:the|our)\s+(?:newly\s+)?proposed\s+", re.I)
# Words between an introducing cue and an acronym's long form that show the long form is not the
# thing introduced: "the submission of Brno University of Technology (BUT)", "which uses ...".
_NOT_THE_OBJECT = re.compile(
    r"\b(?:of|to|for|in|on|with|from|by|into|via|as|at|which|that|who|uses?|using|used|"
    r"adopts?|employs?|applies|apply|based)\b|;",
    re.I,
)
# "we introduce A-softmax loss into speaker verification": an existing method brought somewhere.
_BROUGHT_IN = re.compile(r"^(?:\s+[\w-]+)?\s+(?:into|in)\s+(?!this\b)", re.I)
_PLAIN_WORD = re.compile(r"[A-Z][a-z]+")
_ACRONYM = re.compile(r"\(\s*(?P<short>[A-Za-z][A-Za-z0-9+\-]*[A-Za-z0-9+])\s*\)")
_APPOSITION = re.compile(r",\s+(?:the\s+)?(?=\S)")
_LOWER_NAME = re.compile(r"[a-z]+-[a-z]+")


@dataclass(frozen=True)
class IntroducedName:
    """A name the paper gives its own method; `how` is "title", "propose", "called" or "acronym"."""

    text: str
    confidence: float
    how: str


def _is_name_word(word: str) -> bool:
    """A word that can start a name: capitals inside or first ("SincNet", "Conformer"), digits with
    letters ("wav2vec", "F5-TTS"), or a dotted package name ("pyannote.audio")."""
    if word.lower() in GENERIC_NAMES and not re.search(r"[a-z].*[A-Z]|\d", word):
        return False
    return bool(
        re.search(r"[A-Z]", word)
        or (re.search(r"\d", word) and re.search(r"[A-Za-z]", word))
        or re.search(r"[a-z]\.[a-z]", word)
    )


def _is_continuation(word: str) -> bool:
    """A word that may follow a name word: another name word or a version ("2", "2.0", "v3.1")."""
    return _is_name_word(word) or bool(re.fullmatch(r"v?\d+(?:\.\d+)*[a-z]?", word))


def _name_at(text: str, start: int, *, allow_lowercase: bool = False) -> str | None:
    """The name that begins at `start` (after an optional "the"), or None.

    The name runs over name-like words up to punctuation or an ordinary word; a lowercase
    hyphenated single word ("xi-vector") counts only where `allow_lowercase`.
    """
    words: list[re.Match[str]] = []
    position = start
    while len(words) <= MAX_NAME_WORDS:
        match = _WORD.match(text, position)
        if match is None:
            break
        word = match.group()
        if not words and word.lower() == "the":
            position = _skip_space(text, match.end())
            continue
        if words and not _is_continuation(word):
            break
        if not words and not _is_name_word(word):
            if allow_lowercase and _LOWER_NAME.fullmatch(word) and _ends_phrase(text, match.end()):
                return word
            return None
        words.append(match)
        if _ends_phrase(text, match.end()):
            break
        position = _skip_space(text, match.end())
    if not words or len(words) > MAX_NAME_WORDS:
        return None
    name = text[words[0].start() : words[-1].end()]
    if len(words) == 1 and _PLAIN_WORD.fullmatch(name) and not _ends_phrase(text, words[0].end()):
        return None  # "a Bayesian formulation": a capitalised adjective, not a name
    return name if len(name) <= MAX_NAME_CHARS else None


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\n":
        position += 1
    return position


def _ends_phrase(text: str, position: int) -> bool:
    """True where punctuation (not a space) follows a word: the name cannot run on."""
    return position >= len(text) or text[position] not in " \t\n"


def _from_intro_verbs(sentence: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for match in _INTRO.finditer(sentence):
        name = _name_at(sentence, match.end())
        if name is not None:
            if not _BROUGHT_IN.match(sentence[match.end() + len(name) :]):
                found.append((name, "propose"))
            continue
        # "we propose a new simple network architecture, the Transformer, based on ...": the
        # name is an apposition to the described object, set off by commas.
        clause_end = min(
            [i for i in (sentence.find(";", match.end()), sentence.find(".", match.end())) if i > 0]
            or [len(sentence)]
        )
        for comma in _APPOSITION.finditer(sentence, match.end(), clause_end):
            candidate = _name_at(sentence, comma.end())
            after = sentence[comma.end() + len(candidate or "") :].lstrip()
            if candidate and re.match(r"(?:[,:(]|which\b|that\b|$)", after):
                found.append((candidate, "apposition"))
                break
    return found


def _from_called(sentence: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for match in _CALLED.finditer(sentence):
        name = _name_at(sentence, match.end(), allow_lowercase=True)
        if name is not None:
            found.append((name, "called" if _is_name_word(name.split()[0]) else "lowercase"))
    for match in _PROPOSED.finditer(sentence):
        name = _name_at(sentence, match.end())
        if name is not None:
            found.append((name, "proposed"))
    return found


def long_form(words: list[str], short: str) -> list[str] | None:
    """The words before an acronym that it abbreviates (Schwartz and Hearst's matching: the
    acronym's letters appear in order, the first at the start of the first word), else None."""
    letters = [char.lower() for char in short if char.isalnum()]
    window = words[-min(len(letters) + 5, 2 * len(letters)) :]
    text = " ".join(window).lower()
    position = len(text)
    for index in range(len(letters) - 1, -1, -1):
        char = letters[index]
        while True:
            position = text.rfind(char, 0, position)
            if position < 0:
                return None
            at_word_start = position == 0 or not text[position - 1].isalnum()
            if index > 0 or at_word_start:
                break
    first_word = text[:position].count(" ")
    return window[first_word:]


def _is_acronym_like(short: str) -> bool:
    """Two or more capitals ("LGL", "MoCo", "decaNLP"), or a hyphenated capital form
    ("A-Softmax"); two-letter forms ("VC", "FC") are too ambiguous to name a method."""
    capitals = sum(char.isupper() for char in short)
    return len(re.sub(r"[^A-Za-z0-9]", "", short)) >= 3 and (capitals >= 2 or "-" in short)


def _from_acronyms(sentence: str, abstract: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for match in _ACRONYM.finditer(sentence):
        short = match.group("short")
        if not _is_acronym_like(short):
            continue
        if short.lower() in GENERIC_NAMES:
            continue
        before = sentence[: match.start()]
        expansion = long_form(re.findall(r"\S+", before), short)
        if expansion is None or any(short in word for word in expansion):
            continue  # no long form, or a bogus one that runs back into a name ("CycleGAN-VC")
        if not (
            _introduces(before, expansion)
            or re.search(rf"\b(?:proposed|our)\s+{re.escape(short)}\b", abstract)
        ):
            continue
        found.append((short, "acronym"))
        phrase = " ".join(word.strip(",;:") for word in expansion)
        if all(word[:1].isupper() for word in phrase.split()) and len(phrase.split()) > 1:
            found.append((phrase, "long form"))
    return found


def _introduces(before: str, expansion: list[str]) -> bool:
    """True when the last introducing cue before an acronym has its long form as its object."""
    cues = [match.end() for match in _INTRO.finditer(before)]
    cues += [match.end() for match in _CALLED.finditer(before)]
    if not cues:
        return False
    long_form_start = before.rfind(expansion[0])
    between = before[max(cues) : long_form_start] if long_form_start >= 0 else ""
    return long_form_start >= max(cues) and not _NOT_THE_OBJECT.search(between)


def introduced_names(title: str, abstract: str | None) -> list[IntroducedName]:
    """The names a paper introduces for its own method, most confident first.

    A name found by two signals (the title's "X:" and "we propose X") gains AGREEMENT_BONUS.
    Names are merged by `tokenize`, so "FastSpeech2" and "FastSpeech 2" are one name.
    """
    abstract = abstract or ""
    candidates: list[tuple[str, str]] = []
    if (head := title_name(title)) is not None:
        candidates.append((head, "title"))
    for sentence in split_sentences(abstract):
        candidates += _from_intro_verbs(sentence)
        candidates += _from_called(sentence)
        candidates += _from_acronyms(sentence, abstract)
    merged: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for text, how in candidates:
        tokens = tuple(tokenize(text))
        if tokens and " ".join(tokens) not in GENERIC_NAMES:
            merged.setdefault(tokens, []).append((text.strip(), how))
    names = []
    for found in merged.values():
        text, pattern = max(found, key=lambda item: PATTERNS[item[1]][1])
        how, confidence = PATTERNS[pattern]
        ways = {PATTERNS[item[1]][0] for item in found}
        confidence = min(0.99, confidence + AGREEMENT_BONUS * (len(ways) - 1))
        names.append(IntroducedName(text, round(confidence, 3), how))
    return sorted(names, key=lambda name: (-name.confidence, name.text))
