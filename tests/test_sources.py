"""Tests for speechgraph.lists.parser: arXiv ids, DOIs, URL kinds, text cleaning, reading files
(and refusing ones over the size limit), and parsing lists, including the five real seed lists
against the verified catalogue and against the straightforward reference parser."""

from __future__ import annotations

import csv
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from list_reference import reference_parse
from speechgraph import records
from speechgraph.config import ENVIRONMENT_VARIABLES, Settings
from speechgraph.errors import InvalidPaperId, ReadingListError
from speechgraph.ids import find_arxiv_ids_in_text, normalize_arxiv_id, parse_arxiv_url, parse_doi
from speechgraph.lists.links import classify_url
from speechgraph.lists.parser import clean_text, parse_reading_list
from speechgraph.lists.registry import (
    ListSource,
    ensure_has_papers,
    load_lists,
    read_list,
    read_list_file,
)
from speechgraph.records import Mention, ParsedList

SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"
SEEDS_DIR = SHARED_DIR / "seeds"
CATALOGUE_DIR = SHARED_DIR / "catalogue"


# --- arXiv URLs and ids ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2006.11477", ("2006.11477", None)),
        ("https://arxiv.org/abs/2006.11477v3", ("2006.11477", 3)),
        ("http://arxiv.org/pdf/2006.11477", ("2006.11477", None)),
        ("https://arxiv.org/pdf/2006.11477.pdf", ("2006.11477", None)),
        ("https://arxiv.org/pdf/2006.11477v2.pdf", ("2006.11477", 2)),
        ("https://arxiv.org/html/2401.03506v10", ("2401.03506", 10)),
        ("https://arxiv.org/format/2203.15974", ("2203.15974", None)),
        ("https://arxiv.org/abs/1806.04558.abs", ("1806.04558", None)),
        ("https://arxiv.org/pdf/2203.15974", ("2203.15974", None)),
        ("https://arxiv.org/abs/2005.07143#S3", ("2005.07143", None)),
        ("https://arxiv.org/abs/2005.07143?context=eess", ("2005.07143", None)),
        ("https://arxiv.org/abs/2005.07143/", ("2005.07143", None)),
        ("https://www.arxiv.org/abs/1706.03762", ("1706.03762", None)),
        ("https://export.arxiv.org/abs/1706.03762v5", ("1706.03762", 5)),
        ("https://ar5iv.labs.arxiv.org/html/1412.5567", ("1412.5567", None)),
        ("https://ar5iv.org/abs/1412.5567v2", ("1412.5567", 2)),
        ("arxiv.org/abs/2006.11477", ("2006.11477", None)),
        ("https://arxiv.org/abs/1412.5567", ("1412.5567", None)),
        ("https://arxiv.org/abs/cs/0112017", ("cs/0112017", None)),
        ("https://arxiv.org/abs/hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("https://arxiv.org/pdf/hep-th/9901001v2.pdf", ("hep-th/9901001", 2)),
        ("https://arxiv.org/abs/math.GT/0309136", ("math/0309136", None)),
        ("https://arxiv.org/abs/arXiv:2006.11477", ("2006.11477", None)),
    ],
)
def test_parse_arxiv_url_reads_every_form(url: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/openai/whisper",
        "https://arxiv.org/list/cs.CL/recent",
        "https://arxiv.org/abs/2006.1147",  # four digits after 2015
        "https://arxiv.org/abs/1412.55670",  # five digits before 2015
        "https://arxiv.org/abs/2013.11477",  # month 13
        "https://notarxiv.org/abs/2006.11477",
        "materials/2006.11477.pdf",
        "",
    ],
)
def test_parse_arxiv_url_rejects_other_links(url: str) -> None:
    assert parse_arxiv_url(url) is None


def test_find_arxiv_ids_in_text_reads_preprint_citations() -> None:
    text = (
        "Chung, J. S. (2018). Voxceleb2. arXiv preprint arXiv:1806.05622. Also arXiv:2005.07143v2"
    )
    assert find_arxiv_ids_in_text(text) == [("1806.05622", None), ("2005.07143", 2)]


def test_find_arxiv_ids_in_text_reads_urls_and_skips_repeats() -> None:
    text = "see https://arxiv.org/pdf/2203.15974v1.pdf and arXiv: 2203.15974 and hep-th/9901001"
    assert find_arxiv_ids_in_text(text) == [("2203.15974", 1)]


