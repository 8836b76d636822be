"""Property-based tests of the list parser (Hypothesis): random Markdown built from the shapes
real lists use, random unicode, random bytes, very long lines and deep nesting. The parser
returns a ParsedList (reading bytes may instead refuse them with a one-line ReadingListError),
every line it reports lies in the text, and on list-shaped input it agrees exactly with the
straightforward reference parser. The patterns rewritten to run in linear time match what the
patterns they replace matched.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from list_reference import (
    ARXIV_URL_IN_TEXT,
    AUTHOR_SURNAME_FIRST,
    HEADING,
    QUOTED_TITLE,
    TABLE_SEPARATOR,
    html_links,
    reference_parse,
)
from list_reference import extract_citation as reference_extract_citation
from list_reference import is_citation as reference_is_citation
from list_reference import markdown_links as reference_markdown_links
from list_reference import replace_links_with_text as reference_replace_links_with_text
from speechgraph import ids
from speechgraph.errors import ReadingListError
from speechgraph.lists import inline, markdown, prose
from speechgraph.lists.parser import parse_reading_list
from speechgraph.lists.registry import decode_list_bytes
from speechgraph.records import ParsedList

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- list-shaped Markdown ----------------------------------------------------------------

URLS = st.sampled_from(
    [
        "https://arxiv.org/abs/2006.11477",
        "https://arxiv.org/pdf/1706.03762v5.pdf",
        "https://arxiv.org/html/2401.03506v10",
        "https://doi.org/10.1109/ICASSP.2018.8461375",
        "https://ieeexplore.ieee.org/document/9747162",
        "https://github.com/openai/whisper",
        "https://www.youtube.com/embed/Z_ogAiVoE1g",
        "https://img.shields.io/github/stars/x/y",
        "https://blog.research.google/2019/04/specaugment.html",
        "https://medium.com/some/post",
        "https://huggingface.co/nvidia/canary-1b",
        "https://www.audacityteam.org/",
        "materials/notes.pdf",
        "www.example.org/x_(y)",
    ]
)
WORDS = st.sampled_from(
    [
        "Speech", "recognition", "with", "Transformers", "wav2vec", "2.0", "(2020).", "(2019,",
        "May).", "Smith,", "J.,", "&", "Doe,", "A.", "In", "ICASSP.", "IEEE.", "Interspeech",
        "arXiv:1612.02295", "arXiv", "preprint", '"Self-Supervised', 'Learning,"', "“Quoted",
        "title”", "**bold**", "`code`", "__init__", "~~old~~", "&amp;", "ğŸ¥‘", "🎙️", "Hautam√§ki",
        "x-vector", "i-vector", "Whisper", "(OpenAI,", "2022)", "-", "|", "[", "]", "(", ")",
        "books", "Tools", "Paper", "vs", "<br>", "2023.", "Vol.", "pp.", "1735-1742",
    ]
)  # fmt: skip


@st.composite
def inline_text(draw: st.DrawFn, depth: int = 0) -> str:
    """A line's content: words, Markdown links and images (nested), HTML links, bare URLs."""
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["word", "word", "word", "link", "image", "html", "bare"]))
        if kind == "link":
            label = draw(inline_text(depth + 1)) if depth < 2 else draw(WORDS)
            parts.append(f"[{label}]({draw(URLS)})")
        elif kind == "image":
            parts.append(f"![{draw(WORDS)}]({draw(URLS)})")
        elif kind == "html":
            template = draw(
                st.sampled_from(
                    [
                        '<a href="{}">{}</a>',
                        '<img src="{}" alt="{}">',
                        '<iframe src="{}" title="{}"></iframe>',
                    ]
                )
            )
            parts.append(template.format(draw(URLS), draw(WORDS)))
        elif kind == "bare":
            parts.append(draw(URLS))
        else:
            parts.append(draw(WORDS))
    return " ".join(parts)


CITATIONS = st.sampled_from(
    [
        "Snyder, D., & Povey, D. (2018). X-vectors: robust embeddings. In ICASSP. IEEE.",
        "Liu, W., Wen, Y. (2016). Large-margin softmax. arXiv preprint arXiv:1612.02295.",
        'R. Tao, K. A. Lee and H. Li, "Self-Supervised Speaker Recognition," ICASSP 2022',
        "Variani, E., & Lei, X. (2014, May). Deep neural networks. In ICASSP. IEEE.",
    ]
)


@st.composite
def system_section(draw: st.DrawFn) -> str:
    """One heading per system with **Paper:**/**Code:** lines, as some lists are written."""
    name = draw(st.sampled_from(["Whisper", "Qwen-Audio", "RVC vs SoftVC", "Tools"]))
    lines = [f"{'#' * draw(st.integers(2, 4))} {name}"]
    for label in draw(st.lists(st.sampled_from(["Paper", "Code", "Demo", "Blog"]), max_size=3)):
        lines.append(f"**{label}:** [{draw(WORDS)}]({draw(URLS)})<br>")
    return "\n".join(lines)