def test_find_arxiv_ids_in_text_ignores_numbers_that_are_not_ids() -> None:
    assert find_arxiv_ids_in_text("pp. 6142-6146, vol 2020.12345, 1201.12345") == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2006.11477", ("2006.11477", None)),
        (" 2006.11477v2 ", ("2006.11477", 2)),
        ("arXiv:1412.5567", ("1412.5567", None)),
        ("hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("cs/0112017", ("cs/0112017", None)),
        ("https://arxiv.org/abs/2401.03506v10", ("2401.03506", 10)),
    ],
)
def test_normalize_arxiv_id_accepts_ids_and_links(
    raw: str, expected: tuple[str, int | None]
) -> None:
    assert normalize_arxiv_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "wav2vec", "2006.1147", "10.1162/tacl_a_00618", "2006.11477x"])
def test_normalize_arxiv_id_rejects_other_strings(raw: str) -> None:
    with pytest.raises(InvalidPaperId, match="not an arXiv id"):
        normalize_arxiv_id(raw)


# --- DOIs and URL kinds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://doi.org/10.1109/ICASSP.2018.8461375", "10.1109/icassp.2018.8461375"),
        ("https://dx.doi.org/10.1016/j.csl.2019.101027", "10.1016/j.csl.2019.101027"),
        ("doi:10.1109/LSP.2018.2822810.", "10.1109/lsp.2018.2822810"),
        (
            "https://direct.mit.edu/tacl/article/doi/10.1162/tacl_a_00618/118854",
            "10.1162/tacl_a_00618",
        ),
        ("https://dl.acm.org/doi/pdf/10.1145/3613904.3642057", "10.1145/3613904.3642057"),
        (
            "https://link.springer.com/content/pdf/10.1007/978-3-030-58452-8_1.pdf",
            "10.1007/978-3-030-58452-8_1",
        ),
        ("https://ieeexplore.ieee.org/abstract/document/9747162", None),
        ("no identifier here", None),
    ],
)
def test_parse_doi(value: str, expected: str | None) -> None:
    assert parse_doi(value) == expected


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://arxiv.org/abs/1706.03762", "arxiv"),
        ("https://doi.org/10.1109/ICASSP.2018.8461375", "doi"),
        ("https://ieeexplore.ieee.org/abstract/document/9747162", "publisher"),
        ("https://aclanthology.org/2020.acl-main.1/", "publisher"),
        (
            "http://openaccess.thecvf.com/content_CVPR_2020/html/He_CVPR_2020_paper.html",
            "publisher",
        ),
        ("https://proceedings.mlr.press/v119/chen20j.html", "publisher"),
        ("https://www.isca-archive.org/interspeech_2019/park19e_interspeech.html", "publisher"),
        ("https://www.isca-speech.org/archive/Interspeech_2017/abstracts/0620.html", "publisher"),
        ("https://www.sciencedirect.com/science/article/pii/S1877050918314042/pdf", "publisher"),
        ("https://www.mdpi.com/2076-3417/13/5/3100", "publisher"),
        ("https://direct.mit.edu/tacl/article/doi/10.1162/tacl_a_00618/118854", "publisher"),
        ("https://link.springer.com/article/10.1007/s10462-020-09838-1", "publisher"),
        ("https://dl.acm.org/doi/10.1145/3613904.3642057", "publisher"),
        ("https://openreview.net/forum?id=abc", "publisher"),
        ("https://proceedings.neurips.cc/paper/2020/hash/92d1e1eb.html", "publisher"),
        ("https://distill.pub/2017/ctc/", "publisher"),
        ("https://theses.hal.science/tel-01260884/document", "publisher"),
        ("https://danielpovey.com/files/2017_interspeech_embeddings.pdf", "publisher"),
        ("https://www.cs.cmu.edu/~someone/thesis.pdf", "publisher"),
        ("https://github.com/r9y9/wavenet_vocoder", "code"),
        ("https://gitlab.com/group/project", "code"),
        ("https://huggingface.co/spaces/facebook/seamless_m4t/blob/main/app.py", "code"),
        ("https://www.kaggle.com/code/rkuo2000/coqui-tts", "code"),
        ("https://colab.research.google.com/drive/1abc", "code"),
        ("https://www.youtube.com/watch?v=YYXdXT2l-Gg&list=PL", "video"),
        ("https://www.youtube.com/embed/Z_ogAiVoE1g", "video"),
        ("https://youtu.be/Z_ogAiVoE1g", "video"),
        ("https://www.bilibili.com/video/BV1xx", "video"),
        ("https://vimeo.com/12345", "video"),
        ("https://img.shields.io/github/stars/wenet-e2e/wespeaker?style=social", "image"),
        ("https://camo.githubusercontent.com/d6c3e238b30a", "image"),
        ("https://github.com/NVIDIA/tacotron2/blob/master/tensorboard.png?raw=true", "image"),
        ("https://ziyang.tech/LSLM/pic/duplex.png", "image"),
        ("https://huggingface.co/nvidia/canary-1b", "model"),
        ("https://catalog.ngc.nvidia.com/orgs/nvidia/collections/nemo_asr", "model"),
        ("https://lajavaness.medium.com/speaker-diarization-c070a3bfea70", "blog"),
        ("https://medium.com/the-research-nest/voice-cloning-166f1b8d8595", "blog"),
        ("https://leminhnguyen.github.io/post/speech-research/speaker-diarization/", "blog"),
        ("https://blog.research.google/2019/04/specaugment-new-data-augmentation.html", "blog"),
        ("https://ai.meta.com/blog/audiobox-generating-audio/", "blog"),
        ("https://speechbrain.readthedocs.io/en/latest/tutorials/tasks/asr.html", "docs"),
        (
            "https://docs.nvidia.com/deeplearning/nemo/user-guide/docs/en/main/asr/intro.html",
            "docs",
        ),
        ("https://huggingface.co/learn/audio-course/en/chapter1/audio_data", "docs"),
        ("https://www.audacityteam.org/", "other"),
        ("materials/Voice-Processing-for-Machine-Learning.pdf", "other"),
        ("graduation-thesis.pdf", "other"),
        ("mailto:someone@example.org", "other"),
    ],
)
def test_classify_url(url: str, kind: str) -> None:
    assert classify_url(url) == kind


# --- cleaning text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ğŸ¥‘ ROADMAP: AI Speech Engineer", "ROADMAP: AI Speech Engineer"),
        ("V. Hautam√§ki and H. Li", "V. Hautamäki and H. Li"),
        ("I‚Äôm Junjie Li", "I’m Junjie Li"),
        ("Matƒõjka, P.", "Matějka, P."),
        ("âš™ï¸ PyTorch", "PyTorch"),
        ("ğŸ™ï¸ Automatic Speech Recognition (ASR)", "Automatic Speech Recognition (ASR)"),
        ("ğŸ‡»ğŸ‡³ Vietnamese Resources", "Vietnamese Resources"),
        ("years ğŸš€ğŸ‘¨â€ğŸ’»", "years"),
        ("Fine-tuning\uf8ffüìç<br><br>", "Fine-tuning"),
        ("Hautamäki, café, naïve", "Hautamäki, café, naïve"),
        ("ChatTTS - 中英对话", "ChatTTS - 中英对话"),
        ("Ê∑±ÂÖ•ÊµÖÂá∫", "深入浅出"),
        ("Norouzi, M. &amp; Hinton, G.", "Norouzi, M. & Hinton, G."),
        ("<i>Proceedings</i> of ICML<br>", "Proceedings of ICML"),
        ("**1.1 Google Sound Amplifier, 2019**", "1.1 Google Sound Amplifier, 2019"),
        ("`librosa`, `torchaudio`", "librosa, torchaudio"),
        ("[Whisper - OpenAI](https://github.com/openai/whisper)", "Whisper - OpenAI"),
        ("Wespeaker[![](https://img.shields.io/x)](https://github.com/x)", "Wespeaker"),
        ("  several \t spaces\n here ", "several spaces here"),
        ("snake_case_name stays", "snake_case_name stays"),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


# --- reading files ---------------------------------------------------------------------


def test_read_list_file_returns_text(tmp_path: Path) -> None:
    path = tmp_path / "list.md"
    path.write_text("# Papers\n* [Paper](https://arxiv.org/abs/2006.11477)\n", encoding="utf-8")
    assert read_list_file(path).startswith("# Papers")


def test_read_list_file_accepts_latin1_text(tmp_path: Path) -> None:
    path = tmp_path / "list.md"
    path.write_bytes("# Lectures de Hautamäki\n".encode("latin-1"))
    assert "Hautam" in read_list_file(path)


def test_read_list_file_missing(tmp_path: Path) -> None:
    path = tmp_path / "nope.md"
    with pytest.raises(ReadingListError, match=r"nope\.md does not exist"):
        read_list_file(path)


def test_read_list_file_directory(tmp_path: Path) -> None:
    with pytest.raises(ReadingListError, match="is a directory"):
        read_list_file(tmp_path)


def test_read_list_file_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.md"
    path.write_text("# x\n", encoding="utf-8")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ReadingListError, match=r"cannot read .*locked\.md.*permissions"):
        read_list_file(path)