@st.composite
def cited_siblings(draw: st.DrawFn) -> str:
    """Short method names among prose citations, at one bullet depth."""
    indent = draw(st.sampled_from(["", "   "]))
    entries = draw(st.lists(st.one_of(CITATIONS, WORDS, st.just("x-vector")), max_size=5))
    return "\n".join(f"{indent}* {entry}" for entry in entries)


@st.composite
def list_line(draw: st.DrawFn) -> str:
    content = draw(inline_text())
    shape = draw(
        st.sampled_from(
            ["heading", "bold", "bullet", "bullet", "bullet", "text", "label", "table", "blank",
             "rule", "quote", "continuation", "broken link", "system", "siblings"]
        )
    )  # fmt: skip
    if shape == "system":
        return draw(system_section())
    if shape == "siblings":
        return draw(cited_siblings())
    if shape == "heading":
        return f"{'#' * draw(st.integers(1, 6))} {content}"
    if shape == "bold":
        return f"**{draw(WORDS).strip('*_')} {draw(WORDS).strip('*_')}**"
    if shape == "bullet":
        indent = draw(st.sampled_from(["", "  ", "   ", "    ", "      ", "\t"]))
        return f"{indent}{draw(st.sampled_from(['-', '*', '+', '1.', '2)']))} {content}"
    if shape == "label":
        label = draw(st.sampled_from(["Paper", "Code", "Demo", "Blog", "Github", "Dataset"]))
        return f"**{label}:** [{draw(WORDS)}]({draw(URLS)})<br>"
    if shape == "table":
        cells = draw(st.lists(inline_text(), min_size=1, max_size=3))
        rows = [f"| {' | '.join(cells)} |"]
        if draw(st.booleans()):
            rows.append("|" + "---|" * len(cells))
        rows += [f"| {' | '.join(draw(st.lists(WORDS, min_size=1, max_size=3)))} |"]
        return "\n".join(rows)
    if shape == "blank":
        return ""
    if shape == "rule":
        return "---"
    if shape == "quote":
        return f"> {content}"
    if shape == "continuation":
        return f"      {content}"
    if shape == "broken link":
        return f"- [{draw(WORDS)} {draw(WORDS)}\n]({draw(URLS)})"
    return content


LISTS = st.builds(
    lambda front, lines: front + "\n".join(lines),
    st.sampled_from(["", "---\ntitle: A list\nlink: https://arxiv.org/abs/1111.11111\n---\n"]),
    st.lists(list_line(), max_size=25),
)


def assert_lines_within(parsed: ParsedList, text: str) -> None:
    last = max(1, len(text.splitlines()))
    resources = parsed.resources + [r for m in parsed.mentions for r in m.resources]
    for line in [m.line for m in parsed.mentions] + [r.line for r in resources]:
        assert 1 <= line <= last


@FUZZ
@given(LISTS)
def test_parser_agrees_with_the_reference_on_list_shaped_markdown(text: str) -> None:
    parsed = parse_reading_list(text, "fuzz")
    assert parsed == reference_parse(text, "fuzz")
    assert_lines_within(parsed, text)


# --- anything at all -----------------------------------------------------------------------


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_parser_reads_any_unicode(text: str) -> None:
    parsed = parse_reading_list(text, "any")
    assert isinstance(parsed, ParsedList)
    assert_lines_within(parsed, text)


@FUZZ
@given(st.binary(max_size=600))
def test_any_bytes_are_read_or_refused_in_one_line(data: bytes) -> None:
    text, refusal = read_or_refuse(data)
    if text is None:
        assert "\n" not in refusal
        assert refusal.startswith("reading list random.md is ")
    else:
        assert_lines_within(parse_reading_list(text, "random"), text)


def read_or_refuse(data: bytes) -> tuple[str | None, str]:
    try:
        return decode_list_bytes(data, "random.md"), ""
    except ReadingListError as error:
        return None, str(error)


# --- long lines, deep nesting ---------------------------------------------------------------

UNITS = st.sampled_from(
    [
        "[", "]", "(", ")", "](", "[x](", "*", "**", " ", "\t", "A", "A-", "a.", "“", '"', "<",
        "<img ", '<a href="u">', "</a>", "!", "`", "|", "#", "- ", "Smith, J. ", "(2020). ",
        "https://arxiv.org/abs/2006.11477 ", "arxiv.org/", "[P](https://arxiv.org/abs/2006.11477)",
    ]
)  # fmt: skip
LONG = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@LONG
@given(
    st.lists(st.tuples(UNITS, st.integers(1, 4000)), min_size=1, max_size=4),
    st.sampled_from(["", "- ", "# ", "| ", "**Paper:** ", "- Smith, J. (2020). In ICASSP. "]),
)
def test_very_long_lines(runs: list[tuple[str, int]], prefix: str) -> None:
    text = prefix + "".join(unit * count for unit, count in runs)
    parsed = parse_reading_list(text, "long")
    assert_lines_within(parsed, text)