@pytest.mark.parametrize(
    "data",
    [b"# list\x00\x00\x01\x02binary", bytes(range(256)) * 8, b"\x89PNG\r\n\x1a\n" + bytes(400)],
)
def test_read_list_file_binary(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "image.md"
    path.write_bytes(data)
    with pytest.raises(ReadingListError, match=r"image\.md is not text"):
        read_list_file(path)


@pytest.mark.parametrize("data", [b"", b"  \n\n\t\n"])
def test_read_list_file_empty(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(data)
    with pytest.raises(ReadingListError, match=r"empty\.md is empty"):
        read_list_file(path)


# --- the size limit ---------------------------------------------------------------------

MB = 1024 * 1024
LIST_LINE = b"* [Paper](https://arxiv.org/abs/2006.11477)\n"


def _list_of(size: int) -> bytes:
    return (LIST_LINE * (size // len(LIST_LINE) + 1))[:size]


def test_max_list_mb_setting_defaults_to_64_and_reads_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Settings.load(data_dir=tmp_path).max_list_mb == 64.0
    assert ENVIRONMENT_VARIABLES["max_list_mb"] == "SPEECHGRAPH_MAX_LIST_MB"
    monkeypatch.setenv("SPEECHGRAPH_MAX_LIST_MB", "0.5")
    assert Settings.load(data_dir=tmp_path).max_list_mb == 0.5


def test_read_list_file_refuses_a_list_over_the_limit_before_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.md"
    path.write_bytes(_list_of(MB + MB // 10))

    def never(self: Path) -> bytes:
        raise AssertionError(f"{self} was read although it is over the limit")

    monkeypatch.setattr(Path, "read_bytes", never)
    expected = (
        r"reading list .*huge\.md is 1\.1 MB, over the limit of 1 MB "
        r"\(SPEECHGRAPH_MAX_LIST_MB\): split the list or raise the limit$"
    )
    with pytest.raises(ReadingListError, match=expected):
        read_list_file(path, max_list_mb=1)


def test_read_list_file_reads_a_list_at_the_limit_whole(tmp_path: Path) -> None:
    path = tmp_path / "full.md"
    path.write_bytes(_list_of(MB // 4))
    text = read_list_file(path, max_list_mb=0.25)
    assert len(text) == MB // 4
    assert len(parse_reading_list(text, "full").mentions) == MB // 4 // len(LIST_LINE)


def test_an_extra_list_over_the_limit_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "extra.md"
    path.write_bytes(_list_of(2048))
    source = ListSource("extra", path=path)
    with pytest.raises(ReadingListError, match="SPEECHGRAPH_MAX_LIST_MB"):
        load_lists([], [source], offline=True, timeout=1, max_list_mb=0.001)
    [loaded] = load_lists([], [source], offline=True, timeout=1, max_list_mb=0.01)
    assert len(loaded.parsed.mentions) == 2048 // len(LIST_LINE)


@pytest.fixture
def list_server() -> Iterator[str]:
    """A local server of one 2 KB reading list, at /list.md."""
    body = _list_of(2048)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/list.md"
    finally:
        server.shutdown()
        server.server_close()


def test_read_list_refuses_a_url_over_the_limit(list_server: str) -> None:
    source = ListSource("remote", url=list_server)
    with pytest.raises(ReadingListError, match=r"over the limit .*SPEECHGRAPH_MAX_LIST_MB"):
        read_list(source, offline=False, timeout=5, max_list_mb=0.001)
    text, origin = read_list(source, offline=False, timeout=5, max_list_mb=0.01)
    assert (len(text), origin) == (2048, "url")


def test_ensure_has_papers() -> None:
    parsed = parse_reading_list("# Videos\n* [Talk](https://www.youtube.com/watch?v=x)\n", "v")
    with pytest.raises(ReadingListError, match=r"videos\.md has no paper links"):
        ensure_has_papers(parsed, "videos.md")
    ensure_has_papers(parse_reading_list("[P](https://arxiv.org/abs/2006.11477)", "p"), "p.md")


# --- parsing small lists ---------------------------------------------------------------


def _parse(text: str) -> ParsedList:
    return parse_reading_list(text, "sample")


def test_parse_tracks_headings_and_lines() -> None:
    text = (
        "---\ntitle: Awesome Speech\nlink: https://arxiv.org/abs/1111.11111\n---\n"
        "# ğŸ¥‘ Speech\n\n## ASR <br><br>\n- ğŸŒ¿ [Attention](https://arxiv.org/abs/1706.03762v5)\n"
    )
    parsed = _parse(text)
    [mention] = parsed.mentions
    assert mention.section == "Speech > ASR"
    assert (mention.line, mention.kind, mention.link_text) == (8, records.ARXIV, "Attention")
    assert (mention.arxiv_id, mention.version, mention.list_name) == ("1706.03762", 5, "sample")
    assert parsed.sections == ["Speech", "Speech > ASR"]


def test_parse_bold_pseudo_headings_and_bullet_groups() -> None:
    text = (
        "# Others\n**7.1 ASR: Automatic Speech Recognition**\n"
        "  - [Paper](https://arxiv.org/abs/2212.04356)\n"
        "# Speaker\n* **Overview**\n   * [Survey](https://arxiv.org/abs/2407.15188)\n"
        "* x-vector\n   * [X](https://arxiv.org/abs/2005.07143)\n"
    )
    sections = [mention.section for mention in _parse(text).mentions]
    assert sections == [
        "Others > 7.1 ASR: Automatic Speech Recognition",
        "Speaker > Overview",
        "Speaker > x-vector",
    ]


def test_parse_table_row_keeps_cell_context() -> None:
    text = (
        "| Year | Milestone | Model / Paper |\n|---|---|---|\n"
        "| 2014 | End-to-end ASR "
        "| DeepSpeech ([Hannun et al.](https://arxiv.org/abs/1412.5567)) |\n"
        "| 2021 | Multilingual speech models | Whisper (OpenAI, 2022) |\n"
    )
    first, second = _parse(text).mentions
    assert (first.link_text, first.reference, first.arxiv_id) == (
        "Hannun et al.",
        "DeepSpeech (Hannun et al.)",
        "1412.5567",
    )
    assert (second.kind, second.title, second.year, second.line) == (
        records.TEXT,
        "Whisper",
        2022,
        4,
    )


def test_parse_link_text_broken_over_lines() -> None:
    text = (
        "- 2024. [Dynamic-SUPERB Phase-2: with 180 Tasks\n](https://arxiv.org/abs/2411.05361)<br>\n"
    )
    [mention] = _parse(text).mentions
    assert mention.link_text == "Dynamic-SUPERB Phase-2: with 180 Tasks"
    assert (mention.line, mention.year) == (1, 2024)


def test_parse_labelled_lines_attach_code_and_demo() -> None:
    text = (
        "### WaveNet\n**Paper:** [WaveNet](https://arxiv.org/abs/1609.03499)<br>\n"
        "**Code:** [r9y9/wavenet_vocoder](https://github.com/r9y9/wavenet_vocoder)<br>\n"
        "**Demo:** [demo](https://r9y9.github.io/wavenet_vocoder/)<br>\n"
        "![](https://lh3.googleusercontent.com/Zy5xK)\n"
        '<iframe width="640" src="https://www.youtube.com/embed/Z_ogAiVoE1g" title="talk">'
        "</iframe>\n"
    )
    parsed = _parse(text)
    [mention] = parsed.mentions
    assert [(r.kind, r.text) for r in mention.resources] == [
        ("code", "r9y9/wavenet_vocoder"),
        ("demo", "demo"),
        ("image", ""),
        ("video", "talk"),
    ]
    assert mention.resources[-1].line == 6
    assert parsed.resources == []


def test_parse_resources_without_paper_stay_on_the_list() -> None:
    text = "# Tools\n- [Audacity](https://www.audacityteam.org/)\n![b](https://img.shields.io/x)\n"
    parsed = _parse(text)
    assert parsed.mentions == []
    assert [(r.kind, r.section, r.line) for r in parsed.resources] == [
        ("other", "Tools", 2),
        ("image", "Tools", 3),
    ]


def test_parse_paper_label_on_a_blog_link_is_a_text_mention() -> None:
    text = "### Audiobox\n**Paper:** [Audiobox: Generating audio](https://ai.meta.com/blog/audiobox/)\n"
    [mention] = _parse(text).mentions
    assert (mention.kind, mention.title, mention.url) == (
        records.TEXT,
        "Audiobox: Generating audio",
        "https://ai.meta.com/blog/audiobox/",
    )


def test_parse_research_blog_bullet_is_a_mention_but_labelled_blog_is_not() -> None:
    text = (
        "- 🧪 [SpecAugment](https://blog.research.google/2019/04/specaugment.html)\n"
        "**Blog:** [Looking to Listen](https://ai.googleblog.com/2018/04/looking.html)\n"
    )
    parsed = _parse(text)
    assert [m.title for m in parsed.mentions] == ["SpecAugment"]
    assert [r.kind for r in parsed.mentions[0].resources] == ["blog"]


def test_parse_pdf_and_publisher_links_are_publisher_mentions() -> None:
    text = (
        "- [X-vector Paper](https://danielpovey.com/files/2017_interspeech_embeddings.pdf)\n"
        "- 2023. [Speak, Read and Prompt](https://direct.mit.edu/tacl/article/doi/10.1162/tacl_a_00618/118854)\n"
        "- [My thesis](materials/graduation-thesis.pdf)\n"
    )
    parsed = _parse(text)
    first, second = parsed.mentions
    assert (first.kind, first.title) == (records.PUBLISHER, None)
    assert (second.kind, second.doi, second.title, second.year) == (
        records.PUBLISHER,
        "10.1162/tacl_a_00618",
        "Speak, Read and Prompt",
        2023,
    )
    assert [r.kind for r in first.resources + second.resources] == ["other"]


def test_parse_citation_inside_link_extracts_title() -> None:
    text = (
        '* [R. Tao, K. Aik Lee and H. Li, "Self-Supervised Speaker Recognition with '
        'Loss-Gated Learning," ICASSP 2022, pp. 6142-6146](https://ieeexplore.ieee.org/document/9747162)\n'
    )
    [mention] = _parse(text).mentions
    assert mention.kind == records.PUBLISHER
    assert mention.title == "Self-Supervised Speaker Recognition with Loss-Gated Learning"
    assert mention.year == 2022


def test_parse_text_citations_with_and_without_arxiv_ids() -> None:
    text = (
        "* Ravanelli, M., & Bengio, Y. (2018, December). Speaker recognition from raw waveform "
        "with sincnet. In 2018 IEEE spoken language technology workshop (SLT). IEEE.\n"
        "* **softmax**\n   * L-softmax: \n      Liu, W., Wen, Y., Yu, Z., & Yang, M. (2016). "
        "Large-margin softmax loss for convolutional neural networks. "
        "arXiv preprint arXiv:1612.02295.\n"
    )
    first, second = _parse(text).mentions
    assert (first.kind, first.year, first.line) == (records.TEXT, 2018, 1)
    assert first.title == "Speaker recognition from raw waveform with sincnet"
    assert (second.kind, second.arxiv_id, second.year, second.line) == (
        records.ARXIV,
        "1612.02295",
        2016,
        4,
    )
    assert second.title == "Large-margin softmax loss for convolutional neural networks"
    assert second.reference.startswith("L-softmax: Liu, W.")
    assert second.section == "softmax"


def test_parse_bare_titles_and_named_methods() -> None:
    cycle_gan = (
        "CycleGAN-VC: Non-parallel Voice Conversion Using Cycle-Consistent Adversarial Networks"
    )
    text = (
        "# Voice Conversion\n"
        f"* {cycle_gan}\n"
        "# Speaker\n* **speaker model**\n   * i-vector \n"
        "   * d-vector: Variani, E., & Lei, X. (2014, May). Deep neural networks. "
        "In ICASSP. IEEE.\n"
        "   * x-vector\n      * Snyder, D., & Povey, D. (2018). X-vectors. In ICASSP. IEEE.\n"
    )
    titles = [(m.kind, m.title, m.section) for m in _parse(text).mentions]
    assert titles == [
        (records.TEXT, cycle_gan, "Voice Conversion"),
        (records.TEXT, "i-vector", "Speaker > speaker model"),
        (records.TEXT, "Deep neural networks", "Speaker > speaker model"),
        (records.TEXT, "X-vectors", "Speaker > speaker model > x-vector"),
    ]


def test_parse_prose_bullets_are_not_citations() -> None:
    text = (
        "Some examples of this are:\n"
        "* Generating synthetic sound out of a given text (think of conversational assistants)\n"
        "* Transcribing audio signals to text.\n* Read/watch related resources\n* And much more!\n"
        "# Frameworks & Libraries\n- ⚙️ PyTorch\n- 🎵 `librosa`, `torchaudio`\n"
        "# Book recommendations\n* Understanding Deep learning [[pdf]](https://udlbook.github.io/udlbook/)\n"
        "* Reinforcement Learning [[pdf]](http://incompleteideas.net/book/RLbook2018.pdf)\n"
    )
    assert _parse(text).mentions == []


def test_parse_code_links_naming_systems() -> None:
    text = (
        "**7.1 ASR**\n  - [Whisper - OpenAI](https://github.com/openai/whisper)\n"
        "**1.2 Rogervoice, 2014**\n  - [Rogervoice](https://rogervoice.com/)\n"
        "  - [GitHub repository](https://github.com/rogervoice)\n"
        "# Toolkit\n* Wespeaker[![](https://img.shields.io/x)](https://github.com/wenet-e2e/wespeaker)\n"
    )
    parsed = _parse(text)
    [mention] = parsed.mentions
    assert (mention.kind, mention.title, mention.link_text) == (
        records.TEXT,
        "Whisper",
        "Whisper - OpenAI",
    )
    assert [r.url for r in mention.resources] == ["https://github.com/openai/whisper"]
    assert {r.kind for r in parsed.resources} == {"other", "code", "image"}


def test_parse_named_sections_in_labelled_lists() -> None:
    text = (
        "## ASR\n### Whisper\n**Paper:** [Robust](https://arxiv.org/abs/2212.04356)<br>\n"
        "### Qwen-Audio\n**Github:** [QwenLM/Qwen-Audio](https://github.com/QwenLM/Qwen-Audio)<br>\n"
        "### RVC vs SoftVC\nSome comparison.\n"
    )
    whisper, qwen = _parse(text).mentions
    assert whisper.arxiv_id == "2212.04356"
    assert (qwen.kind, qwen.title, qwen.section, qwen.line) == (
        records.TEXT,
        "Qwen-Audio",
        "ASR > Qwen-Audio",
        4,
    )
    assert [r.kind for r in qwen.resources] == ["code"]


def test_parse_keeps_repeated_ids() -> None:
    text = "- [JETS](https://arxiv.org/abs/2203.16852)\n- [NaturalSpeech](https://arxiv.org/abs/2203.16852)\n"
    assert [m.arxiv_id for m in _parse(text).mentions] == ["2203.16852", "2203.16852"]


def test_parse_several_links_on_one_line() -> None:
    text = "- ⚡ [FastSpeech](https://arxiv.org/abs/1811.00002), [FastSpeech 2](https://arxiv.org/abs/2006.04558)\n"
    assert [(m.link_text, m.arxiv_id) for m in _parse(text).mentions] == [
        ("FastSpeech", "1811.00002"),
        ("FastSpeech 2", "2006.04558"),
    ]


# --- the real seed lists ---------------------------------------------------------------


def _seed_files() -> dict[str, Path]:
    return {path.name[:3]: path for path in sorted(SEEDS_DIR.glob("*.txt"))}


@pytest.fixture(scope="module")
def seed_lists() -> dict[str, ParsedList]:
    return {
        prefix: parse_reading_list(read_list_file(path), path.stem)
        for prefix, path in _seed_files().items()
    }


def _read_tsv(name: str) -> list[dict[str, str]]:
    with (CATALOGUE_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", clean_text(text).lower())


def _same_reference(mention: Mention, written: str) -> bool:
    """Same citation: equal keys, or one key's first 60 characters inside the other
    (the catalogue keeps labels, emoji and Markdown; short keys must be equal)."""
    target = _key(written)
    for candidate in (mention.reference, mention.link_text):
        key = _key(candidate)
        if key == target or (
            min(len(key), len(target)) >= 12 and (key[:60] in target or target[:60] in key)
        ):
            return True
    return False


def test_seed_lists_are_all_present() -> None:
    assert sorted(_seed_files()) == ["000", "001", "002", "003", "004"]


def test_seed_lists_parse_as_the_straightforward_reference_does(
    seed_lists: dict[str, ParsedList],
) -> None:
    # The linear-time parser must read every seed list exactly as the rules written the
    # obvious way do: every mention, resource, section, line and title.
    for prefix, path in _seed_files().items():
        expected = reference_parse(read_list_file(path), path.stem)
        assert seed_lists[prefix] == expected, prefix
    assert sum(len(parsed.mentions) for parsed in seed_lists.values()) > 100


def test_seed_lists_link_every_catalogue_arxiv_id(seed_lists: dict[str, ParsedList]) -> None:
    facts = _read_tsv("arxiv_facts.tsv")
    assert len(facts) == 60
    linked: dict[str, set[str]] = defaultdict(set)
    for prefix, parsed in seed_lists.items():
        for mention in parsed.mentions:
            if mention.kind == records.ARXIV and mention.url:
                assert mention.arxiv_id is not None
                linked[mention.arxiv_id].add(prefix)
    for row in facts:
        assert linked[row["arxiv_id"]] == set(row["seed_files"].split(";")), row["arxiv_id"]
    assert set(linked) == {row["arxiv_id"] for row in facts}


def test_seed_lists_capture_every_text_reference(seed_lists: dict[str, ParsedList]) -> None:
    rows = _read_tsv("text_references.tsv")
    assert len(rows) == 49
    missing = []
    for row in rows:
        heading = _key(row["section_heading"].lstrip("#"))
        candidates = [
            mention
            for mention in seed_lists[row["seed_file"]].mentions
            if heading in {_key(part) for part in mention.section.split(" > ")}
            and _same_reference(mention, row["reference_as_written"])
        ]
        if not candidates:
            missing.append(row["reference_as_written"][:60])
            continue
        cited = re.search(r"arXiv:(\d{4}\.\d{4,5})", row["reference_as_written"])
        if cited:
            assert {m.arxiv_id for m in candidates} == {cited.group(1)}, row["reference_as_written"]
    assert missing == []


def test_seed_text_citations_have_titles(seed_lists: dict[str, ParsedList]) -> None:
    text_mentions = [m for m in seed_lists["001"].mentions if m.kind == records.TEXT]
    assert text_mentions
    assert all(m.title for m in text_mentions)
    titles = {m.title for m in seed_lists["001"].mentions}
    assert "Xi-vector embedding for speaker recognition" in titles
    assert "A Simple Framework for Contrastive Learning of Visual Representations" in titles
    assert "Self-Supervised Speaker Recognition with Loss-Gated Learning" in titles


def test_seed_special_links(seed_lists: dict[str, ParsedList]) -> None:
    by_url = {m.url: m for parsed in seed_lists.values() for m in parsed.mentions if m.url}
    assert (
        by_url["https://arxiv.org/html/2401.03506v10"].arxiv_id,
        by_url["https://arxiv.org/html/2401.03506v10"].version,
    ) == ("2401.03506", 10)
    assert by_url["https://arxiv.org/abs/1806.04558.abs"].arxiv_id == "1806.04558"
    assert by_url["https://arxiv.org/abs/1806.04558.abs"].version is None
    assert by_url["https://arxiv.org/pdf/2203.15974"].arxiv_id == "2203.15974"
    deep_speech = [m for m in seed_lists["004"].mentions if m.arxiv_id == "1412.5567"]
    assert [(m.link_text, m.line) for m in deep_speech] == [
        ("Hannun et al.", 38),
        ("Deep Speech: Scaling up end-to-end speech recognition", 107),
    ]
    assert deep_speech[0].reference == "DeepSpeech (Hannun et al.)"
    superb = by_url["https://arxiv.org/abs/2411.05361"]
    assert superb.link_text.endswith("Spoken Language Models with 180 Tasks")
    assert superb.line == 99


def test_seed_resources(seed_lists: dict[str, ParsedList]) -> None:
    wavenet = next(m for m in seed_lists["002"].mentions if m.arxiv_id == "1609.03499")
    assert "https://github.com/r9y9/wavenet_vocoder" in [r.url for r in wavenet.resources]
    every_resource = [
        resource
        for parsed in seed_lists.values()
        for resource in parsed.resources + [r for m in parsed.mentions for r in m.resources]
    ]
    embeds = [r for r in every_resource if "youtube.com/embed/" in r.url]
    assert len(embeds) == 10
    assert all(r.kind == "video" for r in embeds)
    badges = [r for r in every_resource if "shields.io" in r.url]
    assert len(badges) == 6
    assert all(r.kind == "image" for r in badges)
    mention_urls = {m.url for parsed in seed_lists.values() for m in parsed.mentions}
    assert not any(url and "shields.io" in url for url in mention_urls)


def test_seed_003_has_no_papers(seed_lists: dict[str, ParsedList]) -> None:
    parsed = seed_lists["003"]
    assert parsed.mentions == []
    assert len(parsed.resources) > 10
    with pytest.raises(ReadingListError, match="has no paper links"):
        ensure_has_papers(parsed, "003")


@pytest.mark.parametrize(
    "name",
    [
        "PyTorch",
        "Audacity",
        "Python Tutorial for Beginners",
        "Illustrated Transformer",
        "NIST SRE",
        "Understanding Deep learning",
        "Reinforcement Learning",
        "Sound Amplifier",
        "Rogervoice",
        "ElevenLabs",
        "Wespeaker",
    ],
)
def test_seed_non_papers_are_not_mentions(seed_lists: dict[str, ParsedList], name: str) -> None:
    for parsed in seed_lists.values():
        for mention in parsed.mentions:
            texts = (mention.link_text, mention.title or "", mention.reference)
            assert not any(text.startswith(name) for text in texts), (parsed.name, mention)


def test_seed_sections_are_clean(seed_lists: dict[str, ParsedList]) -> None:
    for parsed in seed_lists.values():
        for section in parsed.sections:
            assert not re.search(r"[ğŸâ€]|<br>|\*\*|#{2,}", section), section
    assert (
        "Speaker Recognition/Verification > speaker model > x-vector" in seed_lists["001"].sections
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("cond-mat.mes-hall/0001001", ("cond-mat/0001001", None)),
        ("physics.acc-ph/0101001v2", ("physics/0101001", 2)),
        ("math.GT/0309136", ("math/0309136", None)),
    ],
)
def test_old_style_ids_with_long_subject_classes(
    raw: str, expected: tuple[str, int | None]
) -> None:
    assert normalize_arxiv_id(raw) == expected