@LONG
@given(st.integers(1, 400), st.sampled_from(["  ", "   ", "\t"]), st.booleans())
def test_deeply_nested_bullets(depth: int, indent: str, linked: bool) -> None:
    link = " [P](https://arxiv.org/abs/2006.11477)" if linked else ""
    text = "".join(f"{indent * level}- item {level}{link}\n" for level in range(depth))
    text += "".join(f"{indent * level}- back {level}\n" for level in range(depth, -1, -1))
    parsed = parse_reading_list(text, "deep")
    assert len(parsed.mentions) == (depth if linked else 0)
    assert_lines_within(parsed, text)


@LONG
@given(st.integers(1, 3000), st.sampled_from(["", "!"]))
def test_deeply_nested_links(depth: int, image: str) -> None:
    text = "- " + f"{image}[" * depth + "x" + "](https://arxiv.org/abs/2006.11477)" * depth
    parsed = parse_reading_list(text, "nested")
    links = inline.find_links(text[2:])
    assert len(links) == min(depth, inline.MAX_LINK_NESTING)
    assert [m.line for m in parsed.mentions] == [1] * (0 if image else len(links))
    assert markdown.clean_text(text) == ("-" if image else "- x")


# --- patterns rewritten to run in linear time ------------------------------------------------

PATTERN_FUZZ = settings(max_examples=300, deadline=None)


def pieces(*alphabet: str) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(alphabet), max_size=14).map("".join)


@PATTERN_FUZZ
@given(
    pieces(
        "arxiv", "ar5iv", ".org/", "org", ".", "-", "a", "_", "é", "1", "https://", "h", "/",
        " ", ")", "'", ":", "abs/2006.11477", "\n",
    )
)  # fmt: skip
def test_arxiv_urls_in_text_match_as_before(text: str) -> None:
    before = [(m.span(), m.group()) for m in ARXIV_URL_IN_TEXT.finditer(text)]
    assert [(m.span(), m.group()) for m in ids._ARXIV_URL_IN_TEXT.finditer(text)] == before


@PATTERN_FUZZ
@given(pieces("A", "Sm", "ith", "-", "'", "’", ",", " ", "J.", "B. ", "&", "and", "(", ".", "é"))
def test_surnames_match_as_before(text: str) -> None:
    before = AUTHOR_SURNAME_FIRST.search(text) is not None
    assert (prose._AUTHOR_SURNAME_FIRST.search(text) is not None) == before


@PATTERN_FUZZ
@given(st.lists(st.one_of(WORDS, CITATIONS), max_size=8).map(" ".join))
def test_citations_are_recognised_as_before(text: str) -> None:
    assert prose.is_citation(text) == reference_is_citation(text)
    assert prose.extract_citation(text) == reference_extract_citation(text)


@PATTERN_FUZZ
@given(pieces('"', "“", "”", "abcd", "a", ",", ".", " ", "efghijkl"))
def test_quoted_titles_match_as_before(text: str) -> None:
    before, after = QUOTED_TITLE.search(text), prose._quoted_title(text)
    expected = (before.span(), before.group(1)) if before else None
    assert ((after.span(), after.group(1)) if after else None) == expected


@PATTERN_FUZZ
@given(pieces("[", "]", "(", ")", "!", "a", " ", "](", "[]", "()", "u v"))
def test_markdown_links_read_as_before(text: str) -> None:
    # Flat lines take one regex, nested ones the bracket stack: both as the recursive reader.
    assert list(inline._markdown_links(text)) == list(reference_markdown_links(text))
    assert inline.replace_links_with_text(text) == reference_replace_links_with_text(text)


@PATTERN_FUZZ
@given(
    pieces(
        "<a", "<A", ' href="u"', " href='v'", ' href=', '"', "'", ">", "</a>", "x", " ",
        "<img", "<iframe", ' src="s"', ' title="t"', "\n", "<",
    )
)  # fmt: skip
def test_html_links_match_as_before(text: str) -> None:
    after = [*inline._html_sources(text), *inline._html_anchors(text)]
    assert after == list(html_links(text))


@PATTERN_FUZZ
@given(pieces(" ", "\t", "|", "-", ":", "x", "#", "##", "#######"))
def test_line_shapes_match_as_before(text: str) -> None:
    assert markdown.is_table_separator(text) == (
        TABLE_SEPARATOR.fullmatch(text) is not None and "-" in text
    )
    before, after = HEADING.match(text), markdown._HEADING.match(text)
    assert (after.end() if after else None) == (before.start(2) if before else None)
